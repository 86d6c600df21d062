import { createRequire } from 'node:module';
import type gifencModule from 'gifenc';
import { InputError } from '../../errors.js';
import { ByteSink } from './bytes.js';
import { encodeFlexible, encodeLossless, encodeLossy } from './lzw.js';
import { MAX_COLORS, PaletteMap, paletteFor, type Palette } from './palette.js';

const { quantize, applyPalette } = createRequire(import.meta.url)('gifenc') as typeof gifencModule;

/** Mean squared RGB error (on a sample) above which a frame gets a palette of its own. */
const LOCAL_PALETTE_MSE = 120;

/** A palette as a GIF colour table: its colours, then the transparent entry, padded to a power of two. */
export class ColourTable {
  readonly map: PaletteMap;
  /** Index of the transparent entry (right after the colours). */
  readonly transparent: number;
  /** Entries in the table as written (a power of two, at least 2). */
  readonly size: number;
  readonly minCodeSize: number;

  constructor(readonly palette: Palette) {
    this.map = new PaletteMap(palette);
    this.transparent = palette.length;
    let bits = 1;
    while (1 << bits < palette.length + 1) bits++;
    this.size = 1 << bits;
    this.minCodeSize = Math.max(2, bits);
  }

  write(out: ByteSink): void {
    const rgb = this.map.rgb;
    for (let i = 0; i < this.size; i++) {
      const c = i < rgb.length ? rgb[i]! : 0;
      out.byte(c >> 16);
      out.byte((c >> 8) & 255);
      out.byte(c & 255);
    }
  }
}

/** A captured frame as palette indices, with the table they index. */
export interface MappedFrame {
  index: Uint8Array;
  table: ColourTable;
  /** True when the frame has a palette of its own (the shared one served it badly). */
  local: boolean;
}

/**
 * Maps captured frames to the shared palette, or to a palette of their own when the shared one
 * misses their colours (not with a reduced palette: there every frame misses some, and "fewer
 * colours" is meant for the whole GIF).
 */
export class FrameMapper {
  constructor(
    readonly shared: ColourTable,
    private readonly localPalettes = true,
  ) {}

  /** The frame's palette indices, written into `into` when given (an index array no frame needs any more). */
  map(rgba: Uint8Array, first: boolean, into?: Uint8Array): MappedFrame {
    const index = this.shared.map.map(rgba, into);
    if (first || !this.localPalettes || sampledError(rgba, index, this.shared.map.rgb) <= LOCAL_PALETTE_MSE) return { index, table: this.shared, local: false };
    // A page whose colours the shared palette misses (a navigation to a different design) gets its own.
    const table = new ColourTable(paletteFor(rgba, MAX_COLORS));
    return { index: table.map.map(rgba, index), table, local: true };
  }

  /**
   * Frame `i` of a clip: only `box` (where its marks are) looked up again when they alone moved since
   * `before`, the frame before it mapped to the shared table (remap); otherwise the whole frame. The
   * one rule for every thread that maps a clip's frames (GifEncoder, the part worker).
   */
  mapAfter(before: { i: number; m: MappedFrame } | undefined, rgba: Uint8Array, i: number, box: { x: number; y: number; w: number; h: number } | undefined, width: number, into?: Uint8Array): MappedFrame {
    return box && before?.i === i - 1 && !before.m.local ? this.remap(before.m, rgba, box, width, into) : this.map(rgba, i === 0, into);
  }

  /**
   * A frame that is `before` (mapped to the shared table) but within `box` (frames `width` pixels
   * wide): only the box's pixels are looked up again. The shared palette served `before`, so it
   * serves this frame too. Written into `into` when given, as map.
   */
  remap(before: MappedFrame, rgba: Uint8Array, box: { x: number; y: number; w: number; h: number }, width: number, into?: Uint8Array): MappedFrame {
    const index = into ?? new Uint8Array(before.index.length);
    index.set(before.index);
    const map = this.shared.map;
    for (let y = box.y; y < box.y + box.h; y++) {
      const from = y * width + box.x;
      map.map(rgba.subarray(from * 4, (from + box.w) * 4), index.subarray(from, from + box.w));
    }
    return { index, table: this.shared, local: false };
  }
}

