// What a playing video costs a render: records a page playing the given video file (rrweb's
// recorder, test/support/recorder.ts), renders 6 s of it `runs` times, and prints each render's
// wall, pictures and bytes (BENCHMARKS.md, stop 24). The repo holds no large video; make one with
// ffmpeg, for example:
//   ffmpeg -f lavfi -i "testsrc2=s=1280x720:r=30:d=8" -c:v libx264 -pix_fmt yuv420p -b:v 1M -an -movflags +faststart hd.mp4
//
//   npx tsx bench/video-cost.ts <video file> [runs]
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseRecording } from '../src/recording/parse.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { recordJourney } from '../test/support/recorder.js';
import { startSite } from '../test/support/site-server.js';

const [file, runsArg = '3'] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/video-cost.ts <video file> [runs]');
  process.exit(2);
}
const type = extname(file) === '.webm' ? 'video/webm' : 'video/mp4';
const html = `<!doctype html><html><body style="margin: 0"><h1 style="font: 24px sans-serif; margin: 20px">A page with a video</h1>
  <video src="/video" autoplay muted loop playsinline style="display: block; width: 960px; height: 540px; margin: 0 20px"></video></body></html>`;
const site = await startSite({
  generated: new Map([
    ['/video.html', { body: Buffer.from(html), type: 'text/html' }],
    ['/video', { body: await readFile(file), type }],
  ]),
});
const browser = await launchBrowser();
try {
  const rec = await recordJourney(site.origin, async ({ page, origin, idle }) => {
    await page.goto(`${origin}/video.html`);
    await idle(7000);
    // The recording ends with its last event.
    await page.mouse.move(1100, 700);
    await idle(200);
  });
  const events = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
  for (let i = 0; i < Number(runsArg); i++) {
    const r = await renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0.5, endS: 6.5, allowOrigins: [site.origin] }, { browser });
    const t = r.timings;
    console.log(JSON.stringify({ file, wallMs: r.wallMs, captured: r.captured, frames: r.frames, bytes: r.gif.length, stepMedianMs: t.stepMedianMs, replayMs: t.replayMs, captureMs: t.captureMs, encodeMs: t.encodeMs }));
  }
} finally {
  await browser.close();
  await site.close();
}
