import { quantize565 } from './pnn.js';

/** Colours as [r, g, b] triples, at most 255 of them: a GIF colour table's last entry is the transparent one. */
export type Palette = number[][];

/** The most colours a palette holds; with the transparent entry they fill a 256-entry table. */
export const MAX_COLORS = 255;
/** Every Nth pixel of each captured frame goes into the shared palette's sample. */
const SAMPLE_STRIDE = 11;
/** Exact colours that cover at least this share of the sample are kept exactly (page backgrounds, text, white, black). */
const DOMINANT_SHARE = 0.01;
/**
 * A colour this close (squared RGB) to a more frequent dominant one is left to map to it: scaled
 * pictures hold 254,254,254 next to white, and two entries one step apart split the same flat area
 * into noise (the example: 1,025,881 bytes with 254,254,254 and 250,246,239 kept beside their
 * neighbours, 927,566 without).
 */
const DOMINANT_MERGE_DIST2 = 12;
const MAX_DOMINANT = 24;
/** The exact-colour count looks at no more than this many sampled pixels. */
const DOMINANT_SAMPLE = 1 << 18;

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

  /** The sampled pixels of every frame added so far, as one RGBA buffer. */
  samples(): Uint8Array {
    const total = this.chunks.reduce((s, c) => s + c.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const c of this.chunks) {
      all.set(c, o);
      o += c.length;
    }
    return all;
  }

  palette(maxColors = MAX_COLORS): Palette {
    return paletteFor(this.samples(), maxColors);
  }
}

/**
 * A palette of at most maxColors for these pixels that holds their dominant colours exactly.
 * gifenc's quantizer (pnn.ts) works on 5-5-5 bins and returns each cluster's mean, so a page's white, black
 * or background comes back as a near neighbour (measured on the example: background 251,247,240 as
 * 250,246,239). Each dominant colour (found by exact count) replaces the entry that stood for it;
 * one with no entry near it replaces the most redundant entry (the one closest to another).
 */
export function paletteFor(rgba: Uint8Array, maxColors = MAX_COLORS): Palette {
  if (rgba.length === 0) return [[0, 0, 0]];
  const pal: Palette = quantize565(rgba, maxColors);
  const dominant = dominantColours(rgba, Math.min(MAX_DOMINANT, Math.max(1, maxColors >> 2)));
  const locked = new Set<number>();
  for (const key of dominant) {
    const c = [key >> 16, (key >> 8) & 255, key & 255];
    const exact = pal.findIndex((p) => p[0] === c[0] && p[1] === c[1] && p[2] === c[2]);
    if (exact >= 0) {
      locked.add(exact);
      continue;
    }
    let near = -1;
    let nearD = Infinity;
    pal.forEach((p, i) => {
      const d = dist2(p, c);
      if (!locked.has(i) && d < nearD) {
        nearD = d;
        near = i;
      }
    });
    let slot = near;
    if (nearD > SNAP_DIST2) {
      if (pal.length < maxColors) slot = pal.push(c) - 1;
      else slot = mostRedundant(pal, locked);
    }
    if (slot < 0) continue;
    pal[slot] = c;
    locked.add(slot);
  }
  return pal;
}

/** A quantized entry this close to a dominant colour (squared RGB) is taken to stand for it: about one 5-6-5 bin. */
const SNAP_DIST2 = 3 * 8 * 8;

function dist2(a: number[], b: number[]): number {
  return (a[0]! - b[0]!) ** 2 + (a[1]! - b[1]!) ** 2 + (a[2]! - b[2]!) ** 2;
}

