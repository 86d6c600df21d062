import sharp from 'sharp';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { planClip, CLICK_RIPPLE_MS } from '../recording/clip.js';
import { inferColorScheme } from '../recording/color-scheme.js';
import { InputError } from '../recording/errors.js';
import type { RrwebEvent } from '../recording/types.js';
import { AssetProxy, PLAYER_ORIGIN } from './asset-proxy.js';
import { launchBrowser } from './browser.js';
import { newRenderContext, openFrameSource, type FrameSource } from './frame-source.js';
import { GifWriter, PaletteSampler } from './gif.js';
import { NetworkPolicy } from './network-policy.js';
import { playerAssets } from './player-bundle.js';
import type { RenderContext, RenderOptions, RenderResult } from './types.js';
import type { Motion, PlayerConfig, PlayerPayload, StepResult } from './player-protocol.js';

const gzipAsync = promisify(gzip);

/** Longest we hold one frame for its assets, and for all frames of a render together. */
const ASSET_WAIT_PER_FRAME_MS = 1500;
const ASSET_WAIT_PER_RENDER_MS = 8000;
/** Raw frames kept in memory up to this; past it they are decoded again from PNG at encode time. */
const RAW_FRAME_BUDGET_BYTES = 384 * 1024 * 1024;

interface Captured {
  /** Kept only while its raw pixels are not (past the raw budget it is decoded again at encode time). */
  png: Buffer | undefined;
  rgba: Promise<Buffer | undefined>;
  delayCs: number;
}

export function footerHeightFor(width: number): number {
  return Math.max(18, Math.round(width * 0.04));
}

/**
 * The browser draws the recorded viewport at up to this multiple of the output size, and sharp scales
 * it down: text drawn small by the browser is hinted for a size nobody recorded, while a downscaled
 * full-size frame looks like the page the user saw (SSIM on text-heavy moments: 0.94 -> 0.99).
 */
const MAX_CAPTURE_SCALE = 2;

export interface FrameGeometry {
  /** The GIF's size: output width, recorded aspect, plus the footer. */
  width: number;
  height: number;
  frameHeight: number;
  footerHeight: number;
  /** The browser's viewport: the same layout at captureScale. */
  capture: { width: number; height: number; frameHeight: number; footerHeight: number; scale: number };
}

/**
 * The tallest picture, as a multiple of its width. Phones are about 2.2; a taller recorded viewport
 * (a hostile or broken Meta event) is letterboxed into this rather than making a GIF of any height.
 */
const MAX_ASPECT = 3;

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
 * Renders the window [startS, endS] of a recording to a GIF. Throws InputError (src/recording/errors)
 * for anything wrong with the recording or the options; any other error is transient (retry).
 */
