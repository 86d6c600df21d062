import sharp from 'sharp';
import { ssimAgainstLive } from './compare.js';
import { decodeGif, frameAt } from './gif-frames.js';
import type { Shot } from './recorder.js';

/** The player's letterbox colour (player/index.html, #stage): around a viewport of another shape. */
const LETTERBOX = { r: 0xf2, g: 0xf2, b: 0xf2, alpha: 1 };

/**
 * A live screenshot as the render must show it: a shot taken at the viewport the GIF was planned
 * for is itself; one taken at another viewport (the user resized the window) is scaled into that
 * shape and centred on the letterbox, as the player draws it.
 */
export async function liveAsFramed(shot: Pick<Shot, 'png' | 'viewport'>, framed: { width: number; height: number }): Promise<Buffer> {
  const { width: w, height: h } = shot.viewport;
  if (Math.abs(w / h - framed.width / framed.height) < 0.01) return shot.png;
  const s = Math.min(framed.width / w, framed.height / h);
  const sw = Math.round(w * s);
  const sh = Math.round(h * s);
  const inner = await sharp(shot.png).resize(sw, sh, { fit: 'fill' }).png().toBuffer();
  return sharp({ create: { width: framed.width, height: framed.height, channels: 4, background: LETTERBOX } })
    .composite([{ input: inner, left: Math.round((framed.width - sw) / 2), top: Math.round((framed.height - sh) / 2) }])
    .png()
    .toBuffer();
}

export interface MomentScore {
  label: string;
  /** Seconds from the GIF's start. */
  atS: number;
  ssim: number;
}

/**
 * Compares each live screenshot with the GIF frame on screen at its moment (the GIF starts at
 * `gifStartTs`, wall ms of the recording). `framed` is the viewport the render planned its frames
 * for (the recording's first, for a window starting at its first page); `footer` frames leave the
 * strip under the picture out.
 */
export async function scoreMoments(gif: Buffer, shots: Shot[], gifStartTs: number, framed: { width: number; height: number }): Promise<MomentScore[]> {
  const decoded = decodeGif(gif);
  const frameHeight = Math.round((decoded.width * framed.height) / framed.width);
  const out: MomentScore[] = [];
  for (const shot of shots) {
    const at = shot.ts - gifStartTs;
    const frame = frameAt(decoded, at);
    out.push({ label: shot.label, atS: +(at / 1000).toFixed(2), ssim: +(await ssimAgainstLive(await liveAsFramed(shot, framed), frame.rgba, decoded.width, frameHeight)).toFixed(4) });
  }
  return out;
}

/** The shots taken within [startS, endS) of a recording whose first event is at `firstTs` (wall ms). */
export function shotsInWindow<T extends Pick<Shot, 'ts'>>(shots: T[], firstTs: number, startS: number, endS: number): T[] {
  return shots.filter((s) => s.ts >= firstTs + startS * 1000 && s.ts < firstTs + endS * 1000);
}

/** `label  0.9876  (12.30 s)` lines, for logs. */
export function formatScores(title: string, scores: MomentScore[]): string {
  const w = Math.max(...scores.map((s) => s.label.length));
  return [`${title}:`, ...scores.map((s) => `  ${s.label.padEnd(w)}  ${s.ssim.toFixed(4)}  (${s.atS.toFixed(2)} s)`)].join('\n');
}
