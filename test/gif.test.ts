import { describe, expect, it } from 'vitest';
import { InputError } from '../src/recording/errors.js';
import { GifWriter, PaletteSampler } from '../src/render/gif.js';
import { decodeGif } from './support/gif-frames.js';

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
