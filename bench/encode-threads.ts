// The encode on one thread against two (src/render/gif/part.ts), as the service's worker runs them:
// one process, one browser for every render, the second thread alive or not in turn.
//   npx tsx bench/encode-threads.ts <recordings dir> <fixture|motion|rustdoc|mdbook|reading> [pairs] [max bytes]
// Renders one pair first to warm the process up (not printed), then prints each render's encode and
// wall, and whether every GIF was the same. With a byte budget (the service's default: 1048576), the
// budget's steps and whole encodes too: its lossy encodes run on two threads as well (GifWriter.part),
// so the two threads' GIFs differ from one thread's by a few pixels redrawn.
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { closePartWorker, partWorkerReady } from '../src/render/gif.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { openStored, STORED_NAMES, type StoredName } from './lib/stored-recording.js';

const [recordings, which, pairsArg = '4', bytesArg] = process.argv.slice(2) as [string, StoredName, string?, string?];
const maxBytes = bytesArg === undefined ? undefined : Number(bytesArg);
if (!recordings || !STORED_NAMES.includes(which) || (maxBytes !== undefined && !(maxBytes >= 4096))) {
  console.error(`usage: tsx bench/encode-threads.ts <recordings dir> <${STORED_NAMES.join('|')}> [pairs] [max bytes]`);
  process.exit(2);
}
const stored = await openStored(recordings, which);
const browser = await launchBrowser();
const gifs = new Set<string>();
try {
  for (let k = 0; k <= Number(pairsArg); k++) {
    for (const threads of [1, 2]) {
      if (threads === 2) await partWorkerReady();
      else await closePartWorker();
      const r = await renderRecording(stored.raw as RrwebEvent[], { ...DEFAULT_RENDER_OPTIONS, startS: stored.startS, endS: stored.endS, allowOrigins: [stored.origin], maxBytes }, { browser });
      gifs.add(r.gif.toString('base64'));
      const budget = r.budget ? { steps: r.budget.steps.join(' '), encodes: r.budget.encodes, twoThreadEncodes: r.budget.twoThreadEncodes } : {};
      if (k > 0) console.log(JSON.stringify({ which, threads, encodeMs: r.timings.encodeMs, wallMs: r.wallMs, captureMs: r.timings.captureMs, bytes: r.gif.length, ...budget }));
    }
  }
  console.log(`${gifs.size === 1 ? 'every GIF the same' : `${gifs.size} different GIFs (a page with transitions is not byte-stable: BENCHMARKS.md stop 29)`}`);
} finally {
  await browser.close();
  await closePartWorker();
  await stored.close();
}
