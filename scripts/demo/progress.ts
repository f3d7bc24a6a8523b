/** Where the demo reports progress: a bar redrawn in place on a terminal, a line now and then otherwise. */
export interface Progress {
  phase(name: string, total: number): void;
  tick(count?: number): void;
  done(): void;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const WIDTH = 30;

export function createProgress(stream: ProgressStream): Progress {
  let name = '';
  let total = 0;
  let completed = 0;
  let lastReportedTenth = -1;
  let started = Date.now();

  const render = () => {
    const fraction = total === 0 ? 1 : completed / total;
    if (stream.isTTY) {
      const filled = Math.round(fraction * WIDTH);
      stream.write(
        `\r${name.padEnd(22)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(completed).padStart(String(total).length)}/${total}`,
      );
      return;
    }
    // Off a terminal (CI logs, pipes), a line at every tenth instead of a bar.
    const tenth = Math.floor(fraction * 10);
    if (tenth !== lastReportedTenth) {
      lastReportedTenth = tenth;
      stream.write(`${name}: ${completed}/${total}\n`);
    }
  };

  const finish = () => {
    if (total === 0 && name === '') return;
    if (stream.isTTY) stream.write(` ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    name = '';
    total = 0;
  };

  return {
    phase(phaseName, phaseTotal) {
      finish();
      name = phaseName;
      total = phaseTotal;
      completed = 0;
      lastReportedTenth = -1;
      started = Date.now();
      render();
    },
    tick(count = 1) {
      completed = Math.min(total, completed + count);
      render();
    },
    done: finish,
  };
}

export const silentProgress: Progress = { phase() {}, tick() {}, done() {} };

/**
 * Runs `work` over `items` with at most `limit` in flight; resolves in input order. The first
 * failure rejects once the requests already in flight have settled, so none is left dangling.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}
