import type { RrwebEvent } from '../recording/types.js';

export interface RenderOptions {
  /** Seconds from the recording's first event. */
  startS: number;
  /** Seconds from the recording's first event; defaults to the recording's end. */
  endS?: number;
  /** GIF frames per second of output. */
  fps: number;
  /** Output width in pixels; the height keeps the recorded aspect ratio. */
  width: number;
  /** Playback speed: 2 shows 10 s of session in a 5 s GIF. */
  speed: number;
  /** A strip under the frame with the page URL and the time into the session. */
  footer: boolean;
  /** Origins (scheme://host[:port]) the network policy lets through even when they resolve to private addresses. */
  allowOrigins: string[];
  /** The longest window (in seconds of session) we agree to render. */
  maxDurationS: number;
}

export const DEFAULT_RENDER_OPTIONS: Omit<RenderOptions, 'startS'> = {
  fps: 10,
  width: 800,
  speed: 1,
  footer: false,
  allowOrigins: [],
  maxDurationS: 600,
};

export interface RenderProgress {
  /** Frame slots processed so far. */
  done: number;
  /** Frame slots in the clip. */
  total: number;
  /** Screenshots taken so far. */
  captured: number;
}

export interface RenderContext {
  /** A running browser to render in (a fresh context is made per render); launched and closed per render when absent. */
  browser?: import('playwright-core').Browser;
  onProgress?: (p: RenderProgress) => void;
  signal?: AbortSignal;
  /**
   * 'plain' is the naive method kept for the benchmark to measure against: seek and screenshot
   * every frame slot, and a palette per frame with no transparency.
   */
  method?: 'fast' | 'plain';
  /** Longest one call to the page may take before the browser is taken to be stuck (default 30 s). */
  pageCallTimeoutMs?: number;
  /**
   * 'frozen' renders as rrweb's paused Replayer shows a page (CSS animations stopped, only slots with
   * events captured): the control for the motion tests and the benchmark. Default 'live'.
   */
  motion?: 'live' | 'frozen';
  /** The rrweb build the player runs (see player-bundle.ts); the benchmark compares them. */
  replayer?: import('./player-bundle.js').ReplayerBuild;
}

export interface RenderResult {
  gif: Buffer;
  width: number;
  height: number;
  /** GIF frames written. */
  frames: number;
  /** Screenshots taken. */
  captured: number;
  /** Duration of the GIF in seconds. */
  durationS: number;
  /** Session time span rendered, in seconds from the recording's first event. */
  startS: number;
  endS: number;
  wallMs: number;
  /** Assets the network policy refused or that failed to load (for logs). */
  assetFailures: number;
  /** How frames were captured: begin-frame (headless shell) or the screenshot fallback. */
  frameSource: 'begin-frame' | 'screenshot';
  /**
   * Where the wall time went: setup (starting the browser and player, replaying the page up to the
   * window's start), bringing the replay to each later captured frame (seek, assets, settle),
   * taking the pictures, and finishing the GIF after the last one.
   */
  timings: {
    setupMs: number;
    /** Parts of setupMs: starting the browser (0 with a warm one), loading the player and handing it the events, replaying up to the first frame. */
    launchMs: number;
    initMs: number;
    firstStepMs: number;
    replayMs: number;
    captureMs: number;
    encodeMs: number;
    /** Steps after the first (each brings the replay to a captured frame), and their median time. */
    steps: number;
    stepMedianMs: number;
  };
}

export type { RrwebEvent };
