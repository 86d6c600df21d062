import { describe, expect, it } from 'vitest';
import { ColourTable, GifWriter, type MappedFrame, type Palette } from '../src/render/gif.js';
import { ByteSink } from '../src/render/gif/bytes.js';
import { encodeFlexible, encodeLossless } from '../src/render/gif/lzw.js';
import { lossyMaxDiff } from '../src/render/gif/writer.js';
import { decodeGif } from './support/gif-frames.js';

/** A deterministic pseudo-random source, so a failure replays. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomPalette(n: number, rand: () => number): Palette {
  const seen = new Set<number>();
  const out: Palette = [];
  while (out.length < n) {
    const c = [Math.floor(rand() * 256), Math.floor(rand() * 256), Math.floor(rand() * 256)];
    const k = (c[0]! << 16) | (c[1]! << 8) | c[2]!;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(c);
  }
  return out;
}

function gifOf(width: number, height: number, table: ColourTable, frames: Uint8Array[], lossy = 0): Buffer {
  const w = new GifWriter(width, height, table, { lossy });
  for (const index of frames) w.add({ index, table, local: false } satisfies MappedFrame, 10);
  return w.finish();
}

/** The colour each index stands for, as RGBA rows (what a decoder should show). */
function expected(index: Uint8Array, palette: Palette): Uint8Array {
  const out = new Uint8Array(index.length * 4);
  index.forEach((s, i) => {
    const c = palette[s]!;
    out.set([c[0]!, c[1]!, c[2]!, 255], i * 4);
  });
  return out;
}

/** Photo-like indices: a smooth field of similar colours with grain, over a palette sorted by brightness. */
function photo(width: number, height: number, palette: Palette, rand: () => number, shift = 0): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = (Math.sin((x + shift) / 23) + Math.cos(y / 17) + 2) / 4;
      const grain = (rand() - 0.5) * 0.08;
      out[y * width + x] = Math.max(0, Math.min(palette.length - 1, Math.round((v + grain) * (palette.length - 1))));
    }
  }
  return out;
}

/** A palette along a colour ramp (neighbouring entries are near colours, as in a real picture's palette). */
function ramp(n: number): Palette {
  return Array.from({ length: n }, (_, i) => [Math.round((i * 255) / (n - 1)), Math.round(40 + (i * 180) / (n - 1)), Math.round(200 - (i * 150) / (n - 1))]);
}

const sq = (a: ArrayLike<number>, b: ArrayLike<number>, i: number) => (a[i]! - b[i]!) ** 2 + (a[i + 1]! - b[i + 1]!) ** 2 + (a[i + 2]! - b[i + 2]!) ** 2;

describe('LZW', () => {
  it('round-trips through an independent decoder at every code size, across dictionary clears', () => {
    const rand = rng(7);
    for (const colours of [2, 3, 7, 15, 31, 63, 127, 255]) {
      const palette = randomPalette(colours, rand);
      const table = new ColourTable(palette);
      const width = 301;
      const height = 97;
      // Short random runs: the 4096-code dictionary fills and is cleared several times per frame.
      const index = new Uint8Array(width * height);
      for (let i = 0; i < index.length; ) {
        const s = Math.floor(rand() * colours);
        for (let r = 1 + Math.floor(rand() * 4); r > 0 && i < index.length; r--) index[i++] = s;
      }
      const decoded = decodeGif(gifOf(width, height, table, [index])).frames[0]!.rgba;
      expect(Buffer.from(decoded).equals(Buffer.from(expected(index, palette))), `${colours} colours`).toBe(true);
    }
  });

  it('round-trips frames over frames, each pixel the screen already shows coded transparent or as its colour', () => {
    const rand = rng(19);
    for (const colours of [3, 31, 255]) {
      const palette = randomPalette(colours, rand);
      const table = new ColourTable(palette);
      const width = 211;
      const height = 89;
      // Each frame keeps a random share of the last one's pixels (in runs) and changes the rest.
      const frames: Uint8Array[] = [];
      let last = new Uint8Array(width * height).map(() => Math.floor(rand() * colours));
      frames.push(last);
      for (let f = 0; f < 5; f++) {
        const next = last.slice();
        for (let i = 0; i < next.length; ) {
          const change = rand() < 0.4;
          for (let r = 1 + Math.floor(rand() * 6); r > 0 && i < next.length; r--, i++) if (change) next[i] = Math.floor(rand() * colours);
        }
        frames.push(next);
        last = next;
      }
      const decoded = decodeGif(gifOf(width, height, table, frames)).frames;
      expect(decoded.length).toBe(frames.length);
      decoded.forEach((d, k) => expect(Buffer.from(d.rgba).equals(Buffer.from(expected(frames[k]!, palette))), `${colours} colours, frame ${k}`).toBe(true));
    }
  });

  it('codes a pixel the screen already shows whichever way makes the longer strings: fewer bytes than transparent alone', () => {
    // An area of one colour drawn anew, then more of it where every other pixel was already on
    // screen: transparent alone codes a new pattern there, the colour keeps the runs it has learnt.
    const t = 2;
    const own = new Uint8Array(20_000).fill(1);
    const pixels = own.map((s, i) => (i >= 10_000 && i % 2 ? t : s));
    const flexible = new ByteSink();
    encodeFlexible(pixels, own, t, 2, flexible);
    const transparentOnly = new ByteSink();
    encodeLossless(pixels, 2, transparentOnly);
    expect(flexible.length).toBeLessThan(transparentOnly.length * 0.7);
  });

  it('round-trips long flat runs and a one-pixel image', () => {
    const palette: Palette = [[255, 255, 255], [0, 0, 0]];
    const table = new ColourTable(palette);
    const flat = new Uint8Array(1000 * 700);
    flat.fill(1, 350_000, 350_001);
    expect(Buffer.from(decodeGif(gifOf(1000, 700, table, [flat])).frames[0]!.rgba).equals(Buffer.from(expected(flat, palette)))).toBe(true);
    const one = decodeGif(gifOf(1, 1, table, [Uint8Array.of(1), Uint8Array.of(0)]));
    expect(one.frames.map((f) => Array.from(f.rgba))).toEqual([[0, 0, 0, 255], [255, 255, 255, 255]]);
  });
});

