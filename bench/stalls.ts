// Renders short moments of the example journey over and over, several at once in pooled browsers
// (as a worker does, a browser per render, recycled after 50), with a short page-call deadline,
// and counts the renders that stall (a call to the page that never answers):
//   npx tsx bench/stalls.ts [renders=240] [at once=4] [moment starts in s=40,48] [deadline ms=15000]
// Found in stop 39: begin-frames of the moments around 41.3-41.8 s (the journey scrolls an element
// there) now and then never answer with 4 renders on 2 cores (RELIABILITY.md). Since stop 40 such a
// render starts again in a fresh browser: `restarted` counts them, with their walls.
import { isRasterizerError } from '../src/errors.js';
import { readRecordingFile } from '../src/recording/parse.js';
import { BrowserPool } from '../src/render/browser-pool.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';

const [rendersArg = '240', atOnceArg = '4', startsArg = '40,48', deadlineArg = '15000'] = process.argv.slice(2);
const renders = Number(rendersArg);
const atOnce = Number(atOnceArg);
const starts = startsArg.split(',').map(Number);
const deadlineMs = Number(deadlineArg);
const { events } = await readRecordingFile(new URL('../examples/journey.json.gz', import.meta.url).pathname);
const pool = new BrowserPool({ recycleAfter: 50 });
// restarted: renders a stall made start again in a fresh browser (render.ts), as the worker's do;
// stalled: renders that failed on one all the same (stalled twice, or before the restart existed).
const counts = { renders, done: 0, restarted: 0, stalled: 0, failed: 0 };
const restartMs: number[] = [];
const started = performance.now();

async function loop(first: number): Promise<void> {
  for (let i = first; i < renders; i += atOnce) {
    // Three starts 100 ms apart around each: the slots fall at other times of the recording.
    const startS = starts[i % starts.length]! + (i % 3) * 0.1;
    const lease = await pool.acquire();
    const from = performance.now();
    try {
      const result = await renderRecording(
        events,
        { ...DEFAULT_RENDER_OPTIONS, startS, endS: startS + 4, fps: 5, width: 320 },
        { browser: lease.browser, replaceBrowser: (reason) => lease.replace(reason), pageCallTimeoutMs: deadlineMs },
      );
      counts.done++;
      if (result.restarts) {
        counts.restarted++;
        restartMs.push(result.wallMs);
        console.log(JSON.stringify({ render: i, startS, ms: result.wallMs, restarted: true }));
      }
    } catch (err) {
      const message = (err as Error).message;
      // The code the worker closes a browser on (queue/processor.ts).
      if (isRasterizerError(err, 'page_unresponsive')) {
        counts.stalled++;
        await lease.discard(message);
      } else counts.failed++;
      console.log(JSON.stringify({ render: i, startS, ms: Math.round(performance.now() - from), error: message }));
    } finally {
      await lease.release();
    }
  }
}

await Promise.all(Array.from({ length: atOnce }, (_, k) => loop(k)));
console.log(JSON.stringify({ ...counts, restarted_wall_ms: restartMs, at_once: atOnce, starts, deadline_ms: deadlineMs, wall_s: Math.round((performance.now() - started) / 100) / 10 }));
await pool.close();
