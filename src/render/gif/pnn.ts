// gifenc's colour quantizer (its pnnquant2.js, MIT: Matt DesLauriers; after PnnQuant.js by Miller Cy
// Chan and the pairwise-nearest-neighbour method of Mark Tyler and Dmitry Groshev), for its rgb565
// format, on typed arrays instead of an object per bin. The arithmetic and its order are gifenc's,
// so the palette is the same colour for colour (test/gif.test.ts), in 0.4-0.8 of the time. The
// shared palette is computed after the last picture, before any frame can be coded: on the example
// shop's moment (5,953 bins) gifenc's took 150-180 ms of the encode's 500-700, this one 60.

/** Bins of the 5-bit-per-channel histogram (gifenc's "rgb565" key, which keeps 5 bits of each). */
const BINS = 65536;
/** gifenc marks a merged-away bin with the bin count less one. */
const DELETED = BINS - 1;

let histogram: { sumR: Float64Array; sumG: Float64Array; sumB: Float64Array; count: Float64Array } | undefined;

/** gifenc's bin key: 5 bits of red, green and blue. */
function key(r: number, g: number, b: number): number {
  return ((r << 8) & 0xf800) | ((g << 2) & 0x03e0) | (b >> 3);
}

/**
 * At most maxColors colours for these RGBA pixels (alpha ignored), as gifenc's
 * `quantize(rgba, maxColors, { format: 'rgb565' })` returns them.
 */
export function quantize565(rgba: Uint8Array, maxColors: number): number[][] {
  // The histogram's 2 MiB are kept for the thread's next palette (cleared here): a worker makes one or
  // more palettes a render, and freeing and taking them again each time only churns native memory.
  const { sumR, sumG, sumB, count } = (histogram ??= { sumR: new Float64Array(BINS), sumG: new Float64Array(BINS), sumB: new Float64Array(BINS), count: new Float64Array(BINS) });
  sumR.fill(0);
  sumG.fill(0);
  sumB.fill(0);
  count.fill(0);
  for (let p = 0, end = rgba.length - 3; p < end; p += 4) {
    const r = rgba[p]!;
    const g = rgba[p + 1]!;
    const b = rgba[p + 2]!;
    const k = key(r, g, b);
    sumR[k] = sumR[k]! + r;
    sumG[k] = sumG[k]! + g;
    sumB[k] = sumB[k]! + b;
    count[k] = count[k]! + 1;
  }
  // The non-empty bins, in key order, become slots 0..n-1, each with its mean colour.
  let n = 0;
  for (let k = 0; k < BINS; k++) if (count[k] !== 0) n++;
  const R = new Float64Array(n);
  const G = new Float64Array(n);
  const B = new Float64Array(n);
  const cnt = new Float64Array(n);
  const err = new Float64Array(n);
  const nn = new Int32Array(n);
  const fw = new Int32Array(n);
  const bk = new Int32Array(n);
  const tm = new Int32Array(n);
  const mtm = new Int32Array(n);
  for (let k = 0, s = 0; k < BINS; k++) {
    if (count[k] === 0) continue;
    const d = 1.0 / count[k]!;
    R[s] = sumR[k]! * d;
    G[s] = sumG[k]! * d;
    B[s] = sumB[k]! * d;
    cnt[s] = count[k]!;
    s++;
  }
  if (n === 0) return [];
  const useSqrt = !((maxColors * maxColors) / n < 0.022);
  for (let i = 0; i < n - 1; i++) {
    fw[i] = i + 1;
    bk[i + 1] = i;
  }
  if (useSqrt) for (let i = 0; i < n; i++) cnt[i] = Math.sqrt(cnt[i]!);

  const findNearest = (idx: number): void => {
    let near = 0;
    let best = 1e100;
    const n1 = cnt[idx]!;
    const wr = R[idx]!;
    const wg = G[idx]!;
    const wb = B[idx]!;
    for (let i = fw[idx]!; i !== 0; i = fw[i]!) {
      const n2 = cnt[i]!;
      const nerr2 = (n1 * n2) / (n1 + n2);
      if (nerr2 >= best) continue;
      // Products written out as gifenc's sqr() computes them (the palette must be the same bit for bit).
      const dr = R[i]! - wr;
      let e = nerr2 * (dr * dr);
      if (e >= best) continue;
      const dg = G[i]! - wg;
      e += nerr2 * (dg * dg);
      if (e >= best) continue;
      const db = B[i]! - wb;
      e += nerr2 * (db * db);
      if (e >= best) continue;
      best = e;
      near = i;
    }
    err[idx] = best;
    nn[idx] = near;
  };

  // A heap of slots by the error of merging each with its nearest neighbour (heap[0]: its size).
  const heap = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    findNearest(i);
    const e = err[i]!;
    let l = ++heap[0]!;
    for (; l > 1; ) {
      const l2 = l >> 1;
      const h = heap[l2]!;
      if (err[h]! <= e) break;
      heap[l] = h;
      l = l2;
    }
    heap[l] = i;
  }

  // Merge the pair that adds the least error until maxColors are left.
  const merges = n - maxColors;
  for (let i = 0; i < merges; ) {
    let tb: number;
    for (;;) {
      let b1 = heap[1]!;
      tb = b1;
      // Is its stored error up to date?
      if (tm[tb]! >= mtm[tb]! && mtm[nn[tb]!]! <= tm[tb]!) break;
      if (mtm[tb] === DELETED) b1 = heap[1] = heap[heap[0]!--]!;
      else {
        findNearest(b1);
        tm[b1] = i;
      }
      const e = err[b1]!;
      let l = 1;
      for (let l2: number; (l2 = l + l) <= heap[0]!; l = l2) {
        if (l2 < heap[0]! && err[heap[l2]!]! > err[heap[l2 + 1]!]!) l2++;
        const h = heap[l2]!;
        if (e <= err[h]!) break;
        heap[l] = h;
      }
      heap[l] = b1;
    }
    const nb = nn[tb]!;
    const n1 = cnt[tb]!;
    const n2 = cnt[nb]!;
    const d = 1.0 / (n1 + n2);
    R[tb] = d * (n1 * R[tb]! + n2 * R[nb]!);
    G[tb] = d * (n1 * G[tb]! + n2 * G[nb]!);
    B[tb] = d * (n1 * B[tb]! + n2 * B[nb]!);
    cnt[tb] = cnt[tb]! + n2;
    mtm[tb] = ++i;
    // Unchain the merged-away slot.
    fw[bk[nb]!] = fw[nb]!;
    bk[fw[nb]!] = bk[nb]!;
    mtm[nb] = DELETED;
  }

  const palette: number[][] = [];
  const seen = new Set<number>();
  for (let i = 0; ; ) {
    const r = clamp(Math.round(R[i]!));
    const g = clamp(Math.round(G[i]!));
    const b = clamp(Math.round(B[i]!));
    const c = (r << 16) | (g << 8) | b;
    if (!seen.has(c)) {
      seen.add(c);
      palette.push([r, g, b]);
    }
    if ((i = fw[i]!) === 0) break;
  }
  return palette;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}
