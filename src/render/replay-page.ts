import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Browser, BrowserContext } from 'playwright-core';
import { InputError, isRasterizerError } from '../errors.js';
import type { Clip } from '../recording/clip.js';
import { inferColorScheme } from '../recording/color-scheme.js';
import { settlesWithin, withDeadline } from '../util/deadline.js';
import { AssetProxy, PLAYER_ORIGIN } from './asset-proxy.js';
import { prefetchUrls } from './asset-prefetch.js';
import { PageLoads } from './page-loads.js';
import { BROWSER_CLOSE_MS, launchBrowser, launchOwnBrowser } from './browser.js';
import { BeginFrameUnavailable, FRAME_STALL_TIMEOUT_MS, newRenderContext, openFrameSource, type Drawn, type FrameSource } from './frame-source.js';
import type { FrameGeometry } from './geometry.js';
import { NetworkPolicy } from './network-policy.js';
import { playerAssets } from './player-bundle.js';
import type { PlayerConfig, PlayerPayload, StepResult, StylesheetReport } from './player-protocol.js';
import { CLICK_RIPPLE_MS } from '../recording/clip.js';
import type { RenderContext, RenderOptions } from './types.js';

const gzipAsync = promisify(gzip);

/**
 * Longest one call to the page may take (a step includes its capped asset wait): past it the browser
 * is taken to be stuck and the render fails (transient: a job is retried on a fresh browser).
 */
export const PAGE_CALL_TIMEOUT_MS = 30_000;

const NO_MOTION = { everyMs: null, nextStartTs: null };

/**
 * The player page of one render: its browser (the caller's, or one of its own), a fresh context, the
 * asset proxy, and the page under frame control. Every call to the page has a deadline and stops
 * when the render is cancelled or the page's renderer dies.
 */
export class ReplayPage {
  /** What init found of stylesheets the recording lost declarations from (player/stylesheets.ts). */
  stylesheets: StylesheetReport = { lost: 0, restored: 0, repaired: 0 };

  private constructor(
    readonly source: FrameSource,
    readonly proxy: AssetProxy,
    /** What the page is loading: whether a picture can still change without an event. */
    readonly loads: PageLoads,
    private readonly browser: Browser,
    private readonly context: BrowserContext,
    private readonly ownBrowser: Browser | undefined,
    private readonly stop: AbortController,
    private readonly detach: () => void,
    private readonly timeoutMs: number,
    /** When the browser was up (launching it is part of setup). */
    readonly launchedAt: number,
  ) {}

  get signal(): AbortSignal {
    return this.stop.signal;
  }

  /** Starts the page and hands it the clip (the player builds the replay). Closes all it made if that fails. */
  static async open(clip: Clip, geometry: FrameGeometry, options: Pick<RenderOptions, 'allowOrigins'>, ctx: RenderContext): Promise<ReplayPage> {
    // A browser of our own serves this render alone: its first page is the probe (launchOwnBrowser).
    const launching = ctx.browser ? undefined : (ctx.ownBrowser ?? launchOwnBrowser(ctx.method));
    // The events are packed for the page while Chromium starts (a 6 MB rustdoc recording: ~100 ms).
    const packed = packPayload({ windows: clip.windows.map(({ key, events, clicks }) => ({ key, events, clicks })) });
    packed.catch(() => {});
    // One signal stops the render: the caller's cancel, or the replay page's renderer dying (a crash
    // fails the render at once instead of at the next page call's deadline).
    const stop = new AbortController();
    const cancel = () => stop.abort(ctx.signal?.reason instanceof Error ? ctx.signal.reason : new Error('render cancelled'));
    if (ctx.signal?.aborted) cancel();
    ctx.signal?.addEventListener('abort', cancel, { once: true });
    const detach = () => ctx.signal?.removeEventListener('abort', cancel);
    const player = playerAssets(ctx.replayer);
    player.catch(() => {});
    const proxy = new AssetProxy(new NetworkPolicy({ allowOrigins: options.allowOrigins }), player, stop.signal, ctx.method === 'plain' ? undefined : ctx.assetCache);
    // The pages' fonts and images come in while Chromium starts (not for the plain baseline, which
    // stands for a renderer without our work).
    if (ctx.method !== 'plain' && ctx.prefetchAssets !== false) proxy.startPrefetch(prefetchUrls(clip.windows.flatMap((w) => w.events)));
    const setup = { packed, clip, geometry, ctx, stop, detach, proxy };
    try {
      const ownBrowser = await launching;
      try {
        return await ReplayPage.openIn(ctx.browser ?? ownBrowser!, ownBrowser, performance.now(), setup);
      } catch (err) {
        if (!ownBrowser || !(err instanceof BeginFrameUnavailable)) throw err;
        // Our own browser, started without the probe, cannot draw under begin-frame control (a
        // headless shell built without it): render with screenshots in one started for them.
        const again = await launchBrowser({}, 'screenshot');
        return await ReplayPage.openIn(again, again, performance.now(), setup);
      }
    } catch (err) {
      // Nothing of a render that did not start goes on fetching for it.
      detach();
      stop.abort(err);
      throw err;
    }
  }

