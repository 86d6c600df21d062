import type { ByteSink } from './bytes.js';

/**
 * GIF's LZW, written by hand because the lossy variant needs the dictionary's tree: lossless
 * encoding of index streams, and gifsicle's --lossy search (see encodeLossy).
 *
 * Codes are packed least-significant bit first into sub-blocks of at most 255 bytes. The code
 * width grows when the next free code no longer fits, and the dictionary is cleared when it holds
 * 4096 codes, as gifenc and most encoders do.
 */

const MAX_CODES = 4096;
/** Room for the walks of one lossy search (a walk that reaches the end of it stops early). */
const WALK_SLOTS = 1 << 16;
const walks = {
  walkNode: new Int32Array(WALK_SLOTS),
  walkDr: new Int32Array(WALK_SLOTS),
  walkDg: new Int32Array(WALK_SLOTS),
  walkDb: new Int32Array(WALK_SLOTS),
};
/** Dictionary nodes one lossy search may visit: bounds the time a code can take on noisy pictures. */
const MAX_VISITS = 256;

/** Packs variable-width codes into the sink as GIF data sub-blocks. */
class CodeWriter {
  private acc = 0;
  private nbits = 0;
  private block = new Uint8Array(255);
  private fill = 0;

  constructor(private readonly out: ByteSink) {}

  write(code: number, width: number): void {
    this.acc |= code << this.nbits;
    this.nbits += width;
    while (this.nbits >= 8) {
      this.block[this.fill++] = this.acc & 255;
      if (this.fill === 255) this.flushBlock();
      this.acc >>>= 8;
      this.nbits -= 8;
    }
  }

  end(): void {
    if (this.nbits > 0) {
      this.block[this.fill++] = this.acc & 255;
      if (this.fill === 255) this.flushBlock();
    }
    if (this.fill > 0) this.flushBlock();
    this.out.byte(0);
  }

  private flushBlock(): void {
    this.out.byte(this.fill);
    this.out.bytes(this.block.subarray(0, this.fill));
    this.fill = 0;
  }
}

/**
 * The dictionary as a tree: code -> (prefix code, last symbol), with a direct child table for exact
 * lookups and sibling lists so the lossy search can walk every continuation of a string.
 */
class Dictionary {
  readonly child = new Int16Array(MAX_CODES * 256);
  readonly firstChild = new Int16Array(MAX_CODES);
  readonly sibling = new Int16Array(MAX_CODES);
  readonly suffix = new Uint8Array(MAX_CODES);
  readonly prefix = new Int16Array(MAX_CODES);
  /** Length of each code's string, and of the longest string that continues it. */
  readonly depth = new Int32Array(MAX_CODES);
  readonly maxDepth = new Int32Array(MAX_CODES);
  private readonly used = new Int32Array(MAX_CODES);
  private nUsed = 0;
  next = 0;

  constructor(readonly clearCode: number) {
    for (let s = 0; s < clearCode; s++) {
      this.suffix[s] = s;
      this.prefix[s] = -1;
      this.depth[s] = 1;
    }
    this.reset();
  }

  reset(): void {
    for (let k = 0; k < this.nUsed; k++) this.child[this.used[k]!] = 0;
    this.nUsed = 0;
    this.firstChild.fill(0);
    this.maxDepth.fill(1, 0, this.clearCode);
    this.next = this.clearCode + 2;
  }

  define(parent: number, symbol: number): void {
    const code = this.next++;
    const slot = (parent << 8) | symbol;
    this.child[slot] = code;
    this.used[this.nUsed++] = slot;
    this.prefix[code] = parent;
    this.suffix[code] = symbol;
    this.sibling[code] = this.firstChild[parent]!;
    this.firstChild[parent] = code;
    const d = this.depth[parent]! + 1;
    this.depth[code] = d;
    this.maxDepth[code] = d;
    for (let p = parent; p >= 0 && this.maxDepth[p]! < d; p = this.prefix[p]!) this.maxDepth[p] = d;
  }
}

