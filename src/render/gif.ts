import { createRequire } from 'node:module';
import type gifencModule from 'gifenc';
import type { Palette } from 'gifenc';
import { InputError } from '../errors.js';

// gifenc's package points bundlers at an ESM build whose exports differ from its CommonJS one; load
// the CommonJS build under every loader (Node, vitest, esbuild bundles) so one shape holds.
const { GIFEncoder, applyPalette, quantize } = createRequire(import.meta.url)('gifenc') as typeof gifencModule;

/** Every Nth pixel of each captured frame goes into the shared palette's sample. */
const SAMPLE_STRIDE = 11;
/** Mean squared RGB error (on a sample) above which a frame gets a palette of its own. */
const LOCAL_PALETTE_MSE = 120;
const MAX_COLORS = 255; // the 256th index is the transparent one

/** Collects pixels from every captured frame so one palette can serve the whole GIF. */
export class PaletteSampler {
  private chunks: Uint8Array[] = [];

  add(rgba: Uint8Array): void {
    const n = Math.floor(rgba.length / 4 / SAMPLE_STRIDE);
    const out = new Uint8Array(n * 4);
    for (let i = 0, p = 0; i < n; i++, p += SAMPLE_STRIDE * 4) {
      out[i * 4] = rgba[p]!;
      out[i * 4 + 1] = rgba[p + 1]!;
      out[i * 4 + 2] = rgba[p + 2]!;
      out[i * 4 + 3] = 255;
    }
    this.chunks.push(out);
  }

  palette(): Palette {
    const total = this.chunks.reduce((s, c) => s + c.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const c of this.chunks) {
      all.set(c, o);
      o += c.length;
    }
    return quantize(all, MAX_COLORS, { format: 'rgb565' });
  }
}

function sampledError(rgba: Uint8Array, index: Uint8Array, palette: Palette): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < index.length; i += 97) {
    const c = palette[index[i]!]!;
    const p = i * 4;
    const dr = rgba[p]! - c[0]!;
    const dg = rgba[p + 1]! - c[1]!;
    const db = rgba[p + 2]! - c[2]!;
    sum += dr * dr + dg * dg + db * db;
    n++;
  }
  return n ? sum / n : 0;
}

export interface GifStats {
  frames: number;
  localPalettes: number;
}

/**
 * Writes frames as they come: pixels that look the same as what is already on screen become
 * transparent (frames composite over the previous one), a frame that changes nothing only
 * lengthens the one before it, and delays are whole centiseconds chosen by the caller.
 */
export class GifWriter {
  private readonly encoder = GIFEncoder();
  private readonly shared: Palette;
  private readonly transparentIndex: number;
  /** The colour on screen at each pixel after the frames written so far (0xRRGGBB). */
  private readonly screen: Uint32Array;
  private pending:
    | { index: Uint8Array; rect?: Rect; palette: Palette | undefined; transparent: boolean; delayCs: number }
    | undefined;
  private wroteFirst = false;
  private everChanged = false;
  private firstFlat = true;
  readonly stats: GifStats = { frames: 0, localPalettes: 0 };

  constructor(
    private readonly width: number,
    private readonly height: number,
    palette: Palette,
    /** The naive method the benchmark compares with: every frame whole, with its own palette. */
    private readonly naive: { paletteEveryFrame?: boolean } = {},
  ) {
    this.shared = palette.slice();
    this.transparentIndex = this.shared.length;
    this.shared.push([0, 0, 0]);
    this.screen = new Uint32Array(width * height);
  }

