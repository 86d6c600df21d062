import sharp from 'sharp';
import { ssim } from 'ssim.js';
import { decodeGif } from './gif-frames.js';

/**
 * SSIM between a live screenshot and a rendered frame. The screenshot is scaled to the frame's size
 * (the render draws the recorded viewport scaled into the GIF width); `frameHeight` leaves out a footer.
 */
export async function ssimAgainstLive(livePng: Buffer, rgba: Uint8Array | Uint8ClampedArray, width: number, frameHeight: number): Promise<number> {
  const live = await sharp(livePng).resize(width, frameHeight, { fit: 'fill' }).ensureAlpha().raw().toBuffer();
  const frame = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, width * frameHeight * 4);
  const { mssim } = ssim(
    { data: new Uint8ClampedArray(live.buffer, live.byteOffset, live.length), width, height: frameHeight },
    { data: frame, width, height: frameHeight },
  );
  return mssim;
}

/** Mean SSIM of two GIFs of the same clip, comparing the pictures on screen every 100 ms of GIF time. */
export function gifSimilarity(a: Buffer, b: Buffer): number {
  return compareGifs(a, b).mean;
}

/**
 * Two GIFs of the same clip compared on the pictures on screen every 100 ms of GIF time: the mean
 * SSIM, and the lowest with its time (a mean over a long clip hides one wrong frame).
 */
export function compareGifs(a: Buffer, b: Buffer): { mean: number; min: number; minAtMs: number } {
  const ga = decodeGif(a);
  const gb = decodeGif(b);
  if (ga.durationMs !== gb.durationMs || ga.width !== gb.width || ga.height !== gb.height) return { mean: 0, min: 0, minAtMs: 0 };
  let sum = 0;
  let n = 0;
  let min = 1;
  let minAtMs = 0;
  for (let t = 0; t < ga.durationMs; t += 100) {
    const fa = ga.frames.findLast((f) => f.startMs <= t)!;
    const fb = gb.frames.findLast((f) => f.startMs <= t)!;
    const s = ssim({ data: fa.rgba, width: ga.width, height: ga.height }, { data: fb.rgba, width: gb.width, height: gb.height }).mssim;
    if (s < min) [min, minAtMs] = [s, t];
    sum += s;
    n++;
  }
  return { mean: sum / n, min, minAtMs };
}
