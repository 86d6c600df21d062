import { decompressFrames, parseGIF } from 'gifuct-js';

/** One picture of a GIF as a viewer shows it (patches composited), and when it is on screen. */
export interface ShownFrame {
  startMs: number;
  delayMs: number;
  rgba: Uint8ClampedArray;
}

export interface DecodedGif {
  width: number;
  height: number;
  frames: ShownFrame[];
  durationMs: number;
}

/** Decodes a GIF with an independent decoder (gifuct-js) and composites each frame over the last. */
export function decodeGif(gif: Uint8Array): DecodedGif {
  const parsed = parseGIF(gif.buffer.slice(gif.byteOffset, gif.byteOffset + gif.byteLength) as ArrayBuffer);
  const width = parsed.lsd.width;
  const height = parsed.lsd.height;
  const raw = decompressFrames(parsed, true);
  const canvas = new Uint8ClampedArray(width * height * 4);
  const frames: ShownFrame[] = [];
  let t = 0;
  for (const f of raw) {
    const { left, top, width: w, height: h } = f.dims;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = (y * w + x) * 4;
        if (f.patch[s + 3] === 0) continue;
        const d = ((top + y) * width + left + x) * 4;
        canvas[d] = f.patch[s]!;
        canvas[d + 1] = f.patch[s + 1]!;
        canvas[d + 2] = f.patch[s + 2]!;
        canvas[d + 3] = 255;
      }
    }
    frames.push({ startMs: t, delayMs: f.delay, rgba: canvas.slice() });
    t += f.delay;
    if (f.disposalType === 2) {
      for (let y = 0; y < h; y++) canvas.fill(0, ((top + y) * width + left) * 4, ((top + y) * width + left + w) * 4);
    }
  }
  return { width, height, frames, durationMs: t };
}

/** The frame on screen `ms` after the GIF starts. */
export function frameAt(gif: DecodedGif, ms: number): ShownFrame {
  let shown = gif.frames[0]!;
  for (const f of gif.frames) {
    if (f.startMs <= ms) shown = f;
    else break;
  }
  return shown;
}