const dictionaries = new Map<number, Dictionary>();
function dictionaryFor(minCodeSize: number): Dictionary {
  let d = dictionaries.get(minCodeSize);
  if (!d) {
    d = new Dictionary(1 << minCodeSize);
    dictionaries.set(minCodeSize, d);
  } else d.reset();
  return d;
}

/**
 * LZW codes as a GIF decoder reads them: the min-code-size byte, then codes whose width grows with
 * the dictionary (up to 12 bits) and starts over when it is cleared.
 */
class CodeStream {
  private readonly w: CodeWriter;
  private width: number;

  constructor(
    out: ByteSink,
    private readonly minCodeSize: number,
    private readonly dict: { next: number },
  ) {
    out.byte(minCodeSize);
    this.w = new CodeWriter(out);
    this.width = minCodeSize + 1;
  }

  emit(code: number): void {
    this.w.write(code, this.width);
    if (this.dict.next >= 1 << this.width && this.width < 12) this.width++;
  }

  restart(): void {
    this.width = this.minCodeSize + 1;
  }

  end(): void {
    this.w.end();
  }
}

/** Lossless LZW of `pixels` (symbols below 2^minCodeSize) into the sink, min-code-size byte first. */
export function encodeLossless(pixels: Uint8Array, minCodeSize: number, out: ByteSink): void {
  const dict = dictionaryFor(minCodeSize);
  const clear = dict.clearCode;
  const codes = new CodeStream(out, minCodeSize, dict);
  const emit = (code: number) => codes.emit(code);
  emit(clear);
  const child = dict.child;
  let prefix = pixels[0]!;
  for (let i = 1, n = pixels.length; i < n; i++) {
    const s = pixels[i]!;
    const c = child[(prefix << 8) | s]!;
    if (c !== 0) {
      prefix = c;
      continue;
    }
    emit(prefix);
    if (dict.next < MAX_CODES) dict.define(prefix, s);
    else {
      emit(clear);
      dict.reset();
      codes.restart();
    }
    prefix = s;
  }
  emit(prefix);
  emit(clear + 1);
  codes.end();
}

/**
 * Other choices one flexible search may take up (see encodeFlexible). Measured on the bench's 30 s
 * moments (2026-12-01): 8 gave rustdoc 2,040,629 bytes, 16: 2,012,458, 64: 1,988,552, 256:
 * 1,986,252, with encode times within the noise.
 */
const FLEX_VISITS = 64;
const flexStack = { node: new Int32Array(FLEX_VISITS * 2 + 2), pos: new Int32Array(FLEX_VISITS * 2 + 2) };

/**
 * Lossless LZW where a pixel the screen already shows may be coded either way: transparent, or its
 * own colour (`own`), whichever makes the longer string of the dictionary. A pixel is `transparent`
 * in `pixels` exactly when it is one of those. What a decoder shows is the same either way; the
 * strings, and so the bytes, are fewer (the lossy search does the same with a colour tolerance).
 */
