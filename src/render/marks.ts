import type { PictureLayout, PixelBox } from './geometry.js';
import type { Pointer, Ripple } from './player-protocol.js';
import { drawPointer, pointerBox, type PointerSprite } from './pointer.js';
import { drawRipples, rippleBox, sameRipples } from './ripples.js';

/**
 * What Node draws over the browser's picture of a slot: the click ripples, then the pointer above
 * them. Frames that share a picture differ only by their marks.
 */
export interface Marks {
  ripples: Ripple[];
  pointer: Pointer | null;
}

export function sameMarks(a: Marks, b: Marks): boolean {
  const p = a.pointer;
  const q = b.pointer;
  return sameRipples(a.ripples, b.ripples) && (p === q || (!!p && !!q && p.x === q.x && p.y === q.y && p.size === q.size));
}

/** The box the marks cover on the picture (output pixels), or undefined when nothing is drawn. */
export function marksBox(m: Marks, layout: PictureLayout): PixelBox | undefined {
  return unionBox(rippleBox(m.ripples, layout), pointerBox(m.pointer, layout));
}

/** Draws the marks onto a frame's RGBA (`layout.width` pixels wide). */
export function drawMarks(rgba: Uint8Array, m: Marks, layout: PictureLayout, sprite: PointerSprite): void {
  drawRipples(rgba, m.ripples, layout);
  drawPointer(rgba, m.pointer, layout, sprite);
}

/** The smallest box holding both (either may be missing). */
export function unionBox(a: PixelBox | undefined, b: PixelBox | undefined): PixelBox | undefined {
  if (!a || !b) return a ?? b;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}