function sampledError(rgba: Uint8Array, index: Uint8Array, rgb: Int32Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < index.length; i += 97) {
    const c = rgb[index[i]!]!;
    const p = i * 4;
    const dr = rgba[p]! - (c >> 16);
    const dg = rgba[p + 1]! - ((c >> 8) & 255);
    const db = rgba[p + 2]! - (c & 255);
    sum += dr * dr + dg * dg + db * db;
    n++;
  }
  return n ? sum / n : 0;
}

export interface GifStats {
  frames: number;
  localPalettes: number;
  /** Bytes each frame given to the writer cost (0 for a frame that only lengthened the one before). */
  inputBytes: number[];
}

/**
 * Frames coded by a writer of their own (GifWriter.part, on another thread), to follow another
 * writer's last frame (GifWriter.append): the same bytes as had that writer coded them itself.
 */
export interface GifPart {
  /** The frames' records (control extension, descriptor, local table, LZW data), as in the GIF. */
  bytes: Uint8Array;
  /** The delay of the part's first frames that changed nothing: the frame before the part shows that much longer. */
  leadingDelayCs: number;
  /** Where the part's last written frame's delay sits in `bytes` (-1: it wrote none). */
  lastDelayAt: number;
  frames: number;
  localPalettes: number;
  inputBytes: number[];
}

export interface WriterOptions {
  /**
   * gifsicle's --lossy level: 0 is lossless; N lets each pixel be off by a squared RGB distance of
   * 10 N from its palette colour, both in the LZW search and in deciding that a pixel already on
   * screen is close enough to leave as it is.
   */
  lossy?: number;
  /** The naive method the benchmark compares with: every frame whole, with its own palette. */
  paletteEveryFrame?: boolean;
  /** Frames the shared palette serves badly get one of their own (default true). */
  localPalettes?: boolean;
}

/**
 * Encodes frames one after another against what a decoder shows after the previous ones: pixels
 * already showing their colour (or, lossy, a colour close enough) become transparent, only the
 * rectangle that changed is coded, and a frame that changes nothing costs nothing.
 */