export function encodeFlexible(pixels: Uint8Array, own: Uint8Array, transparent: number, minCodeSize: number, out: ByteSink): void {
  const n = pixels.length;
  const dict = dictionaryFor(minCodeSize);
  const clear = dict.clearCode;
  const { child, maxDepth } = dict;
  const codes = new CodeStream(out, minCodeSize, dict);
  const stackNode = flexStack.node;
  const stackPos = flexStack.pos;
  let bestNode = 0;
  let bestEnd = 0;
  // The longest string from `root` at `pos`, over either symbol of each pixel the screen already
  // shows: depth first, following the given symbols and stacking the other choice where there is one.
  const search = (root: number, pos: number): void => {
    bestNode = root;
    bestEnd = pos + 1;
    let top = 0;
    stackNode[0] = root;
    stackPos[0] = pos + 1;
    let visits = 0;
    while (top >= 0) {
      let node = stackNode[top]!;
      let p = stackPos[top]!;
      top--;
      while (p < n) {
        const sym = pixels[p]!;
        if (sym === transparent && top < stackNode.length - 1 && visits < FLEX_VISITS) {
          const alt = child[(node << 8) | own[p]!]!;
          if (alt !== 0 && pos + maxDepth[alt]! > bestEnd) {
            visits++;
            top++;
            stackNode[top] = alt;
            stackPos[top] = p + 1;
          }
        }
        const next = child[(node << 8) | sym]!;
        if (next === 0) break;
        node = next;
        p++;
      }
      if (p > bestEnd) {
        bestEnd = p;
        bestNode = node;
      }
    }
  };
  codes.emit(clear);
  search(pixels[0]!, 0);
  while (true) {
    codes.emit(bestNode);
    const prev = bestNode;
    const pos = bestEnd;
    if (pos >= n) break;
    // The next string's first symbol goes into the entry defined now, so it is chosen first: where
    // the pixel has two, the one that starts the longer string.
    let root = pixels[pos]!;
    if (root === transparent) {
      search(root, pos);
      const given = bestEnd;
      search(own[pos]!, pos);
      if (bestEnd > given) root = own[pos]!;
    }
    if (dict.next < MAX_CODES) dict.define(prev, root);
    else {
      codes.emit(clear);
      dict.reset();
      codes.restart();
    }
    search(root, pos);
  }
  codes.emit(clear + 1);
  codes.end();
}

/** One frame's pixels for the lossy encoder, in the order they are coded. */
export interface LossyFrame {
  /** The symbol each pixel would get losslessly (the transparent index where nothing needs drawing). */
  pref: Uint8Array;
  /** The colour each pixel should show (0xRRGGBB). */
  target: Int32Array;
  /** The colour already on screen under each pixel: what the transparent index shows. */
  under: Int32Array;
  /** 0xRRGGBB of each palette entry. */
  palette: Int32Array;
  /** The transparent index, or -1 when the frame has none (the first). */
  transparent: number;
  /** Largest squared RGB error a pixel may take (gifsicle's --lossy=N searches with 10 N). */
  maxDiff: number;
}

/**
 * Lossy LZW as gifsicle's --lossy does it: at each code, instead of the longest exact match, take the
 * longest string of the dictionary whose colours stay close to the pixels ahead (ties: the smallest
 * summed error). Each pixel's error is checked with the error carried along the string (three
 * quarters of it passes to the next pixel), so a run does not drift to one side; on top of
 * gifsicle's rule, no pixel ever differs from its colour by more than maxDiff (squared RGB), so
 * the error bound holds per pixel. A transparent symbol counts as the colour already on screen.
 * Returns the symbols written (what a decoder shows), in `chosen`.
 */
