// The engine of another checkout against this one, on recordings saved by `npm run bench --
// --reuse-recordings <dir>`, each render in a process of its own, interleaved:
//   git worktree add /tmp/before 40c12e2 && (cd /tmp/before && npm ci)
//   npx tsx bench/engine-vs-tree.ts /tmp/before /tmp/benchrec rustdoc 2 [origin latency ms]
// Prints one JSON line per render (wall to the GIF, and to the browser closed; captures, bytes,
// RenderResult.timings as that tree reports them; SSIM at each live screenshot in the window, by this checkout's measure).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { STORED_NAMES } from './lib/stored-recording.js';

const [other, recordings, which = 'rustdoc', runsArg = '2', latencyArg = '0'] = process.argv.slice(2);
if (!other || !recordings || !(STORED_NAMES as readonly string[]).includes(which)) {
  console.error(`usage: tsx bench/engine-vs-tree.ts <other checkout> <recordings dir> <${STORED_NAMES.join('|')}> [runs] [origin latency ms]`);
  process.exit(2);
}
const here = resolve(import.meta.dirname, '..');
const child = resolve(import.meta.dirname, 'lib', 'tree-render.ts');
for (let i = 0; i < Number(runsArg); i++) {
  for (const [label, tree] of [['other', resolve(other)], ['this ', here]] as const) {
    // Run from the tree itself, so that its own dependencies (rrweb, sharp, gifenc) are the ones loaded.
    const out = execFileSync(process.execPath, ['--import', 'tsx', child, tree, resolve(recordings), which, latencyArg], { cwd: tree, encoding: 'utf8', maxBuffer: 1 << 26 });
    console.log(label, out.trim().split('\n').pop());
  }
}
