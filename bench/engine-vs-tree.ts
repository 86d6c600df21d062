// The engine of another checkout against this one, on recordings saved by `npm run bench --
// --reuse-recordings <dir>`, each render in a process of its own, interleaved:
//   git worktree add /tmp/before 40c12e2 && (cd /tmp/before && npm ci)
//   npx tsx bench/engine-vs-tree.ts /tmp/before /tmp/benchrec rustdoc 2 [origin latency ms]
// Prints one JSON line per render (wall to the GIF, and to the browser closed; captures, bytes,
// RenderResult.timings as that tree reports them; SSIM at each live screenshot in the window, by this checkout's measure),
// then each tree's median wall and timings. The trees take turns going first (other, this; this,
// other; ...), so that an even number of runs gives each tree the same places: in stop 58 a tree
// that always went second came out 110 ms slower with both trees doing the same work, and in two
// pairs a render right after the other tree's was 160-240 ms slower than one that went first or
// followed its own tree's (BENCHMARKS.md).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { median } from './lib/measure.js';
import { STORED_NAMES } from './lib/stored-recording.js';

const [other, recordings, which = 'rustdoc', runsArg = '2', latencyArg = '0'] = process.argv.slice(2);
if (!other || !recordings || !(STORED_NAMES as readonly string[]).includes(which)) {
  console.error(`usage: tsx bench/engine-vs-tree.ts <other checkout> <recordings dir> <${STORED_NAMES.join('|')}> [runs] [origin latency ms]`);
  process.exit(2);
}
const here = resolve(import.meta.dirname, '..');
const child = resolve(import.meta.dirname, 'lib', 'tree-render.ts');
type Label = 'other' | 'this ';
const trees: [Label, string][] = [['other', resolve(other)], ['this ', here]];
const results = new Map<Label, { wallMs: number; timings: Record<string, number> }[]>();
for (let i = 0; i < Number(runsArg); i++) {
  for (const [label, tree] of i % 2 === 0 ? trees : [...trees].reverse()) {
    // Run from the tree itself, so that its own dependencies (rrweb, sharp, gifenc) are the ones loaded.
    const out = execFileSync(process.execPath, ['--import', 'tsx', child, tree, resolve(recordings), which, latencyArg], { cwd: tree, encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = out.trim().split('\n').pop()!;
    console.log(label, line);
    const r = JSON.parse(line) as { wallMs: number; timings: Record<string, number> };
    results.set(label, [...(results.get(label) ?? []), r]);
  }
}
for (const [label] of trees) {
  const runs = results.get(label) ?? [];
  if (!runs.length) continue;
  const keys = ['launchMs', 'initMs', 'firstStepMs', 'replayMs', 'captureMs', 'encodeMs'];
  const parts = keys.map((k) => `${k.replace(/Ms$/, '')} ${median(runs.map((r) => Number(r.timings[k] ?? 0)))}`).join(', ');
  console.log(`${label} median of ${runs.length}: wall ${median(runs.map((r) => r.wallMs))} ms (${parts})`);
}
