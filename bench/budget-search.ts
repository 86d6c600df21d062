// How the byte budget's search goes: npx tsx bench/budget-search.ts <recordings dir> [fixture,motion,rustdoc,mdbook] [--fractions 0.9,0.75,0.6,0.45,0.3] [--threads 1,2] [--bytes 1048576]
//
// Renders each recording saved by `npm run bench -- --reuse-recordings <dir>` once (its frames kept,
// as bench/encode-profile.ts does), then, with the browser closed, fits those frames in budgets that
// are fractions of the GIF's lossless size (GifEncoder.fit, the service's path with `max_bytes`) and
// prints, per moment and budget: the search's time, its whole encodes, the steps it chose and how
// much of the budget the GIF fills. A search that needs more than two encodes (the lossless one and
// one at the chosen step) missed with its first estimate. `--threads 1,2` runs each search on one
// thread, then with the service's second thread (src/render/gif/part.ts), one after the other;
// `--bytes` adds a budget in bytes (the service's default: 1048576) to the fractions.
import { parseArgs } from 'node:util';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { GifEncoder, type EncodeInput } from '../src/render/gif/budget.js';
import { encodeTaps } from '../src/render/gif/encode.js';
import { closePartWorker, partWorkerReady } from '../src/render/gif/part.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { openStored, STORED_NAMES, type StoredName } from './lib/stored-recording.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { fractions: { type: 'string', default: '0.9,0.75,0.6,0.45,0.3' }, threads: { type: 'string', default: '1' }, bytes: { type: 'string' } },
});
const [recordings, list = 'fixture,motion,rustdoc,mdbook'] = positionals;
const names = list.split(',') as StoredName[];
const fractions = values.fractions.split(',').map(Number);
const threads = values.threads.split(',').map(Number);
const bytes = values.bytes === undefined ? undefined : Number(values.bytes);
if (!recordings || names.some((n) => !STORED_NAMES.includes(n)) || fractions.some((f) => !(f > 0 && f < 1)) || threads.some((t) => t !== 1 && t !== 2) || (bytes !== undefined && !(bytes > 0))) {
  console.error(`usage: tsx bench/budget-search.ts <recordings dir> [${STORED_NAMES.join(',')}] [--fractions 0.9,0.5] [--threads 1,2] [--bytes 1048576]`);
  process.exit(2);
}

const moments: { name: StoredName; input: EncodeInput; lossless: number }[] = [];
const browser = await launchBrowser({}, 'begin-frame', { probe: false });
try {
  for (const name of names) {
    const stored = await openStored(recordings, name);
    let input: EncodeInput | undefined;
    const tap = (i: EncodeInput) => {
      input = i;
    };
    encodeTaps.add(tap);
    try {
      const r = await renderRecording(stored.raw as RrwebEvent[], { ...DEFAULT_RENDER_OPTIONS, startS: stored.startS, endS: stored.endS, allowOrigins: [stored.origin] }, { browser });
      if (!input) throw new Error(`${name}: the render encoded nothing`);
      moments.push({ name, input, lossless: r.gif.length });
    } finally {
      encodeTaps.delete(tap);
      await stored.close();
    }
  }
} finally {
  await browser.close();
}

console.log('| moment | budget (share of lossless) | threads | search (ms) | whole encodes (on two threads) | steps | bytes | budget filled |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { name, input, lossless } of moments) {
  const budgets = [...fractions.map((f) => ({ maxBytes: Math.round(lossless * f), label: String(f) })), ...(bytes ? [{ maxBytes: bytes, label: (bytes / lossless).toFixed(2) }] : [])];
  for (const { maxBytes, label } of budgets) {
    if (maxBytes >= lossless) continue;
    for (const n of threads) {
      if (n === 1) await closePartWorker();
      if (n === 2 && !(await partWorkerReady())) throw new Error('the second thread could not be started');
      // The service's worker starts its second thread at its own start, long before an encode: a
      // thread just made is not timed (an encode through it first, as the service's first job does).
      if (n === 2) await new GifEncoder({ ...input, frames: input.frames.slice(0, 24) }).encode({ lossy: 0, colors: 256 });
      const enc = new GifEncoder({ ...input, maxBytes });
      const t = performance.now();
      try {
        const out = await enc.fit();
        const ms = Math.round(performance.now() - t);
        console.log(`| ${name} | ${maxBytes} (${label}) | ${n} | ${ms} | ${out.budget!.encodes} (${enc.splitEncodes}) | ${out.budget!.steps.join(' ') || '-'} | ${out.gif.length} | ${(out.gif.length / maxBytes).toFixed(3)} |`);
      } catch (err) {
        console.log(`| ${name} | ${maxBytes} (${label}) | ${n} | - | - | ${(err as Error).message.slice(0, 80)} | - | - |`);
      }
    }
  }
}
await closePartWorker();