export async function renderRecording(events: RrwebEvent[], options: RenderOptions, ctx: RenderContext = {}): Promise<RenderResult> {
  const started = performance.now();
  const clip = planClip(events, options);
  const geometry = frameGeometry(clip.viewport, Math.round(options.width), options.footer);
  const { width, height, capture } = geometry;

  const plain = ctx.method === 'plain';
  // The plain baseline screenshots every frame, so its browser draws on its own.
  const ownBrowser: Browser | undefined = ctx.browser ? undefined : await launchBrowser({}, plain ? 'screenshot' : 'begin-frame');
  const launchedAt = performance.now();
  const browser = ctx.browser ?? ownBrowser!;
  const context = await newRenderContext(browser, {
    viewport: { width: capture.width, height: capture.height },
    deviceScaleFactor: 1,
    serviceWorkers: 'block',
    acceptDownloads: false,
    // Media features as the user had them: pages that honour prefers-reduced-motion must move, and
    // the colour scheme is the one the page marked itself with.
    reducedMotion: 'no-preference',
    colorScheme: inferColorScheme(clip.windows[0]!.events),
  });
  // One signal stops the render: the caller's cancel, or the replay page's renderer dying (a crash
  // fails the render at once instead of at the next page call's deadline).
  const stop = new AbortController();
  const cancel = () => stop.abort(ctx.signal?.reason instanceof Error ? ctx.signal.reason : new Error('render cancelled'));
  if (ctx.signal?.aborted) cancel();
  ctx.signal?.addEventListener('abort', cancel, { once: true });
  const abort = stop.signal;
  const limits: CallLimits = { signal: abort, timeoutMs: ctx.pageCallTimeoutMs ?? PAGE_CALL_TIMEOUT_MS };
  try {
    const proxy = new AssetProxy(new NetworkPolicy({ allowOrigins: options.allowOrigins }), await playerAssets(ctx.replayer), abort);
    await proxy.attach(context);
    const source = await openFrameSource(browser, context);
    source.page.once('crash', () => stop.abort(new Error('the replay page crashed (its renderer process is gone)')));
    await bounded(source.page.goto(`${PLAYER_ORIGIN}/`, { waitUntil: 'load' }), 'loading the player', limits);
    await initPlayer(source, browser, { windows: clip.windows.map(({ key, events, clicks }) => ({ key, events, clicks })) }, limits, {
      frameWidth: capture.width,
      frameHeight: capture.frameHeight,
      footerHeight: capture.footerHeight,
      sessionStartTs: clip.recordingStartTs,
      clickRippleMs: CLICK_RIPPLE_MS,
      schedule: clip.schedule,
      motion: ctx.motion ?? 'live',
      naive: plain,
    });

    const timings = { setupMs: performance.now() - started, launchMs: launchedAt - started, initMs: performance.now() - launchedAt, firstStepMs: 0, replayMs: 0, captureMs: 0, encodeMs: 0 };
    const stepMs: number[] = [];
    const captures: Captured[] = [];
    const sampler = new PaletteSampler();
    let rawBytes = 0;
    let waitBudget = ASSET_WAIT_PER_RENDER_MS;
    let seenActivity = -1;
    let carryPending = false;
    let motion: Motion = { finite: false, infinite: false, nextStartTs: null };
    let lastCaptureTs = -Infinity;
    const total = clip.frames.length;
    for (let k = 0; k < total; k++) {
      abort.throwIfAborted();
      const slot = clip.frames[k]!;
      const last = captures[captures.length - 1];
      const networkMoved = proxy.activity !== seenActivity || proxy.inflight > 0;
      if (!plain && !slot.dirty && !networkMoved && !carryPending && !moves(motion, slot.seekTs, lastCaptureTs) && last) {
        last.delayCs += slot.delayCs;
      } else {
        const waitedFrom = performance.now();
        const cap = Math.min(ASSET_WAIT_PER_FRAME_MS, waitBudget);
        const at = `${((slot.seekTs - clip.recordingStartTs) / 1000).toFixed(2)} s`;
        let step = await callPlayer(source, `step(${slot.seekTs}, ${JSON.stringify(slot.cuts)}, ${Math.round(cap)})`, at, limits);
        // Requests the page made show up here; once they land, the page needs a moment to use them
        // (decode a font, lay out again), so settle again before the picture.
        for (let round = 0; round < 3 && proxy.inflight > 0; round++) {
          const left = cap - (performance.now() - waitedFrom);
          if (left <= 0) break;
          await proxy.waitIdle(left);
          step = await callPlayer(source, `settle(${Math.round(Math.max(0, cap - (performance.now() - waitedFrom)))}, ${slot.seekTs})`, at, limits);
        }
        const replayed = performance.now();
        // The first step replays the page's history up to the window: that is setup, paid once.
        if (k === 0) {
          timings.setupMs += replayed - waitedFrom;
          timings.firstStepMs = replayed - waitedFrom;
        }
        else {
          timings.replayMs += replayed - waitedFrom;
          stepMs.push(replayed - waitedFrom);
        }
        waitBudget = Math.max(0, waitBudget - (replayed - waitedFrom));
        carryPending = step.pending > 0 || proxy.inflight > 0;
        seenActivity = proxy.activity;
        motion = step.motion;
        lastCaptureTs = slot.seekTs;
        const png = await bounded(source.capture(slot.seekTs - clip.startTs), `the capture at ${at}`, limits);
        timings.captureMs += performance.now() - replayed;
        if (!png && last) {
          last.delayCs += slot.delayCs;
        } else if (png) {
          // Decoding runs on libuv's threads while the browser draws the next frame.
          const captured: Captured = { png, rgba: Promise.resolve(undefined), delayCs: slot.delayCs };
          captured.rgba = decode(png, width, height).then((buf) => {
            sampler.add(buf);
            if (rawBytes + buf.length > RAW_FRAME_BUDGET_BYTES) return undefined;
            rawBytes += buf.length;
            captured.png = undefined;
            return buf;
          });
          captured.rgba.catch(() => {});
          captures.push(captured);
        } else {
          throw new Error('the browser returned no picture for the first frame');
        }
      }
      ctx.onProgress?.({ done: k + 1, total, captured: captures.length });
    }

    const encodeFrom = performance.now();
    await Promise.all(captures.map((c) => c.rgba));
    const writer = new GifWriter(width, height, sampler.palette(), plain ? { paletteEveryFrame: true } : {});
    for (const c of captures) {
      const rgba = (await c.rgba) ?? (await decode(c.png!, width, height));
      writer.addFrame(rgba, c.delayCs);
    }
    const gif = writer.finish();
    timings.encodeMs = performance.now() - encodeFrom;
    return {
      gif,
      width,
      height,
      frames: writer.stats.frames,
      captured: captures.length,
      durationS: clip.durationCs / 100,
      startS: (clip.startTs - clip.recordingStartTs) / 1000,
      endS: (clip.endTs - clip.recordingStartTs) / 1000,
      wallMs: Math.round(performance.now() - started),
      assetFailures: proxy.failures,
      frameSource: source.kind,
      timings: {
        setupMs: Math.round(timings.setupMs),
        launchMs: Math.round(timings.launchMs),
        initMs: Math.round(timings.initMs),
        firstStepMs: Math.round(timings.firstStepMs),
        replayMs: Math.round(timings.replayMs),
        captureMs: Math.round(timings.captureMs),
        encodeMs: Math.round(timings.encodeMs),
        steps: stepMs.length,
        stepMedianMs: +median(stepMs).toFixed(1),
      },
    };
  } finally {
    ctx.signal?.removeEventListener('abort', cancel);
    await context.close().catch(() => {});
    await ownBrowser?.close().catch(() => {});
  }
}

