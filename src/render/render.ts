import { isRasterizerError } from '../errors.js';
import { planClip, type Clip } from '../recording/clip.js';
import type { RrwebEvent } from '../recording/types.js';
import { CaptureLoop, type CaptureTimings } from './capture-loop.js';
import { frameGeometry, type FrameGeometry } from './geometry.js';
import { encodeClip } from './gif.js';
import { ReplayPage } from './replay-page.js';
import type { RenderContext, RenderOptions, RenderResult } from './types.js';

export { footerHeightFor, frameGeometry, type FrameGeometry } from './geometry.js';
export { PAGE_CALL_TIMEOUT_MS } from './replay-page.js';

/**
 * Renders the window [startS, endS] of a recording to a GIF: plan the clip, open the player page,
 * capture the slots that can differ, encode. Throws InputError (src/errors.ts) for anything wrong
 * with the recording or the options; any other error is transient (retry).
 */
export async function renderRecording(events: RrwebEvent[], options: RenderOptions, ctx: RenderContext = {}): Promise<RenderResult> {
  const started = performance.now();
  let clip: ReturnType<typeof planClip>;
  let geometry: ReturnType<typeof frameGeometry>;
  try {
    if (ctx.browser && ctx.ownBrowser) throw new Error('a render takes a shared browser or one of its own, not both');
    clip = planClip(events, options);
    geometry = frameGeometry(clip.viewport, Math.round(options.width), options.footer);
  } catch (err) {
    // A browser started for this render (RenderContext.ownBrowser) is not left running.
    await ctx.ownBrowser?.then((b) => b.close(), () => {}).catch(() => {});
    throw err;
  }
  try {
    return await renderClip(clip, geometry, options, ctx, started, 0);
  } catch (err) {
    // A browser that stopped answering mid-render (most often Chromium's compositor stalling on a
    // begin-frame, frame-source.ts) is replaced and the clip rendered again at once, here, rather
    // than by a retry of the whole job after its backoff (the CLI has none). Once: a render that
    // stalls twice is failed as before (retryable).
    if (!isRasterizerError(err, 'page_unresponsive') || ctx.signal?.aborted) throw err;
    const again = await freshBrowser(ctx, err.message);
    if (!again) throw err;
    return renderClip(clip, geometry, options, again, started, 1);
  }
}

/**
 * The render's context for a second attempt in a fresh browser: the pool's replacement for a lent one
 * (RenderContext.replaceBrowser), or a new browser of its own; undefined when the caller lent a
 * browser and gave no way to replace it (it then sees the error and deals with its browser).
 */
async function freshBrowser(ctx: RenderContext, reason: string): Promise<RenderContext | undefined> {
  if (!ctx.browser) return { ...ctx, ownBrowser: undefined };
  if (!ctx.replaceBrowser) return undefined;
  return { ...ctx, browser: await ctx.replaceBrowser(reason) };
}

async function renderClip(clip: Clip, geometry: FrameGeometry, options: RenderOptions, ctx: RenderContext, started: number, restarts: 0 | 1): Promise<RenderResult> {
  const { width, height } = geometry;
  const plain = ctx.method === 'plain';
  const page = await ReplayPage.open(clip, geometry, options, ctx);
  let closing: Promise<void> | undefined;
  let stuck = false;
  const close = () => (closing ??= page.close({ stuck }));
  try {
    const initMs = performance.now() - page.launchedAt;
    const loop = new CaptureLoop(page, clip, geometry, plain, ctx.stepAhead ?? true, ctx.skipStill ?? true);
    await loop.run(ctx.onProgress);

    const encodeFrom = performance.now();
    await loop.decoded();
    // Every picture is in and decoded, so the encode needs nothing more from the browser: its
    // context (or its own Chromium, 150-220 ms to close) closes beside the encode, not after it.
    void close();
    const encoded = await encodeClip({ width, height, frames: loop.frames, sampler: loop.sampler, fps: options.fps, maxBytes: options.maxBytes, plain });
    const encodeMs = performance.now() - encodeFrom;
    return {
      gif: encoded.gif,
      width,
      height,
      frames: encoded.frames,
      captured: loop.pictures,
      durationS: clip.durationCs / 100,
      startS: (clip.startTs - clip.recordingStartTs) / 1000,
      endS: (clip.endTs - clip.recordingStartTs) / 1000,
      wallMs: Math.round(performance.now() - started),
      assetFailures: page.proxy.failures,
      assetsPrefetched: { ...page.proxy.prefetch },
      assetsFromCache: page.proxy.fromSharedCache,
      stylesheets: { ...page.stylesheets },
      frameSource: page.source.kind,
      pictureSource: page.source.pictures,
      encodeThreads: encoded.threads ?? 1,
      restarts,
      ...(encoded.budget ? { budget: encoded.budget } : {}),
      timings: timingsOf(page.launchedAt - started, initMs, loop.timings, encodeMs, page.source.fallbacks),
    };
  } catch (err) {
    stuck = isRasterizerError(err, 'page_unresponsive');
    throw err;
  } finally {
    await close();
  }
}

function timingsOf(launchMs: number, initMs: number, t: CaptureTimings, encodeMs: number, captureFallbacks: number): RenderResult['timings'] {
  return {
    setupMs: Math.round(launchMs + initMs + t.firstStepMs),
    launchMs: Math.round(launchMs),
    initMs: Math.round(initMs),
    firstStepMs: Math.round(t.firstStepMs),
    replayMs: Math.round(t.replayMs),
    captureMs: Math.round(t.captureMs),
    encodeMs: Math.round(encodeMs),
    steps: t.stepMs.length,
    stepsAhead: t.stepsAhead,
    stillSlots: t.stillSlots,
    stepMedianMs: +median(t.stepMs).toFixed(1),
    captureFallbacks,
    assetWaitMs: Math.round(t.assetWaitMs),
  };
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
