import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { cacheSuccesses } from '../util/cache.js';
import type { PictureLayout, PixelBox } from './geometry.js';
import type { Pointer } from './player-protocol.js';

/**
 * The mouse pointer, drawn by Node on the frames rather than by the page: a slot where only the
 * pointer moved (a person's mouse is rarely still) is then no picture for the browser to take,
 * only the last one with the pointer drawn where it now is (BENCHMARKS.md, stop 20). The player
 * says where rrweb placed its cursor (player-protocol.ts); a move that changes what is hovered
 * still changes the page, and the browser's picture shows that.
 *
 * The cursor is rrweb's own image, read from the stylesheet of the rrweb build the player bundles,
 * so it looks as rrweb's Replayer draws it.
 */
const RRWEB_STYLESHEET = '@posthog/rrweb/dist/style.css';
/** Side of the raster the cursor image is drawn at once; each frame's pointer is averaged down from it. */
const SPRITE_PX = 128;

/**
 * The cursor image as a summed-area table of its premultiplied RGBA (0-1): the colour of any
 * rectangle of it, fractional edges included, is four lookups, so the pointer is drawn at any size
 * and sub-pixel position with each output pixel the exact average of the image under it.
 */
export interface PointerSprite {
  side: number;
  /** (side + 1)^2 entries of 4 channels: the sums over [0, x) x [0, y). */
  sums: Float64Array;
}

/** rrweb's cursor, rasterized once per process. */
export const pointerSprite = cacheSuccesses<void, PointerSprite>(async () => spriteOf(await rrwebCursorSvg()));

async function rrwebCursorSvg(): Promise<Buffer> {
  const css = await readFile(createRequire(import.meta.url).resolve(RRWEB_STYLESHEET), 'utf8');
  const block = /\.replayer-mouse\s*\{([^}]*)\}/.exec(css)?.[1] ?? '';
  const data = /url\(\s*['"]?data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)['"]?\s*\)/.exec(block)?.[1];
  if (!data) throw new Error(`no cursor image in ${RRWEB_STYLESHEET} (.replayer-mouse background-image)`);
  return Buffer.from(data, 'base64');
}

async function spriteOf(svg: Buffer): Promise<PointerSprite> {
  // background-size: contain, centred, as rrweb's box shows it; rasterized well above SPRITE_PX.
  const { data } = await sharp(svg, { density: 300 })
    .resize(SPRITE_PX, SPRITE_PX, { fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = SPRITE_PX + 1;
  const sums = new Float64Array(n * n * 4);
  for (let y = 0; y < SPRITE_PX; y++) {
    const row = new Float64Array(4);
    for (let x = 0; x < SPRITE_PX; x++) {
      const p = (y * SPRITE_PX + x) * 4;
      const a = data[p + 3]! / 255;
      row[0]! += (data[p]! / 255) * a;
      row[1]! += (data[p + 1]! / 255) * a;
      row[2]! += (data[p + 2]! / 255) * a;
      row[3]! += a;
      const at = ((y + 1) * n + x + 1) * 4;
      const above = (y * n + x + 1) * 4;
      for (let c = 0; c < 4; c++) sums[at + c] = sums[above + c]! + row[c]!;
    }
  }
  return { side: SPRITE_PX, sums };
}

/** The pointer's square in output pixels: its top left corner and side. */
function squareOf(p: Pointer, layout: PictureLayout): { x: number; y: number; side: number } {
  return { x: p.x * layout.scale, y: p.y * layout.scale, side: p.size * layout.scale };
}

/** The pixels the pointer touches, clipped to the picture area (not the footer); undefined when none. */
export function pointerBox(p: Pointer | null, layout: PictureLayout): PixelBox | undefined {
  if (!p || !(p.size > 0)) return undefined;
  const s = squareOf(p, layout);
  const x0 = Math.max(0, Math.floor(s.x));
  const y0 = Math.max(0, Math.floor(s.y));
  const x1 = Math.min(layout.width, Math.ceil(s.x + s.side));
  const y1 = Math.min(layout.frameHeight, Math.ceil(s.y + s.side));
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : undefined;
}

/** Draws the pointer over a frame's RGBA (`layout.width` pixels wide), in the picture area only. */
export function drawPointer(rgba: Uint8Array, p: Pointer | null, layout: PictureLayout, sprite: PointerSprite): void {
  const box = pointerBox(p, layout);
  if (!box || !p) return;
  const s = squareOf(p, layout);
  const k = sprite.side / s.side;
  const avg = new Float64Array(4);
  for (let y = box.y; y < box.y + box.h; y++) {
    const v0 = (y - s.y) * k;
    const v1 = v0 + k;
    for (let x = box.x; x < box.x + box.w; x++) {
      const u0 = (x - s.x) * k;
      areaMean(sprite, u0, v0, u0 + k, v1, k * k, avg);
      const a = avg[3]!;
      if (a <= 0) continue;
      const o = (y * layout.width + x) * 4;
      for (let c = 0; c < 3; c++) rgba[o + c] = Math.round(avg[c]! * 255 + rgba[o + c]! * (1 - a));
    }
  }
}

/** Mean premultiplied RGBA of the image over [u0, u1) x [v0, v1) (sprite pixels; outside it counts as transparent). */
function areaMean(sprite: PointerSprite, u0: number, v0: number, u1: number, v1: number, area: number, out: Float64Array): void {
  out.fill(0);
  addSumTo(sprite, u1, v1, 1, out);
  addSumTo(sprite, u0, v1, -1, out);
  addSumTo(sprite, u1, v0, -1, out);
  addSumTo(sprite, u0, v0, 1, out);
  for (let c = 0; c < 4; c++) out[c]! /= area;
}

/**
 * Adds `sign` times the image's sum over [0, u) x [0, v), all four channels, to `out`: the table
 * interpolated bilinearly, which is exact for an image of constant pixels.
 */
function addSumTo(sprite: PointerSprite, u: number, v: number, sign: number, out: Float64Array): void {
  const n = sprite.side;
  u = u <= 0 ? 0 : u >= n ? n : u;
  v = v <= 0 ? 0 : v >= n ? n : v;
  const i = Math.min(n - 1, Math.floor(u));
  const j = Math.min(n - 1, Math.floor(v));
  const fu = u - i;
  const fv = v - j;
  const w = n + 1;
  const t = sprite.sums;
  const pa = (j * w + i) * 4;
  const pd = pa + w * 4;
  for (let c = 0; c < 4; c++) {
    const a = t[pa + c]!;
    const b = t[pa + 4 + c]!;
    const d = t[pd + c]!;
    const e = t[pd + 4 + c]!;
    out[c]! += sign * (a + (b - a) * fu + (d - a) * fv + (a - b - d + e) * fu * fv);
  }
}