// One function on purpose: this loop runs per pixel of every frame of every encode, and splitting
// it into helpers (a call per pixel, closures over the dictionary) measured slower.
export function encodeLossy(frame: LossyFrame, minCodeSize: number, out: ByteSink, chosen: Uint8Array): void {
  const { pref, target, under, palette, transparent, maxDiff } = frame;
  const n = pref.length;
  const dict = dictionaryFor(minCodeSize);
  const clear = dict.clearCode;
  const { firstChild, sibling, suffix, prefix } = dict;
  const codes = new CodeStream(out, minCodeSize, dict);
  const emit = (code: number) => codes.emit(code);

  let bestNode = 0;
  let bestEnd = 0;
  let bestDiff = 0;
  let start = 0;
  let visits = 0;
  const { child, maxDepth } = dict;
  // The exact continuation of a string, walked in a loop, is where most of the time goes; the other
  // continuations branch off it. Per depth of a walk: node, dither; a stack of walks for the branches.
  const { walkNode, walkDr, walkDg, walkDb } = walks;
  // Depth-first over the continuations of `node` matching pixels from `pos` on: first the exact
  // continuation as far as it goes (a long best early), then, from each node along it, the other
  // children whose colour is close enough; a branch whose longest string cannot reach the best end
  // is not entered.
  const search = (node: number, pos: number, sum: number, dr: number, dg: number, db: number, base: number): void => {
    let m = 0;
    walkNode[base] = node;
    walkDr[base] = dr;
    walkDg[base] = dg;
    walkDb[base] = db;
    for (let p = pos, end = Math.min(n, pos + WALK_SLOTS - 1 - base); p < end; p++) {
      const want = pref[p]!;
      const next = child[(walkNode[base + m]! << 8) | want]!;
      if (next === 0) break;
      let er = 0;
      let eg = 0;
      let eb = 0;
      if (want === transparent) {
        const t = target[p]!;
        const u = under[p]!;
        er = (t >> 16) - (u >> 16);
        eg = ((t >> 8) & 255) - ((u >> 8) & 255);
        eb = (t & 255) - (u & 255);
      }
      m++;
      walkNode[base + m] = next;
      walkDr[base + m] = er + (((walkDr[base + m - 1]! * 3) / 4) | 0);
      walkDg[base + m] = eg + (((walkDg[base + m - 1]! * 3) / 4) | 0);
      walkDb[base + m] = eb + (((walkDb[base + m - 1]! * 3) / 4) | 0);
    }
    if (pos + m > bestEnd || (pos + m === bestEnd && sum < bestDiff)) {
      bestNode = walkNode[base + m]!;
      bestEnd = pos + m;
      bestDiff = sum;
    }
    for (let j = 0; j <= m; j++) {
      const p = pos + j;
      if (p >= n || ++visits > MAX_VISITS) return;
      const at = walkNode[base + j]!;
      const exact = j < m ? walkNode[base + j + 1]! : 0;
      let c = firstChild[at]!;
      if (c === exact && sibling[c] === 0) continue;
      const t = target[p]!;
      const tr = t >> 16;
      const tg = (t >> 8) & 255;
      const tb = t & 255;
      const jr = walkDr[base + j]!;
      const jg = walkDg[base + j]!;
      const jb = walkDb[base + j]!;
      for (; c !== 0; c = sibling[c]!) {
        if (c === exact) continue;
        const reach = start + maxDepth[c]!;
        if (reach < bestEnd) continue;
        const sym = suffix[c]!;
        const col = sym === transparent ? under[p]! : palette[sym]!;
        const er = tr - (col >> 16);
        const eg = tg - ((col >> 8) & 255);
        const eb = tb - (col & 255);
        if (er * er + eg * eg + eb * eb > maxDiff) continue;
        const fr = er + jr;
        const fg = eg + jg;
        const fb = eb + jb;
        const hr = er + ((jr / 2) | 0);
        const hg = eg + ((jg / 2) | 0);
        const hb = eb + ((jb / 2) | 0);
        const diff = Math.min(fr * fr + fg * fg + fb * fb, hr * hr + hg * hg + hb * hb);
        if (diff > maxDiff || (reach === bestEnd && sum + diff >= bestDiff)) continue;
        search(c, p + 1, sum + diff, er + (((jr * 3) / 4) | 0), eg + (((jg * 3) / 4) | 0), eb + (((jb * 3) / 4) | 0), base + m + 1);
      }
    }
  };

  emit(clear);
  let pos = 0;
  while (pos < n) {
    // A string starts with its own pixel, exactly.
    const first = pref[pos]!;
    bestNode = first;
    bestEnd = pos + 1;
    bestDiff = 0;
    start = pos;
    visits = 0;
    search(first, pos + 1, 0, 0, 0, 0, 0);
    emit(bestNode);
    for (let k = bestEnd - 1, c = bestNode; k >= pos; k--, c = prefix[c]!) chosen[k] = suffix[c]!;
    pos = bestEnd;
    if (pos < n) {
      if (dict.next < MAX_CODES) dict.define(bestNode, pref[pos]!);
      else {
        emit(clear);
        dict.reset();
        codes.restart();
      }
    }
  }
  emit(clear + 1);
  codes.end();
}
