import { describe, expect, it } from 'vitest';
import { InputError } from '../src/recording/errors.js';
import { createRequire } from 'node:module';
import type gifencModule from 'gifenc';
import { GifWriter, PaletteMap, PaletteSampler, type Palette } from '../src/render/gif.js';
import { quantize565 } from '../src/render/gif/pnn.js';
import { decodeGif } from './support/gif-frames.js';

const { applyPalette, quantize } = createRequire(import.meta.url)('gifenc') as typeof gifencModule;

const W = 64;
const H = 40;

/** A frame: a two-tone background with a block at (x, y) in a third colour. */
function frame(x: number, y: number, colour: [number, number, number] = [200, 30, 30]): Uint8Array {
  const px = new Uint8Array(W * H * 4);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const p = (j * W + i) * 4;
      const inBlock = i >= x && i < x + 8 && j >= y && j < y + 6;
      const c = inBlock ? colour : j < H / 2 ? [240, 240, 240] : [30, 60, 120];
      px[p] = c[0]!;
      px[p + 1] = c[1]!;
      px[p + 2] = c[2]!;
      px[p + 3] = 255;
    }
  }
  return px;
}

function write(frames: { rgba: Uint8Array; delayCs: number }[]): { gif: Buffer; writer: GifWriter } {
  const sampler = new PaletteSampler();
  for (const f of frames) sampler.add(f.rgba);
  const writer = new GifWriter(W, H, sampler.palette());
  for (const f of frames) writer.addFrame(f.rgba, f.delayCs);
  return { gif: writer.finish(), writer };
}

describe('GifWriter', () => {
  it('writes delays that add up to the exact duration, merging unchanged frames', () => {
    const frames = [
      { rgba: frame(2, 2), delayCs: 10 },
      { rgba: frame(2, 2), delayCs: 13 }, // same picture: lengthens the previous frame
      { rgba: frame(20, 10), delayCs: 7 },
      { rgba: frame(40, 30), delayCs: 333 },
    ];
    const { gif, writer } = write(frames);
    const decoded = decodeGif(gif);
    expect(writer.stats.frames).toBe(3);
    expect(decoded.frames.map((f) => f.delayMs)).toEqual([230, 70, 3330]);
    expect(decoded.durationMs).toBe(3630);
  });

  it('shows the same pictures it was given, with unchanged pixels left transparent', () => {
    const inputs = [frame(2, 2), frame(30, 12), frame(30, 12, [20, 200, 40])];
    const { gif } = write(inputs.map((rgba) => ({ rgba, delayCs: 10 })));
    const decoded = decodeGif(gif);
    decoded.frames.forEach((f, k) => {
      for (let i = 0; i < W * H * 4; i += 4) {
        // Four flat colours fit the palette exactly.
        expect([f.rgba[i], f.rgba[i + 1], f.rgba[i + 2]]).toEqual([inputs[k]![i], inputs[k]![i + 1], inputs[k]![i + 2]]);
      }
    });
  });

  it('stores only the changed rectangle of a frame', () => {
    const { gif } = write([
      { rgba: frame(2, 2), delayCs: 10 },
      { rgba: frame(3, 2), delayCs: 10 },
    ]);
    // Image descriptors: 0x2c, left, top, width, height (little endian). The second covers the block's move.
    const descriptors: { x: number; y: number; w: number; h: number }[] = [];
    for (let i = 0; i < gif.length - 9; i++) {
      if (gif[i] === 0x21 && gif[i + 1] === 0xf9 && gif[i + 8] === 0x2c) {
        const d = i + 8;
        descriptors.push({ x: gif.readUInt16LE(d + 1), y: gif.readUInt16LE(d + 3), w: gif.readUInt16LE(d + 5), h: gif.readUInt16LE(d + 7) });
      }
    }
    expect(descriptors[0]).toEqual({ x: 0, y: 0, w: W, h: H });
    expect(descriptors[1]).toEqual({ x: 2, y: 2, w: 9, h: 6 });
  });

  it('refuses a blank clip', () => {
    const grey = new Uint8Array(W * H * 4).fill(128);
    expect(() => write([{ rgba: grey, delayCs: 10 }, { rgba: grey, delayCs: 10 }])).toThrow(InputError);
    expect(() => write([{ rgba: grey, delayCs: 10 }])).toThrow(/blank/);
    // A flat first frame followed by content is not blank.
    expect(() => write([{ rgba: grey, delayCs: 10 }, { rgba: frame(1, 1), delayCs: 10 }])).not.toThrow();
  });

  it('gives a frame its own palette when the shared one misses its colours', () => {
    const warm = frame(2, 2, [250, 120, 0]);
    // A gradient of greens the shared palette (built from the first frame only) has never seen.
    const greens = new Uint8Array(W * H * 4);
    for (let i = 0; i < W * H; i++) {
      greens[i * 4 + 1] = 60 + (i % W) * 3;
      greens[i * 4 + 2] = (i / W) * 4;
      greens[i * 4 + 3] = 255;
    }
    const sampler = new PaletteSampler();
    sampler.add(warm);
    const writer = new GifWriter(W, H, sampler.palette());
    writer.addFrame(warm, 10);
    writer.addFrame(greens, 10);
    const decoded = decodeGif(writer.finish());
    expect(writer.stats.localPalettes).toBe(1);
    const last = decoded.frames[1]!.rgba;
    let err = 0;
    for (let i = 0; i < W * H * 4; i += 4) err += Math.abs(last[i + 1]! - greens[i + 1]!);
    expect(err / (W * H)).toBeLessThan(4);
  });
});

