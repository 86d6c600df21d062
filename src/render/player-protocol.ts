// What Node and the player page (player/player.ts) say to each other: types only, no DOM.

export interface PlayerConfig {
  /** Size of the picture area (the footer comes below it). */
  frameWidth: number;
  frameHeight: number;
  footerHeight: number;
  /** Timestamp of the recording's first event: the footer counts session time from it. */
  sessionStartTs: number;
  /** How long a click ripple stays visible, in ms of replay time. */
  clickRippleMs: number;
  /** Which window is on screen from when (sorted; the first span starts the clip). */
  schedule: { key: string; fromTs: number }[];
  /** 'frozen': CSS animations paused as rrweb's Replayer does (the tests' control); default 'live'. */
  motion?: 'live' | 'frozen';
  /** The benchmark's plain approach: seek with rrweb's own pause(t) at every frame, rrweb's defaults. */
  naive?: boolean;
  /** GIF pixels per picture-area pixel (the browser's picture is scaled down to the GIF's size). */
  outputScale?: number;
}

/**
 * The Server-Timing metric with which the asset proxy marks an animated image (animated-image.ts):
 * `dur` is one pass in ms, `desc` how many passes (0: forever) and how many frames. The player reads it from the image's
 * resource timing entry.
 */
export const ANIMATED_IMAGE_TIMING = 'rr-animated-image';

/** What moves by itself in the visible replay after a step. */
export interface Motion {
  /**
   * Something on screen moves by itself: capture again once this much replay time (ms) has passed
   * since the last picture (0: at every slot). The player decides it per animation (player.ts).
   */
  everyMs: number | null;
  /** Replay time at which the next animation now waiting for its delay or in a hold moves, if any. */
  nextStartTs: number | null;
}

/** Stylesheets (linked sheets, style elements, constructed sheets) whose recorded text lost declarations (lost-css.ts): taken again from the site, or repaired. */
export interface StylesheetReport {
  /** Distinct stylesheet texts the recording holds with lost declarations (a sheet shared by pages counts once). */
  lost: number;
  /** Of those, the ones the site still serves as the same sheet: replayed from the site's text. */
  restored: number;
  /** Distinct stylesheet texts whose loss was repaired where it is, with no source (lost-css.ts, repairedCss). */
  repaired: number;
}

export interface StepResult {
  /** Assets (fonts, images, stylesheets) still loading when the wait gave up. */
  pending: number;
  href: string;
  motion: Motion;
  /** The clicks drawn on this frame (Node draws them: src/render/ripples.ts). */
  ripples: Ripple[];
  /** Where the mouse pointer is drawn on this frame (Node draws it: src/render/pointer.ts); null: none (no position recorded yet, or a touch device, whose marker the page draws). */
  pointer: Pointer | null;
  /**
   * Nothing on the page changed since the step began but the pointer's position, which Node draws:
   * no event but pointer moves, the same elements hovered, no scroll put back, nothing loaded or
   * loading, nothing moving by itself or waiting to (animations, a playing video), the same window
   * and footer. Node draws no frame for it, and
   * the page then does not wait for one before the next step.
   */
  still: boolean;
  /**
   * The page has a change of its own to make at the next frame's step, with no event there: the
   * hover Chromium moves at the frame after a layout change under a still pointer (player.ts,
   * rehover). That slot is then stepped and drawn as one with an event.
   */
  recheck?: boolean;
  /** How long the step (or settle) took the page, not counting a wait for the frame before it. */
  ms?: number;
  /**
   * Of that, how long the page waited for assets to load (and drew canvases' recorded pictures):
   * what the render's asset budget is charged. Replaying events and drawing videos' pictures is the
   * page's work, not a wait, and charging it would make a slower machine give up on assets sooner.
   */
  assetMs?: number;
}

/** A click being drawn: its centre on the picture (capture pixels, footer excluded) and how far its ripple has run (0 to 1). */
export interface Ripple {
  x: number;
  y: number;
  progress: number;
}

/**
 * The mouse pointer as rrweb's Replayer places it: the box of its cursor image (rrweb's
 * .replayer-mouse), whose top left corner is where the pointer is, in capture pixels.
 */
export interface Pointer {
  x: number;
  y: number;
  size: number;
}

/** One window (tab) of the recording, for the player. */
export interface PlayerWindow {
  key: string;
  /** rrweb events, from the Meta + full snapshot before the window is first shown. */
  events: unknown[];
  /** Clicks to draw: replay timestamp and recorded-viewport position. */
  clicks: { ts: number; x: number; y: number }[];
}

/** What the player is handed at init (gzipped JSON). */
export interface PlayerPayload {
  windows: PlayerWindow[];
}