export class FrameEncoder {
  /** The colour on screen at each pixel after the frames encoded so far (0xRRGGBB), as a decoder shows it. */
  readonly screen: Int32Array;
  private readonly pref: Uint8Array;
  private readonly target: Int32Array;
  private readonly under: Int32Array;
  private readonly chosen: Uint8Array;
  /** Largest squared RGB error a pixel may take (0: lossless). */
  maxDiff = 0;
  /**
   * The last frame put on screen whole and exactly (lossless, or seeded): the screen then shows its
   * table's colour at each of its indices, so a next frame on the same table differs exactly where
   * its indices do, which is compared four pixels at a time.
   */
  private exactOnScreen: MappedFrame | undefined;
  /** Pixels whose colour on screen is known within the lossy bound only (seed), 1 each; undefined: none. */
  private uncertain: Uint8Array | undefined;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const n = width * height;
    this.screen = new Int32Array(n);
    this.pref = new Uint8Array(n);
    this.target = new Int32Array(n);
    this.under = new Int32Array(n);
    this.chosen = new Uint8Array(n);
  }

  /**
   * Puts a frame's colours on screen as they are, writing nothing (to measure the next frame alone).
   * `uncertain`: the screen shows each pixel within the lossy bound of the frame's colour, not
   * exactly (a lossy GIF's part: GifWriter.part); until drawn again, a pixel is then left as it is
   * only where a frame shows exactly that colour.
   */
  seed(frame: MappedFrame, uncertain = false): void {
    const rgb = frame.table.map.rgb;
    const { index } = frame;
    for (let i = 0; i < index.length; i++) this.screen[i] = rgb[index[i]!]!;
    this.exactOnScreen = frame;
    this.uncertain = uncertain ? new Uint8Array(index.length).fill(1) : undefined;
  }

  /**
   * Writes the frame's image (graphic control extension, descriptor, local table, LZW data) into
   * `out` and returns where its delay sits there, or -1 when nothing changed and nothing was written.
   * `whole`: the frame is written whole and opaque (a GIF's first frame).
   */
  encode(frame: MappedFrame, delayCs: number, whole: boolean, out: ByteSink): number {
    const { index, table } = frame;
    const n = this.width * this.height;
    if (index.length !== n) throw new Error(`frame has ${index.length} pixels, expected ${n}`);
    const before = this.exactOnScreen;
    this.exactOnScreen = this.maxDiff === 0 ? frame : undefined;
    if (whole) return this.writeImage(index, table, { x: 0, y: 0, w: this.width, h: this.height }, delayCs, false, frame.local, out);
    if (before && before.table === table && this.maxDiff === 0) {
      const r = changedRect(before.index, index, this.width, this.height);
      return r ? this.writeImage(index, table, r, delayCs, true, frame.local, out) : -1;
    }
    const rgb = table.map.rgb;
    const screen = this.screen;
    const maxDiff = this.maxDiff;
    const unsure = this.uncertain;
    let x0 = this.width;
    let y0 = this.height;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0, i = 0; y < this.height; y++) {
      let rowChanged = false;
      for (let x = 0; x < this.width; x++, i++) {
        const c = rgb[index[i]!]!;
        const d = screen[i]!;
        if (c === d) continue;
        if (maxDiff !== 0 && !(unsure && unsure[i])) {
          const dr = (c >> 16) - (d >> 16);
          const dg = ((c >> 8) & 255) - ((d >> 8) & 255);
          const db = (c & 255) - (d & 255);
          if (dr * dr + dg * dg + db * db <= maxDiff) continue;
        }
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        rowChanged = true;
      }
      if (rowChanged) {
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
    if (x1 < 0) return -1;
    return this.writeImage(index, table, { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 }, delayCs, true, frame.local, out);
  }

  // One method on purpose: its loops run per pixel (symbols and the screen updated in one pass,
  // which measured x0.67 CPU against two passes), and helpers would add a call per pixel.
  private writeImage(index: Uint8Array, table: ColourTable, r: Rect, delayCs: number, transparent: boolean, local: boolean, o: ByteSink): number {
    const rgb = table.map.rgb;
    const screen = this.screen;
    const t = table.transparent;
    const maxDiff = this.maxDiff;
    const unsure = this.uncertain;
    const { pref, target, under } = this;
    // Lossless: a pixel keeps its colour, or where the screen already shows it, is transparent or
    // keeps it, whichever makes the longer LZW strings (encodeFlexible; `own` holds its colour). The
    // screen is updated here: what is written is what is shown.
    // Lossy: transparent where the screen is close enough; the search may swap any pixel for a near colour.
    let k = 0;
    const own = this.chosen;
    if (maxDiff === 0) {
      for (let y = r.y; y < r.y + r.h; y++) {
        for (let i = y * this.width + r.x, end = i + r.w; i < end; i++, k++) {
          const s = index[i]!;
          const c = rgb[s]!;
          own[k] = s;
          if (transparent && c === screen[i]) pref[k] = t;
          else {
            pref[k] = s;
            screen[i] = c;
          }
        }
      }
    } else {
      for (let y = r.y; y < r.y + r.h; y++) {
        for (let i = y * this.width + r.x, end = i + r.w; i < end; i++, k++) {
          const s = index[i]!;
          const c = rgb[s]!;
          const d = screen[i]!;
          let keep = transparent && c === d;
          // A pixel known within the bound only may stay only where the frame shows its colour exactly.
          const sure = !(unsure && unsure[i]);
          if (transparent && !keep && sure) {
            const dr = (c >> 16) - (d >> 16);
            const dg = ((c >> 8) & 255) - ((d >> 8) & 255);
            const db = (c & 255) - (d & 255);
            keep = dr * dr + dg * dg + db * db <= maxDiff;
          }
          pref[k] = keep ? t : s;
          target[k] = c;
          under[k] = sure || c === d ? d : NEVER_CLOSE;
        }
      }
    }
    // Graphic control extension: keep the frame under the next one (disposal 1), delay, transparency.
    o.bytes([0x21, 0xf9, 0x04, (1 << 2) | (transparent ? 1 : 0)]);
    const delayAt = o.length;
    o.u16(Math.min(0xffff, delayCs));
    o.byte(transparent ? t : 0);
    o.byte(0);
    o.byte(0x2c);
    o.u16(r.x);
    o.u16(r.y);
    o.u16(r.w);
    o.u16(r.h);
    o.byte(local ? 0x80 | (Math.log2(table.size) - 1) : 0);
    if (local) table.write(o);
    const pixels = pref.subarray(0, k);
    if (maxDiff === 0) {
      if (transparent) encodeFlexible(pixels, own.subarray(0, k), t, table.minCodeSize, o);
      else encodeLossless(pixels, table.minCodeSize, o);
      return delayAt;
    }
    const shown = this.chosen.subarray(0, k);
    encodeLossy(
      { pref: pixels, target: target.subarray(0, k), under: under.subarray(0, k), palette: rgb, transparent: transparent ? t : -1, maxDiff },
      table.minCodeSize,
      o,
      shown,
    );
    k = 0;
    for (let y = r.y; y < r.y + r.h; y++) {
      for (let i = y * this.width + r.x, end = i + r.w; i < end; i++, k++) {
        const s = shown[k]!;
        if (s !== t) {
          screen[i] = rgb[s]!;
          if (unsure) unsure[i] = 0;
        }
      }
    }
    return delayAt;
  }
}