describe('exact colour', () => {
  // A near-white page's pixels in the order a frame meets them: greys and tints from text edges and
  // scaled pictures first, then the page's white. gifenc's applyPalette answers per 5-5-5 bin from
  // the first pixel it meets, so white came out as one of them.
  const nearWhites = [
    [246, 246, 246],
    [243, 243, 243],
    [250, 253, 251], // mint
    [253, 248, 250], // pink
    [248, 248, 253], // lavender
  ];
  const palette: Palette = [...nearWhites, [0, 0, 0], [6, 6, 6], [255, 255, 255], [251, 247, 240], [128, 64, 32]];

  it('maps every palette colour to itself, white to white, and anything else to its nearest entry', () => {
    const pixels = [...nearWhites.map((c) => [c[0]! + 1, c[1]!, c[2]!]), ...palette, [255, 255, 255], [254, 255, 255], [3, 3, 3]];
    const rgba = new Uint8Array(pixels.flatMap((c) => [c[0]!, c[1]!, c[2]!, 255]));
    const index = new PaletteMap(palette).map(rgba);
    const shown = Array.from(index, (i) => palette[i]);
    palette.forEach((c, k) => expect(shown[nearWhites.length + k]).toEqual(c));
    expect(shown[nearWhites.length + palette.length]).toEqual([255, 255, 255]);
    // Random colours against a brute-force search.
    const map = new PaletteMap(palette);
    let seed = 1;
    for (let n = 0; n < 20000; n++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const c = [seed & 255, (seed >> 8) & 255, (seed >> 16) & 255];
      const d = (p: number[]) => (p[0]! - c[0]!) ** 2 + (p[1]! - c[1]!) ** 2 + (p[2]! - c[2]!) ** 2;
      const best = Math.min(...palette.map(d));
      expect(d(palette[map.index((c[0]! << 16) | (c[1]! << 8) | c[2]!)]!)).toBe(best);
    }
  });

  it('(control) gifenc applyPalette maps white to a near-white it met first', () => {
    // Mint and white share a bin.
    const rgba = new Uint8Array([...nearWhites[2]!, 255, 255, 255, 255, 255]);
    const index = applyPalette(rgba, palette, 'rgb565');
    expect(palette[index[1]!]).not.toEqual([255, 255, 255]);
  });

  /** A page frame: white, a near-white panel, the shop's cream, black text with grey edges, a photo. */
  function page(shift: number): Uint8Array {
    const w = 160;
    const h = 120;
    const px = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let c: number[];
        if (y < 20) c = [251, 247, 240];
        else if (x >= 100 && y >= 60) {
          // A photo: hundreds of colours, more than the palette holds.
          const v = (x * 7 + (y + shift) * 13) % 256;
          c = [v, (v * 3 + y) % 256, (255 - v + x) % 256];
        } else if (x < 40 && y >= 40 && y < 100) c = [250, 250, 250];
        else if ((x + shift) % 12 < 2 && y % 10 < 6) c = [0, 0, 0];
        else if ((x + shift) % 12 === 2 && y % 10 < 6) c = [140 + (y % 7) * 15, 140 + (y % 7) * 15, 140 + (y % 7) * 15];
        else if ((x + shift) % 12 === 3 && y % 10 < 6) c = [243, 243, 243];
        else if ((x + y) % 17 === 0) c = [254, 254, 254];
        else c = [255, 255, 255];
        px.set([c[0]!, c[1]!, c[2]!, 255], (y * w + x) * 4);
      }
    }
    return px;
  }

  it('keeps the frames\' dominant colours exactly in the palette, and they come out exact', () => {
    const frames = [0, 3, 7].map(page);
    const sampler = new PaletteSampler();
    for (const f of frames) sampler.add(f);
    const pal = sampler.palette();
    const has = (c: number[]) => pal.some((p) => p[0] === c[0] && p[1] === c[1] && p[2] === c[2]);
    for (const c of [[255, 255, 255], [0, 0, 0], [251, 247, 240], [250, 250, 250]]) expect(has(c), c.join(',')).toBe(true);
    // (control) gifenc's quantizer alone returns the 5-5-5 bin means.
    const plain = quantize(sampler.samples(), 255, { format: 'rgb565' });
    expect([[255, 255, 255], [251, 247, 240], [250, 250, 250]].every((c) => plain.some((p) => p[0] === c[0] && p[1] === c[1] && p[2] === c[2]))).toBe(false);

    const writer = new GifWriter(160, 120, pal);
    for (const f of frames) writer.addFrame(f, 10);
    const decoded = decodeGif(writer.finish());
    let checked = 0;
    decoded.frames.forEach((shown, k) => {
      const src = frames[k]!;
      for (let i = 0; i < src.length; i += 4) {
        const c = [src[i]!, src[i + 1]!, src[i + 2]!];
        if (!has(c)) continue;
        checked++;
        expect([shown.rgba[i], shown.rgba[i + 1], shown.rgba[i + 2]]).toEqual(c);
      }
    });
    expect(checked).toBeGreaterThan(3 * 160 * 120 * 0.7);
  });
});

