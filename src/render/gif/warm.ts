import { PaletteSampler } from './palette.js';
import { ColourTable, FrameMapper, GifWriter } from './writer.js';

const W = 96;
const H = 64;
const FRAMES = 8;

/**
 * Runs the encode's code, lossless and lossy, on a small made-up clip (text over white, a photo-like band,
 * scrolled, with frames that change nothing and one that changes a little), so that V8 has compiled
 * its hot loops before the first real part comes to the encode's second thread (part.ts): a fresh
 * thread runs them in V8's first tiers. 50-55 ms the first time, on the new thread (15 ms warm).
 */
export function warmEncoder(): void {
  const doc = page();
  const frames: Uint8Array[] = [];
  for (let k = 0; k < FRAMES; k++) {
    const scroll = k < 3 ? 0 : Math.min(doc.rows - H, (k - 2) * 5);
    const f = doc.rgba.slice(scroll * W * 4, (scroll + H) * W * 4);
    // A caret that blinks: a frame that differs in a few pixels only.
    if (k % 3 === 1) for (let y = 20; y < 30; y++) f.fill(0, (y * W + 40) * 4, (y * W + 42) * 4);
    frames.push(f);
  }
  const sampler = new PaletteSampler();
  for (const f of frames) sampler.add(f);
  const palette = sampler.palette();
  const writer = new GifWriter(W, H, palette);
  for (const f of frames) writer.addFrame(f, 10);
  writer.finish();
  // The byte budget's encodes: lossy, whole and as a part that follows another writer's frames.
  const lossy = new GifWriter(W, H, palette, { lossy: 80 });
  const mapper = new FrameMapper(new ColourTable(palette));
  const mapped = frames.map((f, i) => mapper.map(f, i === 0));
  for (const m of mapped.slice(0, 4)) lossy.add(m, 10);
  const part = GifWriter.part(W, H, mapper.shared, mapped[3]!, { lossy: 80 });
  for (const m of mapped.slice(4)) part.add(m, 10);
  lossy.append(part.finishPart());
  lossy.finish();
}

function page(): { rgba: Uint8Array; rows: number } {
  const rows = H * 2;
  const rgba = new Uint8Array(W * rows * 4);
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < W; x++) {
      const p = (y * W + x) * 4;
      let r = 255;
      let g = 255;
      let b = 255;
      if (Math.floor(y / 24) % 3 === 2) {
        const v = Math.sin(x / 7 + y / 11) * 60 + 120 + (rand() - 0.5) * 30;
        r = v + 30;
        g = v * 0.8;
        b = 200 - v * 0.5;
      } else if (y % 12 < 7 && x % 50 < 42 && (x * 7 + y) % 5 !== 0) {
        r = g = 24;
        b = 36;
      }
      rgba[p] = Math.max(0, Math.min(255, Math.round(r)));
      rgba[p + 1] = Math.max(0, Math.min(255, Math.round(g)));
      rgba[p + 2] = Math.max(0, Math.min(255, Math.round(b)));
      rgba[p + 3] = 255;
    }
  }
  return { rgba, rows };
}
