import type { RrwebEvent } from '../recording/types.js';
import { DEFAULTS } from '../request/fields.js';
import type { RenderRequest } from '../request/render.js';
import type { BudgetReport } from './gif/budget.js';

/**
 * What a render is asked for. The fields and their limits are the request module's (src/request):
 * the engine parses them through it like every other edge does.
 */
export interface RenderOptions extends Omit<RenderRequest, 'maxBytes'> {
  /** The GIF's byte budget; undefined = no budget (the CLI's default; the service's is 1 MiB). */
  maxBytes?: number;
  /** Origins (scheme://host[:port]) the network policy lets through even when they resolve to private addresses. */
  allowOrigins: string[];
}

/** The request module's defaults, as a starting point for RenderOptions. */
export const DEFAULT_RENDER_OPTIONS: Omit<RenderOptions, 'startS'> = {
  fps: DEFAULTS.fps,
  width: DEFAULTS.width,
  playbackSpeed: DEFAULTS.playbackSpeed,
  footer: DEFAULTS.footer,
  allowOrigins: [],
  maxDurationS: DEFAULTS.maxDurationS,
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
  /**
   * Without `browser`: this render's own browser, already starting (launchOwnBrowser), so that it
   * starts while the caller still reads the recording (the CLI). The render closes it, whatever
   * happens, from the moment renderRecording is called.
   */
  ownBrowser?: Promise<import('playwright-core').Browser>;
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
  /**
   * false: each step waits for the capture before it (CaptureLoop.stepAhead), the reference the
   * tests hold the default to. Default true.
   */
  stepAhead?: boolean;
  /**
   * false: the browser draws a frame for still steps too (CaptureLoop: a step that changed nothing
   * but the pointer), and finds nothing redrawn; no step is then sent ahead (stepAhead). The
   * reference the tests hold the default to. Default true.
   */
  skipStill?: boolean;
  /**
   * false: the pages' assets are fetched only when the page asks (asset-prefetch.ts), the reference
   * the tests and the benchmark measure the default against. Default true.
   */
  prefetchAssets?: boolean;
  /**
   * Answers kept across renders (the worker's, asset-cache.ts): a render asks it before the site,
   * and offers it what it fetched. Absent: every render fetches for itself (the CLI).
   */
  assetCache?: import('./asset-cache.js').AssetCache;
  /**
   * With `browser`: closes that browser (it stopped answering: `reason`) and gives a fresh one in its
   * place (BrowserLease.replace), so that the render can start again in it at once. Absent: a render
   * in a lent browser that stops answering fails (page_unresponsive), and its caller replaces it.
   */
  replaceBrowser?: (reason: string) => Promise<import('playwright-core').Browser>;
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
  /** What the encoder did to fit `maxBytes`, when a budget was given (the GIF writer fills it). */
  budget?: BudgetReport;
  /** Assets the network policy refused or that failed to load (for logs). */
  assetFailures: number;
  /** Assets fetched before the page asked (asset-prefetch.ts), and how many of them it asked for. */
  assetsPrefetched: { urls: number; used: number };
  /** Assets the page got from the cache shared between renders (RenderContext.assetCache) instead of the site. */
  assetsFromCache: number;
  /**
   * Stylesheets (linked sheets, style elements) the recording holds with declarations lost to the
   * recorder's serialization (a var() shorthand), and how many of them were replayed from the site's
   * own text instead.
   */
  stylesheets: import('./player-protocol.js').StylesheetReport;
  /** How frames were captured: begin-frame (headless shell) or the screenshot fallback. */
  frameSource: 'begin-frame' | 'screenshot';
  /**
   * Where the pictures came from: the page's screencast (begin-frame, the fast way) or viewport
   * screenshots (any Chromium; a begin-frame browser whose screencast did not start). The two scale
   * differently, so the same moment can differ slightly between them.
   */
  pictureSource: import('./frame-source.js').PictureSource;
  /** Threads the encodes ran on: 2 when part of their frames were coded on the second thread (src/render/gif/part.ts). */
  encodeThreads: 1 | 2;
  /**
   * 1 when the browser stopped answering mid-render (a begin-frame Chromium never answered, most
   * often) and the clip was rendered again in a fresh one; wallMs counts both attempts. 0 normally.
   */
  restarts: 0 | 1;
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
    /** Of those, steps sent while the frame before was captured (replayMs counts only the wait left after the capture). */
    stepsAhead: number;
    /** Of those, steps that changed nothing on the page but the pointer: the browser drew no frame for them. */
    stillSlots: number;
    stepMedianMs: number;
    /**
     * Pictures the screencast did not deliver in time (0 normally): each such frame shows the next
     * frame's picture, or a begin-frame screenshot when no frame with a change was drawn after it.
     */
    captureFallbacks: number;
    /**
     * Of all steps (the first included), the time spent waiting for assets (fonts, images,
     * stylesheets, canvases' pictures) to load: what the render's asset budget (8 s) is charged.
     */
    assetWaitMs: number;
  };
}

export type { RrwebEvent };

export type { BudgetReport };
