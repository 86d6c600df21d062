import sharp from 'sharp';
import { ssim } from 'ssim.js';

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
