// One render of a saved bench recording with the engine of the checkout `tree` (see bench/engine-vs-tree.ts).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { scoreMoments, shotsInWindow } from '../../test/support/moments.js';
import { openStored, type StoredName } from './stored-recording.js';

interface Result {
  wallMs: number;
  captured: number;
  gif: Buffer;
  timings: unknown;
  pictureSource?: string;
}

const [tree, recordings, which, latencyMs = '0'] = process.argv.slice(2) as [string, string, StoredName, string?];
const mod = (p: string) => import(pathToFileURL(join(tree, p)).href);
const { renderRecording } = (await mod('src/render/render.ts')) as { renderRecording: (e: unknown[], o: object, c: object) => Promise<Result> };
const { DEFAULT_RENDER_OPTIONS } = (await mod('src/render/types.ts')) as { DEFAULT_RENDER_OPTIONS: object };
// The site `latencyMs` away (every answer that late), as one across the internet.
const stored = await openStored(recordings, which, { latencyMs: Number(latencyMs) });
try {
  const from = performance.now();
  const r = await renderRecording(stored.raw, { ...DEFAULT_RENDER_OPTIONS, startS: stored.startS, endS: stored.endS, allowOrigins: [stored.origin] }, {});
  // wallMs is the render's own figure (to the GIF); closedMs also counts closing its browser.
  const closedMs = Math.round(performance.now() - from);
  // SSIM against the recording's live screenshots in the window, measured by this checkout's code whichever engine drew the GIF.
  const firstTs = (stored.raw[0] as { timestamp: number }).timestamp;
  const shots = shotsInWindow(stored.shots, firstTs, stored.startS, stored.endS).map((s) => ({ ...s, png: Buffer.from(s.png, 'base64') }));
  const moments = (await scoreMoments(r.gif, shots, firstTs + stored.startS * 1000, stored.viewport)).map((m) => [m.label, m.ssim]);
  console.log(JSON.stringify({ which, wallMs: r.wallMs, closedMs, captured: r.captured, bytes: r.gif.length, pictureSource: r.pictureSource, timings: r.timings, moments }));
} finally {
  await stored.close();
}