/**
 * Writes a GIF frame by frame (see FrameEncoder): a frame that changes nothing lengthens the one
 * before it; delays are whole centiseconds chosen by the caller.
 */
export class GifWriter {
  private readonly out = new ByteSink(1 << 20);
  private readonly shared: ColourTable;
  private readonly mapper: FrameMapper;
  private readonly encoder: FrameEncoder;
  /** Where the last written frame's delay sits in the output, to lengthen it. */
  private delayAt = -1;
  private everChanged = false;
  private firstFlat = true;
  private finished = false;
  /** Set on a part's writer (GifWriter.part): no header, and no frame of it is the GIF's first. */
  private isPart = false;
  private leadingDelayCs = 0;
  readonly stats: GifStats = { frames: 0, localPalettes: 0, inputBytes: [] };

  constructor(
    private readonly width: number,
    private readonly height: number,
    palette: Palette | ColourTable,
    private readonly options: WriterOptions = {},
    /** A part's writer: the frame on screen before its first (GifWriter.part). */
    seed?: MappedFrame,
  ) {
    this.shared = palette instanceof ColourTable ? palette : new ColourTable(palette);
    this.mapper = new FrameMapper(this.shared, options.localPalettes ?? true);
    this.encoder = new FrameEncoder(width, height);
    this.encoder.maxDiff = lossyMaxDiff(options.lossy ?? 0);
    if (seed) {
      this.isPart = true;
      this.encoder.seed(seed, this.encoder.maxDiff !== 0);
      return;
    }
    const o = this.out;
    o.bytes([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]); // GIF89a
    o.u16(width);
    o.u16(height);
    const table = options.paletteEveryFrame ? undefined : this.shared;
    // Global table flag, 8 bits of colour resolution, table size.
    o.byte(table ? 0xf0 | (Math.log2(table.size) - 1) : 0x70);
    o.byte(0);
    o.byte(0);
    table?.write(o);
    // Loop forever (NETSCAPE2.0 application extension).
    o.bytes([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0'), 0x03, 0x01, 0x00, 0x00, 0x00]);
  }

  /**
   * A writer of the frames that follow `seed` in a GIF written by another writer, which appends the
   * part (append). Lossless, a frame leaves the screen showing exactly its colours, so the part codes
   * its frames as the whole GIF's writer would. Lossy, the screen after the other writer's frames is
   * what its search chose, which this writer cannot know; it knows that each pixel there is within
   * the lossy bound of the seed's colour. So a pixel not drawn since the seed is left as it is only
   * where the frame shows the seed's colour exactly (FrameEncoder.seed, `uncertain`): every pixel
   * stays within the bound, and the part costs a little more than one writer's frames would.
   */
  static part(width: number, height: number, shared: ColourTable, seed: MappedFrame, options: Omit<WriterOptions, 'paletteEveryFrame'> = {}): GifWriter {
    return new GifWriter(width, height, shared, options, seed);
  }

  /** Maps a captured RGBA frame to the palette and writes it. */
  addFrame(rgba: Uint8Array, delayCs: number): void {
    if (rgba.length !== this.width * this.height * 4) throw new Error(`frame is ${rgba.length} bytes, expected ${this.width}x${this.height} RGBA`);
    if (this.options.paletteEveryFrame) return this.addWhole(rgba, delayCs);
    this.add(this.mapper.map(rgba, this.stats.inputBytes.length === 0), delayCs);
  }

  /** Writes a frame already mapped (by a FrameMapper on this writer's shared table). */
  add(frame: MappedFrame, delayCs: number): void {
    if (this.finished) throw new Error('the GIF is finished');
    const before = this.out.length;
    const first = !this.isPart && this.stats.inputBytes.length === 0;
    this.stats.inputBytes.push(0);
    if (first) {
      const { index } = frame;
      const f = index[0];
      for (let i = 0; i < index.length; i++) {
        if (index[i] !== f) {
          this.firstFlat = false;
          break;
        }
      }
    }
    const at = this.encoder.encode(frame, delayCs, first, this.out);
    if (at < 0) {
      // Nothing to draw: the frame on screen stays up longer (in a part with none written yet, the
      // frame before the part: append).
      if (this.delayAt < 0) this.leadingDelayCs += delayCs;
      else this.out.setU16(this.delayAt, Math.min(0xffff, this.out.getU16(this.delayAt) + delayCs));
      return;
    }
    this.delayAt = at;
    if (!first) this.everChanged = true;
    if (frame.local) this.stats.localPalettes++;
    this.stats.frames++;
    this.stats.inputBytes[this.stats.inputBytes.length - 1] = this.out.length - before;
  }

  /** The naive method: the frame whole, with a palette of its own and no transparency. */
  private addWhole(rgba: Uint8Array, delayCs: number): void {
    const own = quantize(rgba, MAX_COLORS, { format: 'rgb565' });
    const table = new ColourTable(own);
    const frame: MappedFrame = { index: applyPalette(rgba, own, 'rgb565'), table, local: this.stats.frames > 0 };
    if (this.stats.frames === 0) {
      // The first frame's palette is the global table: rewrite the screen descriptor's table.
      const o = this.out;
      const tail = o.view().slice(13);
      o.truncate(10);
      o.byte(0xf0 | (Math.log2(table.size) - 1));
      o.byte(0);
      o.byte(0);
      table.write(o);
      o.bytes(tail);
    }
    const before = this.out.length;
    this.stats.inputBytes.push(0);
    // Every frame whole and opaque, as the first one is.
    this.delayAt = this.encoder.encode(frame, delayCs, true, this.out);
    this.everChanged = true;
    this.stats.frames++;
    this.stats.inputBytes[this.stats.inputBytes.length - 1] = this.out.length - before;
  }

  /** A part's frames as coded (GifWriter.part). */
  finishPart(): GifPart {
    if (!this.isPart) throw new Error('not a part');
    this.finished = true;
    const { frames, localPalettes, inputBytes } = this.stats;
    return { bytes: this.out.view().slice(), leadingDelayCs: this.leadingDelayCs, lastDelayAt: this.delayAt, frames, localPalettes, inputBytes };
  }

  /** Appends a part coded from this writer's last frame on (GifWriter.part). */
  append(part: GifPart): void {
    if (this.finished || this.isPart) throw new Error('cannot append to this writer');
    if (this.delayAt < 0) throw new Error('a part follows a written frame');
    // Delays add up to the same clamped value whether added one frame at a time or summed.
    if (part.leadingDelayCs > 0) this.out.setU16(this.delayAt, Math.min(0xffff, this.out.getU16(this.delayAt) + part.leadingDelayCs));
    const base = this.out.length;
    this.out.bytes(part.bytes);
    if (part.lastDelayAt >= 0) {
      this.delayAt = base + part.lastDelayAt;
      this.everChanged = true;
    }
    this.stats.frames += part.frames;
    this.stats.localPalettes += part.localPalettes;
    this.stats.inputBytes.push(...part.inputBytes);
  }

  /** Bytes written so far (the GIF's size once finished, less its one-byte trailer). */
  get bytes(): number {
    return this.out.length;
  }

  /** Finishes the GIF; a clip that is one flat colour throughout is refused rather than shipped. */
  finish(): Buffer {
    if (this.stats.frames === 0) throw new Error('no frames were written');
    if (!this.everChanged && this.firstFlat) {
      throw new InputError('the rendered clip is blank (every frame is one flat colour): the recording shows nothing in this window');
    }
    if (!this.finished) this.out.byte(0x3b);
    this.finished = true;
    return Buffer.from(this.out.view());
  }
}

/**
 * The smallest rectangle holding every pixel whose index differs between two frames of one table
 * (undefined when none does). Rows are compared as 32-bit words where the buffers allow it.
 */
function changedRect(a: Uint8Array, b: Uint8Array, width: number, height: number): Rect | undefined {
  const words = (a.byteOffset & 3) === 0 && (b.byteOffset & 3) === 0 && (width & 3) === 0;
  const wa = words ? new Uint32Array(a.buffer, a.byteOffset, a.length >> 2) : undefined;
  const wb = words ? new Uint32Array(b.buffer, b.byteOffset, b.length >> 2) : undefined;
  const rowWords = width >> 2;
  const rowDiffers = (y: number): boolean => {
    if (wa && wb) {
      for (let i = y * rowWords, end = i + rowWords; i < end; i++) if (wa[i] !== wb[i]) return true;
      return false;
    }
    for (let i = y * width, end = i + width; i < end; i++) if (a[i] !== b[i]) return true;
    return false;
  };
  let y0 = 0;
  while (y0 < height && !rowDiffers(y0)) y0++;
  if (y0 === height) return undefined;
  let y1 = height - 1;
  while (y1 > y0 && !rowDiffers(y1)) y1--;
  // Columns: the first and last differing pixel over the rows in between.
  let x0 = width;
  let x1 = -1;
  for (let y = y0; y <= y1; y++) {
    const row = y * width;
    for (let x = 0; x < x0; x++) {
      if (a[row + x] !== b[row + x]) {
        x0 = x;
        break;
      }
    }
    for (let x = width - 1; x > x1; x--) {
      if (a[row + x] !== b[row + x]) {
        x1 = x;
        break;
      }
    }
  }
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** An `under` colour no target is close to: the transparent index may not stand for it (encodeLossy). */
const NEVER_CLOSE = 0x7fff7fff;

/** gifsicle's scale: --lossy=N accepts a squared RGB error of 10 N per pixel. */
export function lossyMaxDiff(level: number): number {
  return Math.max(0, Math.round(level * 10));
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
