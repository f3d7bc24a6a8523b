/**
 * Where the CPU went in a V8 profile, by package or source folder:
 *
 *   node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx scripts/bench/run.ts --only postgresql --levels 32 --read-
 * sizes 0
 *   npx tsx scripts/bench/cpu-profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25] [--window FROM,TO]
 *
 * `--window` keeps only the samples between FROM and TO seconds after the profile started (e.g. the timed loop of one
 * level, whose start and end run.ts prints as seconds since the process started), and prints the wall time covered.
 *
 * Self time of every sampled function is charged to a category: the npm package it lives in,
 * `src/<folder>` or `scripts/<folder>` of this repository, `node:<module>` for Node's own
 * JavaScript, or V8's pseudo-frames ((garbage collector), (program), (idle)). A second table charges
 * the same time to the nearest caller in a package or in this repository, so that native work
 * (socket writes, JSON) shows up under whoever asked for it.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function categoryOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const internal = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (internal) return `node:${internal[1]!.replace(/\.js$/, '')}`;
  const local = /\/(src|scripts|test)\/([^/]+)(?:\/([^/]+))?/.exec(url);
  if (local)
    return local[1] === 'src' && local[2] === 'features' && local[3]
      ? `src/features/${local[3]}`
      : `${local[1]}/${local[2]!.replace(/\.ts$/, '')}`;
  return url;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, window: { type: 'string' } },
  });
  const top = Number(values.top);
  const [from, to] = values.window === undefined ? [0, Infinity] : values.window.split(',').map(Number);
  for (const file of positionals) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const byCategory = new Map<string, number>();
    const byFunction = new Map<string, number>();
    const byCaller = new Map<string, number>();
    const parentOf = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
    const isOwner = (category: string) => !category.startsWith('(') && !category.startsWith('node:');
    const ownerOf = (id: number): string => {
      for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
        const category = categoryOf(byId.get(current)!.callFrame);
        if (isOwner(category)) return category;
      }
      return categoryOf(byId.get(id)!.callFrame);
    };
    let total = 0;
    let elapsedMicros = 0;
    let wallMicros = 0;
    profile.samples.forEach((id, i) => {
      const node = byId.get(id)!;
      const micros = profile.timeDeltas[i] ?? 0;
      elapsedMicros += micros;
      if (elapsedMicros < from! * 1e6 || elapsedMicros > to! * 1e6) return;
      wallMicros += micros;
      if (node.callFrame.functionName === '(idle)') return;
      total += micros;
      const category = categoryOf(node.callFrame);
      byCategory.set(category, (byCategory.get(category) ?? 0) + micros);
      const name = `${node.callFrame.functionName || '(anonymous)'} ${category}:${node.callFrame.lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
      const owner = ownerOf(id);
      byCaller.set(owner, (byCaller.get(owner) ?? 0) + micros);
    });
    const print = (title: string, map: Map<string, number>) => {
      console.log(`\n${title}`);
      for (const [name, micros] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
        console.log(
          `${((micros / total) * 100).toFixed(1).padStart(6)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`,
        );
      }
    };
    console.log(
      `${file}: ${(total / 1000).toFixed(0)} ms of CPU, not counting idle, in ${(wallMicros / 1000).toFixed(0)} ms of wall time`,
    );
    print('By category (self time)', byCategory);
    print('By nearest package or repository caller', byCaller);
    print('By function (self time)', byFunction);
  }
}

main();