describe("the quantizer (gifenc's, on typed arrays)", () => {
  /** Pixels in many colours: gradients with a little noise (a fixed seed), and flat areas. */
  function busy(w: number, h: number, seed: number): Uint8Array {
    let x = seed;
    const noise = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24) % 23;
    const px = new Uint8Array(w * h * 4);
    for (let j = 0; j < h; j++)
      for (let i = 0; i < w; i++) {
        const flat = j < h / 4;
        px.set([flat ? 250 : (i * 255) / w + noise(), flat ? 247 : (j * 255) / h, flat ? 240 : ((i + j) * 127) / (w + h) + noise(), 255], (j * w + i) * 4);
      }
    return px;
  }

  it("returns gifenc's palette colour for colour, merging thousands of bins or none", () => {
    const inputs: [string, Uint8Array][] = [
      ['gradients', busy(400, 300, 1)],
      ['gradients, another seed', busy(333, 211, 7)],
      ['two frames of a page', Uint8Array.from([...frame(3, 4), ...frame(40, 20, [20, 200, 90])])],
      ['one colour', frame(0, 0).fill(128)],
    ];
    for (const [name, px] of inputs)
      for (const colours of [255, 128, 32]) {
        const theirs = quantize(px, colours, { format: 'rgb565' });
        expect(quantize565(px, colours), `${name}, ${colours} colours`).toEqual(theirs);
      }
    expect(quantize(inputs[0]![1], 255, { format: 'rgb565' }).length, 'the gradients fill the palette').toBe(255);
  });
});