describe('lossy LZW', () => {
  const width = 320;
  const height = 200;
  const palette = ramp(255);
  const table = new ColourTable(palette);
  const rand = rng(11);
  // A photo scrolling sideways: every frame changes almost everywhere.
  const frames = [0, 3, 6, 9].map((shift) => photo(width, height, palette, rand, shift));
  const lossless = gifOf(width, height, table, frames);
  const exact = decodeGif(lossless);

  it('lossy 0 is the lossless encoding', () => {
    expect(gifOf(width, height, table, frames, 0).equals(lossless)).toBe(true);
  });

  for (const level of [20, 80, 200]) {
    it(`lossy ${level}: decodes, every pixel of every frame within the error threshold, and smaller`, () => {
      const gif = gifOf(width, height, table, frames, level);
      const decoded = decodeGif(gif);
      expect(decoded.frames.length).toBe(frames.length);
      const maxDiff = lossyMaxDiff(level);
      let worst = 0;
      let changed = 0;
      const signed = [0, 0, 0];
      decoded.frames.forEach((f, k) => {
        const want = exact.frames[k]!.rgba;
        for (let i = 0; i < f.rgba.length; i += 4) {
          const e = sq(f.rgba, want, i);
          if (e > worst) worst = e;
          if (e) changed++;
          for (let c = 0; c < 3; c++) signed[c]! += f.rgba[i + c]! - want[i + c]!;
        }
      });
      expect(worst).toBeLessThanOrEqual(maxDiff);
      expect(changed).toBeGreaterThan(0);
      expect(gif.length).toBeLessThan(lossless.length * (level >= 80 ? 0.8 : 0.95));
      // Error diffusion: the errors do not all lean one way (no colour cast over the picture).
      const pixels = decoded.frames.length * width * height;
      for (const s of signed) expect(Math.abs(s / pixels)).toBeLessThan(Math.sqrt(maxDiff) / 4);
    });
  }

  it('carries the error along a run, so areas keep their mean colour', () => {
    // What error diffusion buys: the mean colour of each 8x8 block stays close to the original.
    // Measured on this picture at lossy 200: block-mean RMS error 2.41 with diffusion, 3.71 without.
    const level = 200;
    const index = frames[0]!;
    const want = expected(index, palette);
    const shown = decodeGif(gifOf(width, height, table, [index], level)).frames[0]!.rgba;
    let sum = 0;
    let blocks = 0;
    for (let by = 0; by < height; by += 8) {
      for (let bx = 0; bx < width; bx += 8) {
        const e = [0, 0, 0];
        for (let y = by; y < by + 8; y++) for (let x = bx; x < bx + 8; x++) for (let c = 0; c < 3; c++) e[c]! += shown[(y * width + x) * 4 + c]! - want[(y * width + x) * 4 + c]!;
        sum += e.reduce((a, v) => a + (v / 64) ** 2, 0) / 3;
        blocks++;
      }
    }
    expect(Math.sqrt(sum / blocks)).toBeLessThan(3);
  });

  it('keeps transparent pixels honest: what shows through stays within the threshold of what should be there', () => {
    // A page where only a small part changes, by a little, frame after frame: the lossy writer may
    // leave close-enough pixels as they are, but the error must not build up across frames.
    const base = photo(width, height, palette, rand);
    const seq: Uint8Array[] = [];
    for (let k = 0; k < 8; k++) {
      const f = base.slice();
      for (let y = 50; y < 150; y++) for (let x = 40; x < 200; x++) f[y * width + x] = Math.min(254, base[y * width + x]! + k);
      seq.push(f);
    }
    const level = 60;
    const decoded = decodeGif(gifOf(width, height, table, seq, level));
    expect(decoded.frames.length).toBeLessThan(seq.length + 1);
    let worst = 0;
    for (let k = 0, t = 0; k < seq.length; k++, t += 100) {
      const shown = decoded.frames.filter((f) => f.startMs <= t).at(-1)!.rgba;
      const want = expected(seq[k]!, palette);
      for (let i = 0; i < want.length; i += 4) worst = Math.max(worst, sq(shown, want, i));
    }
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(lossyMaxDiff(level));
  });
});