/** The unlocked entry nearest to any other entry: the one whose loss costs least. */
function mostRedundant(pal: Palette, locked: Set<number>): number {
  let best = -1;
  let bestD = Infinity;
  for (let i = 0; i < pal.length; i++) {
    if (locked.has(i)) continue;
    for (let j = 0; j < pal.length; j++) {
      if (j === i) continue;
      const d = dist2(pal[i]!, pal[j]!);
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
  }
  return best;
}

/** Exact colours (0xRRGGBB) covering at least DOMINANT_SHARE of the pixels, most frequent first. */
export function dominantColours(rgba: Uint8Array, max: number): number[] {
  const pixels = rgba.length >> 2;
  const stride = Math.max(1, Math.ceil(pixels / DOMINANT_SAMPLE));
  const counts = new Map<number, number>();
  let n = 0;
  for (let i = 0; i < pixels; i += stride, n++) {
    const p = i << 2;
    const key = (rgba[p]! << 16) | (rgba[p + 1]! << 8) | rgba[p + 2]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const min = Math.max(2, n * DOMINANT_SHARE);
  const out: number[] = [];
  const frequent = [...counts].filter(([, c]) => c >= min).sort((a, b) => b[1] - a[1]);
  for (const [k] of frequent) {
    if (out.length >= max) break;
    if (out.some((o) => dist2rgb(o, k) <= DOMINANT_MERGE_DIST2)) continue;
    out.push(k);
  }
  return out;
}

/**
 * Maps pixels to a palette: a colour in the palette maps to its own entry, any other colour to its
 * nearest entry (squared RGB distance). gifenc's applyPalette keeps one answer per 5-5-5 bin, taken
 * from the first pixel of the bin it meets, so white could come out as the grey next to it.
 *
 * Answers are cached per exact colour (a 16 MiB table: index + 1, 0 unknown); a colour seen for the
 * first time is compared only with the entries that can be nearest to anything in its 5-6-5 box,
 * worked out once per box.
 */
export class PaletteMap {
  readonly size: number;
  /** 0xRRGGBB of each entry. */
  readonly rgb: Int32Array;
  private readonly r: Int32Array;
  private readonly g: Int32Array;
  private readonly b: Int32Array;
  private readonly exact = new Uint8Array(1 << 24);
  private readonly boxes: (Uint8Array | undefined)[] = new Array(1 << 16);

  constructor(palette: Palette) {
    if (palette.length === 0 || palette.length > 255) throw new Error(`a palette holds 1 to 255 colours, not ${palette.length}`);
    this.size = palette.length;
    this.rgb = new Int32Array(this.size);
    this.r = new Int32Array(this.size);
    this.g = new Int32Array(this.size);
    this.b = new Int32Array(this.size);
    // Later duplicates never win: the first entry of a colour is the one it maps to.
    for (let i = this.size - 1; i >= 0; i--) {
      const c = palette[i]!;
      this.r[i] = c[0]!;
      this.g[i] = c[1]!;
      this.b[i] = c[2]!;
      this.rgb[i] = (c[0]! << 16) | (c[1]! << 8) | c[2]!;
      this.exact[this.rgb[i]!] = i + 1;
    }
  }

  /** Palette index of every pixel of an RGBA buffer (alpha ignored). */
  map(rgba: Uint8Array, out: Uint8Array = new Uint8Array(rgba.length >> 2)): Uint8Array {
    const exact = this.exact;
    const n = rgba.length >> 2;
    // Whole pixels at once where the buffer allows it (little-endian: 0xAABBGGRR), and a pixel equal
    // to the one before it (most of a page) costs one comparison.
    if ((rgba.byteOffset & 3) === 0 && LITTLE_ENDIAN) {
      const px = new Uint32Array(rgba.buffer, rgba.byteOffset, n);
      let last = -1;
      let lastIndex = 0;
      for (let i = 0; i < n; i++) {
        const v = px[i]! & 0xffffff;
        if (v !== last) {
          const key = ((v & 255) << 16) | (v & 0xff00) | (v >>> 16);
          const hit = exact[key]!;
          lastIndex = hit !== 0 ? hit - 1 : this.miss(key);
          last = v;
        }
        out[i] = lastIndex;
      }
      return out;
    }
    for (let i = 0, p = 0; i < n; i++, p += 4) {
      const key = (rgba[p]! << 16) | (rgba[p + 1]! << 8) | rgba[p + 2]!;
      const hit = exact[key]!;
      out[i] = hit !== 0 ? hit - 1 : this.miss(key);
    }
    return out;
  }

  /** Palette index of one 0xRRGGBB colour. */
  index(rgb: number): number {
    const hit = this.exact[rgb]!;
    return hit !== 0 ? hit - 1 : this.miss(rgb);
  }

  private miss(key: number): number {
    const r = key >> 16;
    const g = (key >> 8) & 255;
    const b = key & 255;
    const box = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3);
    let candidates = this.boxes[box];
    if (!candidates) {
      candidates = this.candidates(r & ~7, g & ~3, b & ~7);
      this.boxes[box] = candidates;
    }
    let best = candidates[0]!;
    let bestD = Infinity;
    for (let k = 0; k < candidates.length; k++) {
      const i = candidates[k]!;
      const dr = this.r[i]! - r;
      const dg = this.g[i]! - g;
      const db = this.b[i]! - b;
      const d = dr * dr + dg * dg + db * db;
      if (d < bestD || (d === bestD && i < best)) {
        bestD = d;
        best = i;
      }
    }
    this.exact[key] = best + 1;
    return best;
  }

  /** The entries that can be nearest to some colour of the box [r0, r0+7] x [g0, g0+3] x [b0, b0+7]. */
  private candidates(r0: number, g0: number, b0: number): Uint8Array {
    const n = this.size;
    const near = new Float64Array(n);
    let bound = Infinity;
    for (let i = 0; i < n; i++) {
      const r = this.r[i]!;
      const g = this.g[i]!;
      const b = this.b[i]!;
      near[i] = gap(r, r0, r0 + 7) ** 2 + gap(g, g0, g0 + 3) ** 2 + gap(b, b0, b0 + 7) ** 2;
      const far = Math.max(r - r0, r0 + 7 - r) ** 2 + Math.max(g - g0, g0 + 3 - g) ** 2 + Math.max(b - b0, b0 + 7 - b) ** 2;
      if (far < bound) bound = far;
    }
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (near[i]! <= bound) out.push(i);
    return Uint8Array.from(out);
  }
}

/** Every kth pixel of an RGBA buffer, at most maxPixels of them. */
export function subsample(rgba: Uint8Array, maxPixels: number): Uint8Array {
  const n = rgba.length >> 2;
  if (n <= maxPixels) return rgba;
  const stride = Math.ceil(n / maxPixels);
  const out = new Uint8Array(Math.ceil(n / stride) * 4);
  for (let i = 0, o = 0; i < n; i += stride, o += 4) {
    const p = i * 4;
    out[o] = rgba[p]!;
    out[o + 1] = rgba[p + 1]!;
    out[o + 2] = rgba[p + 2]!;
    out[o + 3] = 255;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

function dist2rgb(a: number, b: number): number {
  return ((a >> 16) - (b >> 16)) ** 2 + (((a >> 8) & 255) - ((b >> 8) & 255)) ** 2 + ((a & 255) - (b & 255)) ** 2;
}

function gap(v: number, lo: number, hi: number): number {
  return v < lo ? lo - v : v > hi ? v - hi : 0;
}
