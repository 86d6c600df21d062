/** The GIF's picture and the browser viewport that draws it. */

export function footerHeightFor(width: number): number {
  return Math.max(18, Math.round(width * 0.04));
}

/**
 * The browser draws the recorded viewport at up to this multiple of the output size, and the
 * compositor (begin-frame capture, frame-source.ts) or sharp (screenshot capture) scales it down:
 * text drawn small by the browser is hinted for a size nobody recorded, while a downscaled
 * full-size frame looks like the page the user saw (SSIM on text-heavy moments: 0.94 -> 0.99).
 * Measured on the fixture journey's 30 s moment (2026-12-01): capture scale 1.6 (the recorded 1280
 * px) SSIM 0.993 against live, 1.25: 0.987, 1: 0.985; the capture time falls by 25 % and 45 %.
 */
const MAX_CAPTURE_SCALE = 2;

/**
 * The tallest picture, as a multiple of its width. Phones are about 2.2; a taller recorded viewport
 * (a hostile or broken Meta event) is letterboxed into this rather than making a GIF of any height.
 */
const MAX_ASPECT = 3;

export interface FrameGeometry {
  /** The GIF's size: output width, recorded aspect, plus the footer. */
  width: number;
  height: number;
  frameHeight: number;
  footerHeight: number;
  /** The browser's viewport: the same layout at captureScale. */
  capture: { width: number; height: number; frameHeight: number; footerHeight: number; scale: number };
}

export function frameGeometry(viewport: { width: number; height: number }, width: number, footer: boolean): FrameGeometry {
  const frameHeight = Math.max(2, Math.min(Math.round(width * MAX_ASPECT), Math.round((width * viewport.height) / viewport.width)));
  const footerHeight = footer ? footerHeightFor(width) : 0;
  const scale = Math.min(Math.max(1, viewport.width / width), MAX_CAPTURE_SCALE);
  const cFrame = Math.round(frameHeight * scale);
  const cFooter = Math.round(footerHeight * scale);
  return {
    width,
    height: frameHeight + footerHeight,
    frameHeight,
    footerHeight,
    capture: { width: Math.round(width * scale), height: cFrame + cFooter, frameHeight: cFrame, footerHeight: cFooter, scale },
  };
}

/**
 * Where Node's marks (click ripples, the pointer: marks.ts) land on a frame: its width in output
 * pixels, the picture area above the footer, and output pixels per capture pixel (the player gives
 * positions in capture pixels).
 */
export interface PictureLayout {
  width: number;
  frameHeight: number;
  scale: number;
}

export function pictureLayout(g: FrameGeometry): PictureLayout {
  return { width: g.width, frameHeight: g.frameHeight, scale: g.width / g.capture.width };
}

/** A rectangle of output pixels: [x, x + w) x [y, y + h). */
export interface PixelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}
