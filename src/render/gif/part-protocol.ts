import type { FrameBox } from './budget.js';
import type { Palette } from './palette.js';
import type { GifPart } from './writer.js';

/** A mapped frame on its way: its indices, and its palette when it has one of its own. */
export interface WireMapped {
  index: Uint8Array;
  palette?: Palette;
}

/**
 * Messages to the part worker, all of one job: start (with the frame before the part, mapped),
 * the part's frames in order (pixels, mapped there as GifEncoder maps them), end.
 */
export type ToPartWorker =
  | { type: 'start'; job: number; width: number; height: number; shared: Palette; localPalettes: boolean; seed: WireMapped & { i: number }; returnMapped: boolean }
  | { type: 'frame'; job: number; i: number; rgba: Uint8Array; changedBox?: FrameBox; delayCs: number }
  | { type: 'end'; job: number };

export type FromPartWorker =
  | { type: 'took'; job: number }
  | { type: 'done'; job: number; part: GifPart; mapped: (WireMapped & { i: number })[] }
  | { type: 'error'; job: number; message: string };
