// Where one render's encode goes: npx tsx bench/encode-profile.ts <recordings dir> <fixture|motion|rustdoc|mdbook|reading> [--repeat n] [--cpu-prof out.cpuprofile]
//
// Renders a recording saved by `npm run bench -- --reuse-recordings <dir>`, keeps the frames the
// engine handed to its encoder (encodeTaps), and then, with the browser closed:
// - encodes them again `--repeat` times in this process (the first cold, the rest warm), and times
//   the palette alone; with --cpu-prof, a V8 CPU profile of the second encode (the only one with
//   --repeat 1; open it in DevTools);
// - compares the shared palette built from every frame's samples (the engine's) with ones built from
//   the first frame's only and from the first half and three quarters of the frames, as a palette
//   known before the capture ends would have to be: bytes, frames given a palette of their own, and
//   SSIM of every GIF frame against the picture captured.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { ssim } from 'ssim.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import type { EncodeInput } from '../src/render/gif/budget.js';
import { encodeClip, encodeTaps } from '../src/render/gif/encode.js';
import { PaletteSampler } from '../src/render/gif/palette.js';
import { GifWriter } from '../src/render/gif/writer.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { decodeGif, frameAt } from '../test/support/gif-frames.js';
import { openStored, STORED_NAMES, type StoredName } from './lib/stored-recording.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { repeat: { type: 'string', default: '4' }, 'cpu-prof': { type: 'string' } } });
const [recordings, which] = positionals as [string, StoredName];
const repeat = Number(values.repeat);
if (!recordings || !STORED_NAMES.includes(which) || !(repeat >= 1)) {
  console.error(`usage: tsx bench/encode-profile.ts <recordings dir> <${STORED_NAMES.join('|')}> [--repeat n] [--cpu-prof out.cpuprofile]`);
  process.exit(2);
}

const stored = await openStored(recordings, which);
const browser = await launchBrowser({}, 'begin-frame', { probe: false });
let input: EncodeInput | undefined;
const tap = (i: EncodeInput) => {
  input = i;
};
encodeTaps.add(tap);
const r = await renderRecording(stored.raw as RrwebEvent[], { ...DEFAULT_RENDER_OPTIONS, startS: stored.startS, endS: stored.endS, allowOrigins: [stored.origin] }, { browser });
encodeTaps.delete(tap);
await browser.close();
await stored.close();
if (!input) throw new Error('the render encoded nothing');
const clip = input;
console.log(`${which}: render ${r.wallMs} ms, encode inside it ${r.timings.encodeMs} ms, ${r.gif.length} bytes, ${clip.frames.length} frames`);

const session = new Session();
session.connect();
// The engine's own GIF, for the comparison below: the last encode's.
let engine: Awaited<ReturnType<typeof encodeClip>> | undefined;
for (let k = 0; k < repeat; k++) {
  const profile = k === Math.min(1, repeat - 1) && values['cpu-prof'];
  if (profile) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const from = performance.now();
  const out = (engine = await encodeClip(clip));
  const ms = performance.now() - from;
  if (profile) await writeFile(profile, JSON.stringify((await session.post('Profiler.stop')).profile));
  console.log(`encode ${k + 1} (${k === 0 ? 'cold' : 'warm'}): ${ms.toFixed(0)} ms, ${out.gif.length} bytes`);
}
const paletteFrom = performance.now();
clip.sampler.palette();
console.log(`palette alone: ${(performance.now() - paletteFrom).toFixed(0)} ms`);

// The captured pictures (marks drawn on), and when each starts in GIF time.
const { width, height } = clip;
const pictures: Uint8Array[] = [];
const startsMs: number[] = [];
let t = 0;
for (const f of clip.frames) {
  pictures.push((await f.rgba()).slice());
  startsMs.push(t * 10);
  t += f.delayCs;
}
const faithfulness = (gif: Buffer): string => {
  const decoded = decodeGif(gif);
  let sum = 0;
  let min = 1;
  pictures.forEach((p, i) => {
    const shown = frameAt(decoded, startsMs[i]!).rgba;
    const s = ssim({ data: shown, width, height }, { data: new Uint8ClampedArray(p.buffer, p.byteOffset, p.length), width, height }).mssim;
    sum += s;
    min = Math.min(min, s);
  });
  return `SSIM vs captured ${(sum / pictures.length).toFixed(4)} / ${min.toFixed(4)}`;
};
if (!engine) throw new Error('no encode ran');
console.log(`palette of every frame (the engine's): ${engine.gif.length} bytes, ${engine.localPalettes} frames with their own palette, ${faithfulness(engine.gif)}`);
// Palettes known before the capture ends, as an encode begun during the capture would need: from
// the first frame, and from the first half and three quarters of the frames (frames whose colours
// it misses get a palette of their own, as in the engine).
for (const share of [0, 0.5, 0.75]) {
  const known = Math.max(1, Math.floor(pictures.length * share));
  const early = new PaletteSampler();
  for (const p of pictures.slice(0, known)) early.add(p);
  const writer = new GifWriter(width, height, early.palette());
  pictures.forEach((p, i) => writer.addFrame(p, clip.frames[i]!.delayCs));
  const gif = writer.finish();
  const what = share === 0 ? 'the first frame' : `the first ${known} frames of ${pictures.length}`;
  console.log(`palette of ${what}: ${gif.length} bytes, ${writer.stats.localPalettes} frames with their own palette, ${faithfulness(gif)}`);
}
process.exit(0);
