import type { PictureLayout, PixelBox } from './geometry.js';
import type { Ripple } from './player-protocol.js';

/**
 * The click ripples, drawn by Node on the frames rather than by the player on the page: a slot
 * where only a ripple changed (most of a click's half second) is then no picture for the browser to
 * take, only a copy of the last one with the ripple drawn on it (30 s moments: a fifth fewer
 * pictures; BENCHMARKS.md, stop 19). The player says where each click is on the picture and how far
 * its ripple has run (player-protocol.ts); how it looks is decided here.
 *
 * The look is the one the player drew with CSS: a disc in #f54e00 with a 3 px border and a quarter
 * opaque inside, 14 px across growing to 48 (capture pixels: the recorded page's), fading from
 * opaque to a fifth.
 */
const COLOUR = [245, 78, 0] as const;
const BORDER = 3;
const FILL_ALPHA = 0.25;
const START_DIAMETER = 14;
const GROWTH = 34;
const FADE = 0.8;

export function sameRipples(a: readonly Ripple[], b: readonly Ripple[]): boolean {
  return a.length === b.length && a.every((r, i) => r.x === b[i]!.x && r.y === b[i]!.y && r.progress === b[i]!.progress);
}

/** A ripple's circle in output pixels: centre, outer and inner radius, opacity. */
function circle(r: Ripple, scale: number): { cx: number; cy: number; outer: number; inner: number; alpha: number } {
  const p = Math.min(1, Math.max(0, r.progress));
  const outer = ((START_DIAMETER + GROWTH * p) / 2) * scale;
  return { cx: r.x * scale, cy: r.y * scale, outer, inner: Math.max(0, outer - BORDER * scale), alpha: 1 - FADE * p };
}

/** The pixels a circle can touch, clipped to the picture area (not the footer): [x0, x1) x [y0, y1). */
function pixelsOf(c: { cx: number; cy: number; outer: number }, layout: PictureLayout): { x0: number; y0: number; x1: number; y1: number } {
  return {
    x0: Math.max(0, Math.floor(c.cx - c.outer - 1)),
    y0: Math.max(0, Math.floor(c.cy - c.outer - 1)),
    x1: Math.min(layout.width, Math.ceil(c.cx + c.outer + 1)),
    y1: Math.min(layout.frameHeight, Math.ceil(c.cy + c.outer + 1)),
  };
}

/** The box the ripples cover on the picture (output pixels), or undefined when none shows. */
export function rippleBox(ripples: readonly Ripple[], layout: PictureLayout): PixelBox | undefined {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const r of ripples) {
    const b = pixelsOf(circle(r, layout.scale), layout);
    x0 = Math.min(x0, b.x0);
    y0 = Math.min(y0, b.y0);
    x1 = Math.max(x1, b.x1);
    y1 = Math.max(y1, b.y1);
  }
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : undefined;
}

/**
 * Draws the ripples onto a frame's RGBA (`layout.width` pixels wide), in the picture area only.
 * Edges are anti-aliased by how much of each pixel the circle covers, as the browser's were.
 */
export function drawRipples(rgba: Uint8Array, ripples: readonly Ripple[], layout: PictureLayout): void {
  const w = layout.width;
  for (const r of ripples) {
    const c = circle(r, layout.scale);
    const { cx, cy, outer, inner, alpha } = c;
    const { x0, y0, x1, y1 } = pixelsOf(c, layout);
    for (let y = y0; y < y1; y++) {
      const dy = y + 0.5 - cy;
      for (let x = x0; x < x1; x++) {
        const dx = x + 0.5 - cx;
        const d = Math.sqrt(dx * dx + dy * dy);
        const inOuter = clamp01(outer - d + 0.5);
        if (inOuter === 0) continue;
        const inInner = clamp01(inner - d + 0.5);
        const a = alpha * (inOuter - inInner + FILL_ALPHA * inInner);
        const p = (y * w + x) * 4;
        rgba[p] = Math.round(rgba[p]! + (COLOUR[0] - rgba[p]!) * a);
        rgba[p + 1] = Math.round(rgba[p + 1]! + (COLOUR[1] - rgba[p + 1]!) * a);
        rgba[p + 2] = Math.round(rgba[p + 2]! + (COLOUR[2] - rgba[p + 2]!) * a);
      }
    }
  }
}

function clamp01(v: number): number {
  return v <= 0 ? 0 : v >= 1 ? 1 : v;
}
