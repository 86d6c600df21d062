import type { PixelBox } from '../geometry.js';
import type { Palette } from './palette.js';
import type { GifPart } from './writer.js';

/** A mapped frame on its way: its indices, and its palette when it has one of its own. */
export interface WireMapped {
  index: Uint8Array;
  palette?: Palette;
}

/**
 * Messages to the part worker, all of one job: start (with the frame before the part, mapped, and
 * the lossy level), the part's frames in order (pixels, mapped there as GifEncoder maps them, or
 * frames GifEncoder had mapped already), end.
 */
export type ToPartWorker =
  | { type: 'start'; job: number; width: number; height: number; shared: Palette; localPalettes: boolean; lossy: number; seed: WireMapped & { i: number }; returnMapped: boolean }
  | { type: 'frame'; job: number; i: number; rgba: Uint8Array; changedBox?: PixelBox; delayCs: number }
  | { type: 'mapped'; job: number; i: number; mapped: WireMapped; delayCs: number }
  | { type: 'end'; job: number };

export type FromPartWorker =
  /** A frame taken; `rgba`: its pixels' buffer, handed back to be filled again (fresh memory is slow to fault in). */
  | { type: 'took'; job: number; rgba?: Uint8Array }
  /** `mapped`: the frames it mapped itself (not those sent mapped), when asked to return them. */
  | { type: 'done'; job: number; part: GifPart; mapped: (WireMapped & { i: number })[] }
  | { type: 'error'; job: number; message: string };