/**
 * Infinite animations that never pause (spinners, tickers) are sampled this often, in ms of replay
 * time: at full rate they make every slot a capture for as long as they are on screen. Measured on
 * the motion fixture's 30 s moment (spinners and a ticker throughout): 200 ms gave 211 captures and
 * 1.15 MB, 400 ms 162 captures and 0.93 MB with SSIM >= 0.98 at every moment, 500 ms 134 captures
 * but a moment at 0.92 (a ticker half a second stale). Carousels move at full rate between holds.
 */
const INFINITE_MOTION_INTERVAL_MS = 400;

/** Whether what moves on its own in the replay makes the slot at `ts` a new picture. */
function moves(m: Motion, ts: number, lastCaptureTs: number): boolean {
  if (m.finite) return true;
  if (m.nextStartTs !== null && ts >= m.nextStartTs) return true;
  return m.infinite && ts - lastCaptureTs >= INFINITE_MOTION_INTERVAL_MS;
}

/**
 * Longest one call to the page may take (a step includes its capped asset wait): past it the browser
 * is taken to be stuck and the render fails (transient: a job is retried on a fresh browser).
 */
export const PAGE_CALL_TIMEOUT_MS = 30_000;

/** The browser did not answer a page call in time (a hung renderer): transient, and the browser is suspect. */
export class PageUnresponsive extends Error {
  override readonly name = 'PageUnresponsive';
}

interface CallLimits {
  signal: AbortSignal | undefined;
  timeoutMs: number;
}

/** A page call that gives up at the deadline or when the render is cancelled, instead of waiting forever. */
function bounded<T>(call: Promise<T>, what: string, limits: CallLimits): Promise<T> {
  const { signal, timeoutMs } = limits;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new PageUnresponsive(`the browser did not finish ${what} within ${timeoutMs / 1000} s`)), timeoutMs);
    const onAbort = () => reject(signal?.reason as Error);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  });
}

/** Hands the clip's events to the player page (player/player.ts), which builds the replay. */
async function initPlayer(source: FrameSource, browser: Browser, payload: PlayerPayload, limits: CallLimits, config: PlayerConfig): Promise<void> {
  try {
    // JSON strings: Playwright's serializer overflows its stack on deep snapshots passed as objects.
    const packed = (await gzipAsync(JSON.stringify(payload), { level: 1 })).toString('base64');
    const init = source.page.evaluate(
      ([ev, cfg]) => (globalThis as unknown as { __rr: { init(a: string, b: string): Promise<void> } }).__rr.init(ev, cfg),
      [packed, JSON.stringify(config)] as const,
    );
    await bounded(init, 'building the replay', limits);
  } catch (err) {
    // rrweb refusing the events (a snapshot it cannot build) is the recording's fault; a page or
    // browser that went away is not.
    if (source.page.isClosed() || !browser.isConnected() || err instanceof PageUnresponsive || limits.signal?.aborted) throw err;
    const why = String((err as Error).message ?? err).replace(/^page\.evaluate: /, '').split('\n')[0];
    throw new InputError(`the recording cannot be replayed (init): ${why}`);
  }
}

/** One round trip to the player page, straight over CDP. */
async function callPlayer(source: FrameSource, call: string, at: string, limits: CallLimits): Promise<StepResult> {
  const sent = source.cdp.send('Runtime.evaluate', { expression: `window.__rr.${call}`, awaitPromise: true, returnByValue: true });
  const r = (await bounded(sent, `${call.slice(0, call.indexOf('('))} at ${at}`, limits)) as { result: { value?: StepResult }; exceptionDetails?: { exception?: { description?: string }; text: string } };
  if (r.exceptionDetails) {
    // The player threw while applying the recording's events (rrweb on a malformed snapshot or
    // mutation). That is the same on every attempt, so it is the recording's fault, not transient.
    const why = (r.exceptionDetails.exception?.description ?? r.exceptionDetails.text).split('\n')[0];
    throw new InputError(`the recording cannot be replayed (${call.slice(0, call.indexOf('('))} at ${at}): ${why}`);
  }
  return r.result.value ?? { pending: 0, href: '', motion: { finite: false, infinite: false, nextStartTs: null } };
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** PNG capture (drawn at captureScale) to RGBA at the GIF's size, in one sharp pipeline on libuv's threads. */
function decode(png: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(png).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).ensureAlpha().raw().toBuffer();
}
