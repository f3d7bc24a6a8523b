import { spawn } from 'node:child_process';

/*
 * Last-resort cleanup for the drills' private PostgreSQL servers and service processes, for when
 * afterAll never runs (the test process is killed, or interrupted with Ctrl-C). Hooks on `process`
 * cannot do it: inside a Jest test file `process` is a sandboxed copy whose 'exit' and signal events
 * never fire. So each resource gets a watchdog: a detached shell that polls this test process and,
 * once it is gone, runs the cleanup command. The normal path disarms the watchdog (kills it).
 */

/** Runs `shellCommand` once this process has exited; returns a function that disarms the watchdog. */
export function afterTestProcessDies(shellCommand: string): () => void {
  const watchdog = spawn(
    'sh',
    ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; ${shellCommand}`],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  watchdog.unref();
  let armed = true;
  return () => {
    if (!armed) return;
    armed = false;
    try {
      if (watchdog.pid) process.kill(watchdog.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
}

/** Quotes one word for sh. */
export const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
