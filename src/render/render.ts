import type { RrwebEvent } from '../recording/types.js';
import type { RenderContext, RenderOptions, RenderResult } from './types.js';

/**
 * Renders the window [startS, endS] of a recording to a GIF. Throws InputError (src/recording/errors)
 * for anything wrong with the recording or the options; any other error is transient (retry).
 */
export async function renderRecording(
  _events: RrwebEvent[],
  _options: RenderOptions,
  _ctx: RenderContext = {},
): Promise<RenderResult> {
  throw new Error('render engine: work in progress');
}
