import { planClip } from '../recording/clip.js';
import type { RrwebEvent } from '../recording/types.js';
import { CaptureLoop, type CaptureTimings } from './capture-loop.js';
import { frameGeometry } from './geometry.js';
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
  const { width, height } = geometry;
  const plain = ctx.method === 'plain';
  const page = await ReplayPage.open(clip, geometry, options, ctx);
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= page.close());
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
      ...(encoded.budget ? { budget: encoded.budget } : {}),
      timings: timingsOf(page.launchedAt - started, initMs, loop.timings, encodeMs, page.source.fallbacks),
    };
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
