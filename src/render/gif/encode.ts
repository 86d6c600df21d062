import { InputError } from '../../errors.js';
import { GifEncoder, type EncodeInput, type EncodeOutput } from './budget.js';
import { GifWriter } from './writer.js';

/** Called with each clip's frames before they are encoded: the budget benchmark re-encodes a render's frames step by step. */
export const encodeTaps = new Set<(input: EncodeInput) => void>();

/**
 * The GIF of a rendered clip (the engine's one call): the frames on a shared palette, fitted in
 * the byte budget when there is one. `plain` is the benchmark's naive baseline: every frame whole
 * with a palette of its own; it does not degrade, so over budget it fails.
 */
export async function encodeClip(input: EncodeInput & { plain?: boolean }): Promise<EncodeOutput> {
  for (const tap of encodeTaps) tap(input);
  if (!input.plain) return new GifEncoder(input).fit();
  const writer = new GifWriter(input.width, input.height, input.sampler.palette(), { paletteEveryFrame: true });
  for (const f of input.frames) writer.addFrame(await f.rgba(), f.delayCs);
  const gif = writer.finish();
  if (input.maxBytes !== undefined && gif.length > input.maxBytes) {
    throw new InputError(`the GIF does not fit its byte budget of ${input.maxBytes} bytes: ${gif.length} bytes (the plain method does not degrade)`, 'over_budget');
  }
  return { gif, frames: writer.stats.frames, localPalettes: writer.stats.localPalettes, settings: { lossy: 0, colors: 256 } };
}