  /** Opens the page in `browser`; `ownBrowser` (the same browser, or none) is closed with the page or on failure. */
  private static async openIn(browser: Browser, ownBrowser: Browser | undefined, launchedAt: number, what: PageSetup): Promise<ReplayPage> {
    const { packed, clip, geometry, ctx, stop, detach, proxy } = what;
    const plain = ctx.method === 'plain';
    const timeoutMs = ctx.pageCallTimeoutMs ?? PAGE_CALL_TIMEOUT_MS;
    // Setting up is bounded like every later page call: a browser that stops answering here would
    // otherwise hold the job (and its renewed lock) for good.
    const bounded = <T>(work: Promise<T>, what: string) => withDeadline(work, timeoutMs, `the browser's ${what}`, stop.signal, 'page_unresponsive');
    let context: BrowserContext | undefined;
    try {
      await proxy.playerReady();
      const opening = newRenderContext(browser, {
        viewport: { width: geometry.capture.width, height: geometry.capture.height },
        deviceScaleFactor: 1,
        serviceWorkers: 'block',
        acceptDownloads: false,
        // Media features as the user had them: pages that honour prefers-reduced-motion must move,
        // and the colour scheme is the one the page marked itself with.
        reducedMotion: 'no-preference',
        colorScheme: inferColorScheme(clip.windows[0]!.events),
      });
      context = await bounded(opening, 'new context').catch((err: unknown) => {
        // One that comes after its deadline is closed all the same.
        opening.then((late) => late.close(), () => {}).catch(() => {});
        throw err;
      });
      await bounded(proxy.attach(context), 'request routing');
      const source = await bounded(openFrameSource(browser, context, { width: geometry.width, height: geometry.height }, Math.min(timeoutMs, FRAME_STALL_TIMEOUT_MS)), 'new page');
      source.page.once('crash', () => stop.abort(new Error('the replay page crashed (its renderer process is gone)')));
      const loads = await bounded(PageLoads.follow(source.cdp), 'network events');
      const page = new ReplayPage(source, proxy, loads, browser, context, ownBrowser, stop, detach, timeoutMs, launchedAt);
      await page.call(source.page.goto(`${PLAYER_ORIGIN}/`, { waitUntil: 'load' }), 'player load');
      await page.init(packed, {
        frameWidth: geometry.capture.width,
        frameHeight: geometry.capture.frameHeight,
        footerHeight: geometry.capture.footerHeight,
        sessionStartTs: clip.recordingStartTs,
        clickRippleMs: CLICK_RIPPLE_MS,
        schedule: clip.schedule,
        motion: ctx.motion ?? 'live',
        naive: plain,
        outputScale: geometry.width / geometry.capture.width,
      });
      return page;
    } catch (err) {
      // A context or browser made for this render is not left behind when its start fails.
      await closeRender(context, ownBrowser, timeoutMs, isRasterizerError(err, 'page_unresponsive'));
      throw err;
    }
  }

  /** A page call that gives up at the deadline or when the render stops, instead of waiting forever. */
  call<T>(work: Promise<T>, what: string): Promise<T> {
    return withDeadline(work, this.timeoutMs, `the browser's ${what}`, this.stop.signal, 'page_unresponsive');
  }

  /**
   * Brings the replay to `seekTs` (page loads `cuts` reached one by one), waiting at most `capMs` for
   * assets. `afterFrame`: sent while the last step's frame is being captured; the page starts once
   * that frame is drawn.
   */
  step(seekTs: number, cuts: number[], capMs: number, at: string, afterFrame = false): Promise<StepResult> {
    return this.player(`step(${seekTs}, ${JSON.stringify(cuts)}, ${Math.round(capMs)}, ${afterFrame})`, at);
  }

  /** Waits again (at most `capMs`) for what the page is loading, for the frame at `frameTs`. */
  settle(capMs: number, frameTs: number, at: string): Promise<StepResult> {
    return this.player(`settle(${Math.round(Math.max(0, capMs))}, ${frameTs})`, at);
  }