  addFrame(rgba: Uint8Array, delayCs: number): void {
    if (rgba.length !== this.width * this.height * 4) throw new Error(`frame is ${rgba.length} bytes, expected ${this.width}x${this.height} RGBA`);
    let palette = this.shared;
    let index = applyPalette(rgba, this.shared.slice(0, this.transparentIndex), 'rgb565');
    let local = false;
    if (this.naive.paletteEveryFrame) {
      const own = quantize(rgba, MAX_COLORS, { format: 'rgb565' });
      this.flush();
      this.pending = { index: applyPalette(rgba, own, 'rgb565'), palette: own.concat([[0, 0, 0]]), transparent: false, delayCs };
      this.everChanged = true;
      return;
    }
    if (this.pending !== undefined && sampledError(rgba, index, this.shared) > LOCAL_PALETTE_MSE) {
      // A page whose colours the shared palette misses (a navigation to a different design) gets its own.
      const own = quantize(rgba, MAX_COLORS, { format: 'rgb565' });
      index = applyPalette(rgba, own, 'rgb565');
      palette = own.concat([[0, 0, 0]]);
      local = true;
    }
    const transparent = palette.length - 1;
    if (this.pending === undefined) {
      const first = index[0];
      for (let i = 0; i < index.length; i++) {
        const c = palette[index[i]!]!;
        this.screen[i] = (c[0]! << 16) | (c[1]! << 8) | c[2]!;
        if (index[i] !== first) this.firstFlat = false;
      }
      this.pending = { index, palette: undefined, transparent: false, delayCs };
      return;
    }
    // Pixels already showing the right colour become transparent; the rest bound the frame's rectangle.
    let changed = 0;
    let x0 = this.width;
    let y0 = this.height;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0, i = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++, i++) {
        const c = palette[index[i]!]!;
        const rgb = (c[0]! << 16) | (c[1]! << 8) | c[2]!;
        if (rgb === this.screen[i]) index[i] = transparent;
        else {
          this.screen[i] = rgb;
          changed++;
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          y1 = y;
        }
      }
    }
    if (changed === 0) {
      this.pending.delayCs += delayCs;
      return;
    }
    this.everChanged = true;
    this.flush();
    if (local) this.stats.localPalettes++;
    const rect = { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
    this.pending = { index: crop(index, this.width, rect), rect, palette: local ? palette : undefined, transparent: true, delayCs };
  }

  private flush(): void {
    const p = this.pending;
    if (!p) return;
    const rect = p.rect ?? { x: 0, y: 0, w: this.width, h: this.height };
    const at = this.encoder.bytesView().length;
    this.encoder.writeFrame(p.index, rect.w, rect.h, {
      palette: this.wroteFirst ? p.palette : (p.palette ?? this.shared),
      delay: p.delayCs * 10,
      transparent: p.transparent,
      transparentIndex: p.palette ? p.palette.length - 1 : this.transparentIndex,
      dispose: 1,
      repeat: 0,
    });
    if (rect.x || rect.y) {
      // gifenc always places frames at 0,0; a frame's position sits right after its 8-byte graphic
      // control extension and the 0x2c image separator.
      const bytes = this.encoder.bytesView();
      if (bytes[at + 8] !== 0x2c) throw new Error('unexpected GIF layout from gifenc');
      bytes[at + 9] = rect.x & 255;
      bytes[at + 10] = rect.x >> 8;
      bytes[at + 11] = rect.y & 255;
      bytes[at + 12] = rect.y >> 8;
    }
    this.wroteFirst = true;
    this.stats.frames++;
    this.pending = undefined;
  }

  /** Finishes the GIF; a clip that is one flat colour throughout is refused rather than shipped. */
  finish(): Buffer {
    if (!this.everChanged && this.firstFlat) {
      throw new InputError('the rendered clip is blank (every frame is one flat colour): the recording shows nothing in this window');
    }
    this.flush();
    this.encoder.finish();
    return Buffer.from(this.encoder.bytes());
  }
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function crop(index: Uint8Array, width: number, r: Rect): Uint8Array {
  if (r.x === 0 && r.w === width) return index.subarray(r.y * width, (r.y + r.h) * width);
  const out = new Uint8Array(r.w * r.h);
  for (let y = 0; y < r.h; y++) out.set(index.subarray((r.y + y) * width + r.x, (r.y + y) * width + r.x + r.w), y * r.w);
  return out;
}

