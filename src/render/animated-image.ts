import { ANIMATED_IMAGE_TIMING } from './player-protocol.js';

/**
 * Which assets are animated images (GIF, APNG, animated WebP), and how they move. Chromium plays them
 * on the frame clock Node drives, but nothing in the page's DOM says an image is animated: the asset
 * proxy reads it from the bytes it serves and tells the player (player-protocol.ts,
 * ANIMATED_IMAGE_TIMING), whose motion rule then captures the image while it is on screen.
 */

export interface ImageAnimation {
  frames: number;
  /** One pass over all frames, ms (per-frame delays as Chromium plays them). */
  loopMs: number;
  /** How many times it plays; 0: forever. */
  plays: number;
}

/**
 * Chromium plays a frame delay of 10 ms or less as 100 ms (as other browsers do: old GIFs say 0 and
 * mean "as fast as is sensible").
 */
function playedDelayMs(ms: number): number {
  return ms <= 10 ? 100 : ms;
}

/** Frames counted at most: enough to know it is animated and roughly how long a pass takes. */
const MAX_FRAMES = 10_000;

/** The animation of an image's bytes, or undefined when they are not an animated image. */
export function imageAnimation(body: Uint8Array): ImageAnimation | undefined {
  if (body.length < 16) return undefined;
  try {
    if (ascii(body, 0, 4) === 'GIF8') return gifAnimation(body);
    if (body[0] === 0x89 && ascii(body, 1, 3) === 'PNG') return apngAnimation(body);
    if (ascii(body, 0, 4) === 'RIFF' && ascii(body, 8, 4) === 'WEBP') return webpAnimation(body);
  } catch (err) {
    // A truncated or malformed file reads past its end: whatever it is, it is not known to move.
    if (err instanceof RangeError) return undefined;
    throw err;
  }
  return undefined;
}

function ascii(b: Uint8Array, at: number, n: number): string {
  if (at + n > b.length) return '';
  return String.fromCharCode(...b.subarray(at, at + n));
}

function animation(frames: number, loopMs: number, plays: number): ImageAnimation | undefined {
  return frames >= 2 ? { frames, loopMs, plays } : undefined;
}

/** Reads bounds-checked: a read past the end throws RangeError (imageAnimation). */
class Reader {
  constructor(
    private readonly b: Uint8Array,
    public at = 0,
  ) {}
  get left(): number {
    return this.b.length - this.at;
  }
  u8(): number {
    if (this.at >= this.b.length) throw new RangeError('past the end');
    return this.b[this.at++]!;
  }
  u16le(): number {
    return this.u8() | (this.u8() << 8);
  }
  skip(n: number): void {
    if (n < 0 || this.at + n > this.b.length) throw new RangeError('past the end');
    this.at += n;
  }
}

/**
 * GIF: frames are image descriptors; each one's delay is in the graphic control extension before it;
 * a NETSCAPE2.0 (or ANIMEXTS1.0) application extension gives the loop count (0: forever, n: n more
 * passes after the first); without one Chromium plays it once.
 */
function gifAnimation(body: Uint8Array): ImageAnimation | undefined {
  const r = new Reader(body, 10);
  const packed = r.u8();
  r.skip(2);
  if (packed & 0x80) r.skip(3 * (1 << ((packed & 7) + 1)));
  let frames = 0;
  let loopMs = 0;
  let delayMs = 0;
  let plays = 1;
  const subBlocks = (each?: (data: Uint8Array) => void) => {
    for (let size = r.u8(); size > 0; size = r.u8()) {
      const start = r.at;
      r.skip(size);
      each?.(body.subarray(start, start + size));
    }
  };
  while (r.left > 0 && frames < MAX_FRAMES) {
    const block = r.u8();
    if (block === 0x3b) break;
    if (block === 0x21) {
      const label = r.u8();
      if (label === 0xf9) {
        subBlocks((d) => {
          if (d.length >= 3) delayMs = (d[1]! | (d[2]! << 8)) * 10;
        });
      } else if (label === 0xff) {
        let app = '';
        subBlocks((d) => {
          if (!app) app = String.fromCharCode(...d.subarray(0, 11));
          else if ((app === 'NETSCAPE2.0' || app === 'ANIMEXTS1.0') && d.length >= 3 && d[0] === 1) {
            const n = d[1]! | (d[2]! << 8);
            plays = n === 0 ? 0 : n + 1;
          }
        });
      } else subBlocks();
    } else if (block === 0x2c) {
      r.skip(8);
      const p = r.u8();
      if (p & 0x80) r.skip(3 * (1 << ((p & 7) + 1)));
      r.u8();
      subBlocks();
      frames++;
      loopMs += playedDelayMs(delayMs);
      delayMs = 0;
    } else break;
  }
  return animation(frames, loopMs, plays);
}

/** APNG: an acTL chunk before the image data gives the frame count and plays; fcTL chunks the delays. */
function apngAnimation(body: Uint8Array): ImageAnimation | undefined {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let frames = 0;
  let plays = 0;
  let loopMs = 0;
  for (let at = 8; at + 8 <= body.length; ) {
    const length = view.getUint32(at);
    const type = ascii(body, at + 4, 4);
    const data = at + 8;
    if (data + length > body.length) break;
    if (type === 'acTL' && length >= 8) {
      frames = view.getUint32(data);
      plays = view.getUint32(data + 4);
    } else if (type === 'fcTL' && length >= 26) {
      const num = view.getUint16(data + 20);
      const den = view.getUint16(data + 22) || 100;
      loopMs += playedDelayMs((num * 1000) / den);
    } else if ((type === 'IDAT' && frames === 0) || type === 'IEND') break;
    at = data + length + 4;
  }
  return animation(frames, loopMs, plays);
}

/** WebP: the VP8X header flags animation; ANIM gives the loop count, each ANMF frame its duration. */
function webpAnimation(body: Uint8Array): ImageAnimation | undefined {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let animated = false;
  let frames = 0;
  let plays = 0;
  let loopMs = 0;
  for (let at = 12; at + 8 <= body.length && frames < MAX_FRAMES; ) {
    const type = ascii(body, at, 4);
    const size = view.getUint32(at + 4, true);
    const data = at + 8;
    if (data + size > body.length) break;
    if (type === 'VP8X' && size >= 1) animated = (body[data]! & 0x02) !== 0;
    else if (type === 'ANIM' && size >= 6) plays = view.getUint16(data + 4, true);
    else if (type === 'ANMF' && size >= 16) {
      frames++;
      loopMs += playedDelayMs(body[data + 12]! | (body[data + 13]! << 8) | (body[data + 14]! << 16));
    }
    at = data + size + (size & 1);
  }
  return animated ? animation(frames, loopMs, plays) : undefined;
}

/**
 * The Server-Timing header value that tells the player page an image moves: the page reads it from
 * the image's resource timing entry (player.ts), the one channel from a response to a page that
 * needs neither a script in the replayed document nor another call. Its description is the plays
 * and the frame count.
 */
export function animationTimingHeader(a: ImageAnimation): string {
  return `${ANIMATED_IMAGE_TIMING};dur=${Math.round(a.loopMs)};desc="${a.plays} ${a.frames}"`;
}