  /**
   * Draws the frame at `ms` (replay time since the clip's start); resolves once drawn, with its
   * picture to come, or undefined when nothing was redrawn (FrameSource.draw).
   */
  async draw(ms: number, at: string): Promise<Drawn> {
    const drawing = this.source.draw(ms);
    // A draw that resolves after the render stopped waiting for it (its deadline, a crash) leaves its
    // picture to nobody; that picture failing must not be an unhandled rejection, which ends the
    // worker process and every render in it (seen: a renderer killed mid-render, its picture's
    // fallback screenshot failing seconds after the retry had finished).
    drawing.then((d) => d.picture.catch(() => {}), () => {});
    const drawn = await this.call(drawing, `frame at ${at}`);
    return { picture: this.call(drawn.picture, `picture at ${at}`) };
  }

  /** `stuck`: the browser stopped answering (page_unresponsive) and is given up (closeRender). */
  async close({ stuck = false } = {}): Promise<void> {
    this.detach();
    await closeRender(this.context, this.ownBrowser, this.timeoutMs, stuck);
    // Prefetches the page never asked for are not downloaded for a render that is over.
    if (!this.stop.signal.aborted) this.stop.abort(new Error('the render is over'));
  }

  /** Hands the clip's events to the player page (player/player.ts), which builds the replay. */
  private async init(payload: Promise<string>, config: PlayerConfig): Promise<void> {
    try {
      const packed = await payload;
      const init = this.source.page.evaluate(
        ([ev, cfg]) => (globalThis as unknown as { __rr: { init(a: string, b: string): Promise<StylesheetReport> } }).__rr.init(ev, cfg),
        [packed, JSON.stringify(config)] as const,
      );
      this.stylesheets = await this.call(init, 'replay build');
    } catch (err) {
      // rrweb refusing the events (a snapshot it cannot build) is the recording's fault; a page or
      // browser that went away is not.
      if (this.source.page.isClosed() || !this.browser.isConnected() || isRasterizerError(err, 'page_unresponsive') || this.stop.signal.aborted) throw err;
      const why = String((err as Error).message ?? err).replace(/^page\.evaluate: /, '').split('\n')[0];
      throw new InputError(`the recording cannot be replayed (init): ${why}`);
    }
  }

  /** One round trip to the player page, straight over CDP. */
  private async player(call: string, at: string): Promise<StepResult> {
    const name = call.slice(0, call.indexOf('('));
    const sent = this.source.cdp.send('Runtime.evaluate', { expression: `window.__rr.${call}`, awaitPromise: true, returnByValue: true });
    const r = (await this.call(sent, `${name} at ${at}`)) as { result: { value?: StepResult }; exceptionDetails?: { exception?: { description?: string }; text: string } };
    if (r.exceptionDetails) {
      // The player threw while applying the recording's events (rrweb on a malformed snapshot or
      // mutation). That is the same on every attempt, so it is the recording's fault, not transient.
      const why = (r.exceptionDetails.exception?.description ?? r.exceptionDetails.text).split('\n')[0];
      throw new InputError(`the recording cannot be replayed (${name} at ${at}): ${why}`);
    }
    return r.result.value ?? { pending: 0, href: '', motion: NO_MOTION, ripples: [], pointer: null, still: false };
  }
}

/** What a replay page is opened with (ReplayPage.open), whichever browser it is opened in. */
interface PageSetup {
  /** The player's payload (packPayload), made while Chromium starts. */
  packed: Promise<string>;
  clip: Clip;
  geometry: FrameGeometry;
  ctx: RenderContext;
  stop: AbortController;
  /** Stops listening to the caller's cancel. */
  detach: () => void;
  proxy: AssetProxy;
}

/**
 * Closes a render's context and its own browser. A browser that no longer closes a context does not
 * hold the job (the next job's setup finds it unanswering and the pool replaces it). One that stopped
 * answering (`stuck`) is given up whole: its context is not closed (its owner closes the browser:
 * the pool, the caller, or this for the render's own), and its own browser's close is not waited for
 * (10 s when its renderer stopped, measured), so that the render starts again at once (render.ts).
 */
function closeRender(context: BrowserContext | undefined, ownBrowser: Browser | undefined, timeoutMs: number, stuck: boolean): Promise<void> {
  const closing = (async () => {
    if (context && !stuck) await settlesWithin(context.close(), timeoutMs);
    if (ownBrowser) await settlesWithin(ownBrowser.close(), BROWSER_CLOSE_MS);
  })();
  return stuck ? Promise.resolve() : closing;
}

/**
 * What the player is handed at init, as gzipped JSON in base64: a sixth of the bytes through CDP,
 * and Playwright's serializer overflows its stack on deep snapshots passed as objects.
 */
async function packPayload(payload: PlayerPayload): Promise<string> {
  return (await gzipAsync(JSON.stringify(payload), { level: 1 })).toString('base64');
}
