// One render of a saved bench recording with the engine of the checkout `tree` (see bench/engine-vs-tree.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startHeavySite } from '../../test/support/heavy-sites.js';
import { FIXTURE_ROOTS, startSite } from '../../test/support/site-server.js';
import { HEAVY_MOMENT } from '../../test/support/heavy-journeys.js';
import { FIXTURE_WINDOW } from '../rows/fixture.js';
import { MOTION_MOMENT } from '../rows/motion.js';

interface Stored {
  origin: string;
  raw: unknown[];
}
interface Result {
  wallMs: number;
  captured: number;
  gif: Buffer;
  timings: unknown;
}

const [tree, recordings, which] = process.argv.slice(2) as [string, string, string];
const mod = (p: string) => import(pathToFileURL(join(tree, p)).href);
const { renderRecording } = (await mod('src/render/render.ts')) as { renderRecording: (e: unknown[], o: object, c: object) => Promise<Result> };
const { DEFAULT_RENDER_OPTIONS } = (await mod('src/render/types.ts')) as { DEFAULT_RENDER_OPTIONS: object };
const stored = JSON.parse(await readFile(join(recordings, `${which}.json`), 'utf8')) as Stored;
const port = Number(new URL(stored.origin).port);
const close =
  which === 'fixture' ? (await startSite(port)).close : which === 'motion' ? (await startSite({ port, root: FIXTURE_ROOTS.motion })).close : (await startHeavySite(port)).server.close;
const { startS, endS } = which === 'fixture' ? FIXTURE_WINDOW : which === 'motion' ? MOTION_MOMENT : HEAVY_MOMENT;
try {
  const from = performance.now();
  const r = await renderRecording(stored.raw, { ...DEFAULT_RENDER_OPTIONS, startS, endS, allowOrigins: [stored.origin] }, {});
  // wallMs is the render's own figure (to the GIF); closedMs also counts closing its browser.
  const closedMs = Math.round(performance.now() - from);
  console.log(JSON.stringify({ which, wallMs: r.wallMs, closedMs, captured: r.captured, bytes: r.gif.length, timings: r.timings }));
} finally {
  await close();
}
