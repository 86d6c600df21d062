import type { Browser, BrowserContext, BrowserContextOptions, CDPSession, Page } from 'playwright-core';
import { RasterizerError } from '../errors.js';
import { settlesWithin, withDeadline } from '../util/deadline.js';

/**
 * Where a frame is captured. Two ways, one interface:
 * - begin-frame: chromium-headless-shell draws only when told (HeadlessExperimental.beginFrame),
 *   at the frame time we give, and the picture of that frame comes from the page's screencast,
 *   scaled to the GIF's size by the compositor. Animation time then follows replay time, not the
 *   machine's clock. One such page per browser at a time: two renders driving begin-frames in one
 *   browser crash its GPU process ("overlapping IssueExternalBeginFrame"), so the worker's pool
 *   gives each running render its own browser.
 * - screenshot: any Chromium; Page.captureScreenshot after each seek.
 */
export type CaptureMode = 'begin-frame' | 'screenshot';

export interface FrameSource {
  readonly kind: CaptureMode;
  readonly page: Page;
  readonly cdp: CDPSession;
  /**
   * Draws the frame at frame time `ms` (monotonic). Resolves once it is drawn, with its picture
   * still to come, so that the next frame can be drawn meanwhile: a PNG of the viewport, or
   * undefined when nothing was redrawn. Its size is the output size asked for at open where the
   * source can scale, else the viewport's. Draw the next frame only once the picture before this
   * one is in: the screencast stops sending after three pictures not yet acknowledged.
   */
  draw(ms: number): Promise<Drawn>;
  /** Pictures the screencast did not deliver, shown another way (begin-frame only; SCREENCAST_MAX_FALLBACKS). */
  readonly fallbacks: number;
  /**
   * Where the pictures come from: the page's screencast, scaled by the compositor (begin-frame with
   * an output size), or screenshots of the viewport, scaled by sharp.
   */
  readonly pictures: PictureSource;
}

export type PictureSource = 'screencast' | 'screenshot';

/** A drawn frame whose picture is on its way (FrameSource.draw). */
export interface Drawn {
  picture: Promise<Buffer | undefined>;
}

/** A frame whose picture came with it (a screenshot draws and returns it in one call). */
function drawnWith(picture: Buffer | undefined): Drawn {
  return { picture: Promise.resolve(picture) };
}

/** The GIF's picture size: what a begin-frame source delivers its pictures at. */
export interface OutputSize {
  width: number;
  height: number;
}

/** How each browser we launched captures frames (launchBrowser decides, with a probe unless told not to). */
const modes = new WeakMap<Browser, CaptureMode>();

export function setCaptureMode(browser: Browser, mode: CaptureMode): void {
  modes.set(browser, mode);
}

/** A browser launched elsewhere is assumed to draw on its own (screenshot capture). */
export function captureModeOf(browser: Browser): CaptureMode {
  return modes.get(browser) ?? 'screenshot';
}

/** Each render context's CDP id, so a begin-frame page can be made in it without a probe page. */
const contextIds = new WeakMap<BrowserContext, string>();
/** Contexts of one browser are made one at a time, so the new CDP id is the one that appeared. */
const creating = new WeakMap<Browser, Promise<unknown>>();

/**
 * A browser context for a render. Its CDP id is noted on the way (the ids before and after), which
 * saves opening and closing a page just to learn it (~90 ms a render, measured).
 */
export async function newRenderContext(browser: Browser, options: BrowserContextOptions): Promise<BrowserContext> {
  const make = async (): Promise<BrowserContext> => {
    const cdp = await browser.newBrowserCDPSession();
    try {
      const ids = async () => ((await cdp.send('Target.getBrowserContexts')) as { browserContextIds: string[] }).browserContextIds;
      const before = new Set(await ids());
      const context = await browser.newContext(options);
      const added = (await ids()).filter((id) => !before.has(id));
      if (added.length === 1) contextIds.set(context, added[0]!);
      return context;
    } finally {
      await cdp.detach().catch(() => {});
    }
  };
  const made = (creating.get(browser) ?? Promise.resolve()).catch(() => {}).then(make);
  creating.set(browser, made);
  return made;
}

/**
 * Whether begin-frame capture works in this browser (it was started with BEGIN_FRAME_ARGS): true, or
 * why not. A FrameStalled is this browser stuck, not one without begin-frame control; its context is
 * then not waited for.
 */
export async function probeBeginFrame(browser: Browser): Promise<true | Error> {
  const context = await newRenderContext(browser, {});
  const tried = await tryBeginFrame(browser, context);
  const closed = context.close().catch(() => {});
  if (!(tried instanceof FrameStalled)) await closed;
  return tried instanceof Error ? tried : true;
}

/**
 * A browser set to begin-frame capture could not open a page under begin-frame control. In a browser
 * whose probe passed at launch that is the browser failing (transient: the job is retried); a render
 * that started its own browser without the probe starts one for screenshot capture instead.
 */
export class BeginFrameUnavailable extends Error {
  constructor(cause: unknown) {
    super(`begin-frame capture failed in a browser set up for it: ${String((cause as Error)?.message ?? cause).split('\n')[0]}`, { cause });
    this.name = 'BeginFrameUnavailable';
  }
}

/**
 * Chromium now and then never answers a begin-frame (RELIABILITY.md, stops 39-40): 5-9 renders in 600
 * of some moments with 6 renders on 2 cores. The page's main thread still answers, but that page
 * draws nothing more: no requestAnimationFrame fires, and neither a change to the page, a second
 * begin-frame (refused: another frame pending), a resize, the screencast stopped nor a frame time
 * an hour nearer the clock unblocks it. A begin-frame took at most 748 ms in those 600 renders (152
 * over 200 ms), so one is given 10 s before the browser is taken to be stuck, not the page calls' 30 s
 * to 2 min.
 */
export const FRAME_STALL_TIMEOUT_MS = 10_000;

/** How long a page that failed to open under begin-frame control gets to close. */
const PAGE_CLOSE_MS = 2_000;

/**
 * A begin-frame that was never answered: the page draws no more frames. The render starts again in a
 * fresh browser (render.ts); code page_unresponsive (retryable) wherever it surfaces.
 */
export class FrameStalled extends RasterizerError {
  override readonly name: string = 'FrameStalled';
  constructor(ms: number) {
    super('page_unresponsive', `Chromium did not draw a frame within ${ms / 1000} s (its compositor stalled)`);
  }
}

export async function openFrameSource(browser: Browser, context: BrowserContext, output?: OutputSize, stallMs = FRAME_STALL_TIMEOUT_MS): Promise<FrameSource> {
  if (captureModeOf(browser) === 'begin-frame') {
    // Tried twice: once in a chaos run's 35 moments, a worker under that load could not open its
    // page the first time, and the job's retry rendered it (why was not kept then; it is now).
    let opened = await tryBeginFrame(browser, context, output, stallMs);
    if (opened instanceof Error && !(opened instanceof FrameStalled) && browser.isConnected()) opened = await tryBeginFrame(browser, context, output, stallMs);
    if (!(opened instanceof Error)) return opened;
    // A frame that stalled while the page opened is this browser stuck, not one without begin-frame
    // control: the render starts again in a fresh one (render.ts), not with screenshots.
    if (opened instanceof FrameStalled) throw opened;
    throw new BeginFrameUnavailable(opened);
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const capture = async (): Promise<Buffer> => {
    const r = (await cdp.send('Page.captureScreenshot', { format: 'png', optimizeForSpeed: true, captureBeyondViewport: false })) as { data: string };
    return Buffer.from(r.data, 'base64');
  };
  return {
    kind: 'screenshot',
    page,
    cdp,
    fallbacks: 0,
    pictures: 'screenshot',
    async draw() {
      return drawnWith(await capture());
    },
  };
}

/** A page under begin-frame control, or why none could be opened. */
async function tryBeginFrame(browser: Browser, context: BrowserContext, output?: OutputSize, stallMs = FRAME_STALL_TIMEOUT_MS): Promise<FrameSource | Error> {
  let probe: Page | undefined;
  let created: Page | undefined;
  try {
    // Playwright cannot open a page under begin-frame control; CDP can, in the same browser
    // context, and Playwright then adopts the page (routes, evaluate) like any other.
    let browserContextId = contextIds.get(context);
    if (!browserContextId) {
      // A context made elsewhere: a page of it tells its id.
      probe = await context.newPage();
      const probeCdp = await context.newCDPSession(probe);
      browserContextId = ((await probeCdp.send('Target.getTargetInfo')) as { targetInfo: { browserContextId: string } }).targetInfo.browserContextId;
    }
    const browserCdp = await browser.newBrowserCDPSession();
    const adopted = context.waitForEvent('page', { timeout: 5000 });
    // Awaited once the target is made; when making it fails, its timeout must not surface unhandled.
    adopted.catch(() => {});
    try {
      await browserCdp.send('Target.createTarget', { url: 'about:blank', enableBeginFrameControl: true, browserContextId });
    } finally {
      await browserCdp.detach().catch(() => {});
    }
    const page = await adopted;
    created = page;
    const cdp = await context.newCDPSession(page);
    const base = monotonicMs() + FRAME_TIME_LEAD_MS;
    let ticks = base - SCREENCAST_LEAD_MS;
    const nextTicks = (ms: number) => {
      // frameTimeTicks must grow strictly; replay time does, and a tiny step covers repeats.
      ticks = Math.max(ticks + 0.01, base + ms);
      return ticks;
    };
    // Two begin-frames in flight at once crash the GPU process: a picture taken the slow way for a
    // frame drawn earlier waits for the frame being drawn now.
    let drawing: Promise<unknown> = Promise.resolve();
    // Once one begin-frame stalled, none is sent again: a second one while it pends is refused
    // ("Another frame is pending"), and the browser draws nothing more anyway.
    let stalled: FrameStalled | undefined;
    const beginFrame: BeginFrame = <T>(params: Record<string, unknown>): Promise<T> => {
      const sent = drawing.then(() => {
        if (stalled) throw stalled;
        const answer = cdp.send('HeadlessExperimental.beginFrame', params) as Promise<T>;
        return withDeadline(answer, stallMs, 'a begin-frame').catch((err: unknown) => {
          if (!(err instanceof RasterizerError && err.code === 'timeout')) throw err;
          answer.catch(() => {});
          throw (stalled = new FrameStalled(stallMs));
        });
      });
      drawing = sent.catch(() => {});
      return sent;
    };
    // Fails here, not mid-render, when this Chromium has no begin-frame support.
    await beginFrame({ frameTimeTicks: ticks, interval: FRAME_INTERVAL_MS, noDisplayUpdates: true });
    const screenshot = async (ms: number): Promise<Buffer | undefined> => {
      const r = await beginFrame<{ hasDamage: boolean; screenshotData?: string }>({
        frameTimeTicks: nextTicks(ms),
        interval: FRAME_INTERVAL_MS,
        screenshot: { format: 'png', optimizeForSpeed: true },
      });
      return r.screenshotData ? Buffer.from(r.screenshotData, 'base64') : undefined;
    };
    // The screencast's first frame is drawn well before the render's first (SCREENCAST_LEAD_MS).
    const screencast = output ? await Screencast.start(cdp, beginFrame, output, nextTicks(-SCREENCAST_LEAD_MS / 2), () => nextTicks(-SCREENCAST_LEAD_MS / 4)) : undefined;
    if (!screencast) {
      return {
        kind: 'begin-frame',
        page,
        cdp,
        fallbacks: 0,
        pictures: 'screenshot',
        async draw(ms) {
          return drawnWith(await screenshot(ms));
        },
      };
    }
    // The latest frame drawn with a change, and its picture: what a frame drawn before it shows
    // when its own picture does not come.
    let latest: { ms: number; picture: Promise<Buffer | undefined> } | undefined;
    const source: FrameSource & { fallbacks: number } = {
      kind: 'begin-frame',
      page,
      cdp,
      fallbacks: 0,
      // A screencast that stopped sending (or never sent: a missing first picture no longer gives
      // it up) leaves the rest of the render to screenshots, and says so.
      get pictures(): PictureSource {
        return source.fallbacks >= SCREENCAST_MAX_FALLBACKS ? 'screenshot' : 'screencast';
      },
      async draw(ms: number): Promise<Drawn> {
        // A browser whose screencast keeps missing frames is not waited for again in this render.
        if (source.fallbacks >= SCREENCAST_MAX_FALLBACKS) return drawnWith(await screenshot(ms));
        const drawn = (await screencast.draw(nextTicks(ms))).picture;
        const picture: Promise<Buffer | undefined> = drawn.then((shot) => {
          if (shot !== 'late') return shot;
          // The frame was drawn but its picture did not come, and the page has moved on since: the
          // next frame was drawn and the step after it applied while this picture was awaited.
          // That next frame's picture is the nearest to this one the render can still have (as a
          // video drops a frame). A screenshot now would show the page up to two slots later, and
          // the screencast then missed the picture of the frame after that screenshot too: one
          // picture lost cost 2-3, and at 3 the screencast for the rest of the render
          // (BENCHMARKS.md, stop 62).
          source.fallbacks++;
          const next = latest;
          if (next && next.ms > ms) return next.picture;
          return screenshot(ms);
        });
        // Nothing redrawn: its picture is the one before, which a frame drawn earlier cannot show.
        picture.then((shot) => {
          if (shot === undefined && latest?.picture === picture) latest = undefined;
        }, () => {});
        latest = { ms, picture };
        return { picture };
      },
    };
    return source;
  } catch (err) {
    // Not a headless shell, launched without BEGIN_FRAME_ARGS, or the browser failing (or stuck: its
    // page's close is not waited for long).
    if (created) await settlesWithin(created.close(), PAGE_CLOSE_MS);
    return err instanceof Error ? err : new Error(String(err));
  } finally {
    await probe?.close().catch(() => {});
  }
}

const FRAME_INTERVAL_MS = 16.666;

/** HeadlessExperimental.beginFrame on a page's session, one call at a time (tryBeginFrame). */
type BeginFrame = <T>(params: Record<string, unknown>) => Promise<T>;

function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * How long a drawn frame's picture may take to arrive before it is taken another way. A whole
 * capture, draw and picture, took 43-100 ms on a slow 2-core machine (1280x800 to 800x500).
 */
const SCREENCAST_FRAME_TIMEOUT_MS = 2000;
/**
 * How long a picture is still waited for once the picture of a frame drawn after it has come. Pictures
 * are encoded on a thread pool and come out of order now and then: 19 times in 2,438 pictures (24
 * renders beside a busy loop, 2026-12-08), the earlier one at most 12.5 ms after the later one. The
 * one picture missed in those renders was of that kind (the next frame's came, its own was never
 * matched; ClockOffset says why): it cost the whole 2 s wait instead of this.
 */
const LATER_PICTURE_GRACE_MS = 250;
/** How long the screencast's first picture is waited for before the render's first frame (Screencast.start). */
const SCREENCAST_FIRST_FRAME_TIMEOUT_MS = 6000;
/**
 * Frame time from the probe frame to the render's first; the screencast's first frame is drawn
 * halfway. The screencast skips a frame drawn too soon after the last one it sent, by frame time
 * (1 ms apart: 9 frames of 10 skipped, 8 ms: 1 of 10, 10-100 ms: none; Chromium 156), and
 * captures are at least a GIF slot apart (20 ms at 50 fps).
 */
const SCREENCAST_LEAD_MS = 400;
/**
 * How far ahead of the clock the render's frame times start. Frame times are TimeTicks
 * (CLOCK_MONOTONIC, ms) and must stay ahead of it for the whole render:
 * - ones in the past are ignored, and the page's animations then advance by one interval per frame
 *   instead of following replay time;
 * - an animated image (GIF, APNG, WebP) asks for its next frame at the later of its frame's time and
 *   the clock, and moves on only at a frame time past that.
 * With a second's lead, a render that fell behind real time (a slow start on a loaded machine) showed
 * a blinking GIF frozen on its first frame at every slot, and CI's motion test drew other frames
 * under load than quiet (BENCHMARKS.md, stop 22). An hour is more than any render falls behind; the
 * GIFs of unloaded renders are the same as with a second's lead.
 */
const FRAME_TIME_LEAD_MS = 3_600_000;
/** Missed pictures after which a render takes the rest by begin-frame screenshots (each miss waits the timeout). */
const SCREENCAST_MAX_FALLBACKS = 3;
/**
 * How far a picture's stamp may be from the one its frame was given (the nearest such frame's picture
 * it is). Both clocks are the kernel's (CLOCK_MONOTONIC frame times, CLOCK_REALTIME stamps), so
 * Chromium's conversion and ours agree to Date.now()'s millisecond: 0.02-0.97 ms apart over 72
 * pictures (3 renders, 2026-12-03). Under half the 20 ms between two slots at 50 fps.
 */
const SCREENCAST_MATCH_MS = 9;

/**
 * Wall-clock ms minus monotonic ms: how a screencast stamp relates to the frame time it was drawn at.
 * Each reading is low by however long the thread was held up between its two clock reads, never
 * high, so a render keeps the highest it has read. Read afresh at each frame, 4 pictures of 24
 * renders (two at a time beside a busy loop) came 5.2-9.3 ms off and went unmatched, each a frame
 * lost; with the highest kept, all 2,437 of 24 such renders within 0.5 ms (BENCHMARKS.md, stop 62).
 */
class ClockOffset {
  private best = -Infinity;

  read(): number {
    // Date.now() drops the fraction of its millisecond: half of one on average.
    this.best = Math.max(this.best, Date.now() + 0.5 - monotonicMs());
    return this.best;
  }
}

/**
 * The picture of each begin-frame, from the page's screencast instead of the begin-frame's own
 * screenshot. The compositor scales the frame to the GIF's size as it copies it, so the copy, the
 * PNG, its trip to Node and its decoding handle the output's pixels, not the recorded viewport's
 * (1280x800 to 800x500: 2.56 times fewer). Measured 2026-12-01 (BENCHMARKS.md): 30 s moments
 * 17-22 % faster (medians) and GIFs 11-26 % smaller; the compositor's filter is softer than sharp's lanczos3
 * (SSIM against live: fixture 0.9938 -> 0.9930, mdBook 0.9951 -> 0.9922).
 *
 * A screencast picture comes after the begin-frame's answer and carries its frame's display time
 * (frame time plus interval, as wall-clock seconds): each drawn frame waits for the picture with its
 * stamp, and pictures no frame waits for are dropped. The pictures are encoded on a thread pool, so
 * with the next frame drawn meanwhile they may come out of order.
 */
class Screencast {
  /** Frames drawn whose picture has not come, oldest first, each with the stamp its picture will carry (wall-clock ms). */
  private readonly waiting: { stampMs: number; anyStamp: boolean; resolve: (png: Buffer | 'late') => void; passed: () => void }[] = [];
  private readonly clock = new ClockOffset();

  private constructor(
    cdp: CDPSession,
    private readonly beginFrame: BeginFrame,
  ) {
    cdp.on('Page.screencastFrame', (f: { data: string; sessionId: number; metadata: { timestamp?: number } }) => {
      cdp.send('Page.screencastFrameAck', { sessionId: f.sessionId }).catch(() => {});
      const stamp = f.metadata.timestamp;
      if (!this.waiting.length || stamp === undefined) return;
      const stampMs = stamp * 1000;
      // Pictures are encoded on a thread pool and may come out of order: match by stamp.
      let i = this.waiting.findIndex((w) => w.anyStamp);
      if (i < 0) {
        const off = (w: { stampMs: number }) => Math.abs(stampMs - w.stampMs);
        i = this.waiting.reduce((best, w, j) => (off(w) < off(this.waiting[best]!) ? j : best), 0);
        if (off(this.waiting[i]!) > SCREENCAST_MATCH_MS) return;
      }
      // Frames drawn before this one whose pictures have not come: passed over, or soon to come.
      for (const earlier of this.waiting.slice(0, i)) earlier.passed();
      const [w] = this.waiting.splice(i, 1);
      w!.resolve(Buffer.from(f.data, 'base64'));
    });
  }

  /**
   * Starts the screencast and draws its first frame at `ticks`; undefined when this browser cannot
   * screencast. That frame's picture is waited for (SCREENCAST_FIRST_FRAME_TIMEOUT_MS at most): a
   * fresh screencast is slow to send its first one, and a render that started drawing before it
   * came once failed in CI with no picture for its first frame. Before, the picture also set the
   * clock offset, so one that was late gave up the screencast for the whole render (CI did so under
   * load: a GIF scaled by sharp, not the compositor). The offset is now the machine's own, so a late
   * or missing first picture ends the wait and starts the screencast again (`againTicks`: the frame
   * time of the restarted one's first frame); a screencast that sends nothing is caught by the
   * misses of the render's frames (SCREENCAST_MAX_FALLBACKS).
   */
  static async start(cdp: CDPSession, beginFrame: BeginFrame, output: OutputSize, ticks: number, againTicks: () => number): Promise<Screencast | undefined> {
    const cast = new Screencast(cdp, beginFrame);
    const params = { format: 'png' as const, maxWidth: output.width, maxHeight: output.height, everyNthFrame: 1 };
    const start = () => cdp.send('Page.startScreencast', params).then(() => true, () => false);
    if (!(await start())) return undefined;
    // Starting forces a redraw: drawn here, well before the render's first frame, whose picture the
    // screencast would otherwise skip as too soon after this one (SCREENCAST_LEAD_MS).
    const first = await (await cast.draw(ticks, SCREENCAST_FIRST_FRAME_TIMEOUT_MS)).picture;
    if (first === 'late') {
      // Chromium's screencast sends nothing more while 3 of its pictures are unacknowledged, and the
      // late one holds one of them until it comes: with the render's next frame drawn while the last
      // picture is on its way, a slow acknowledgement then costs a picture (CI under load: 2-4 taken
      // the slow way). Started again, it counts from zero (RELIABILITY.md, stop 36). Its first picture
      // is stamped by another clock (without the frame times' lead), so it is taken whatever its
      // stamp; the late one, if it comes, is matched by no frame.
      await cdp.send('Page.stopScreencast').catch(() => {});
      if (!(await start())) return undefined;
      await (await cast.draw(againTicks(), SCREENCAST_FRAME_TIMEOUT_MS, true)).picture;
    }
    return cast;
  }

  /**
   * Draws the frame at `ticks`; resolves once drawn, with its picture to come: undefined when
   * nothing changed, 'late' when it did not come in time. `anyStamp`: the next picture is this
   * frame's whatever its stamp (a restarted screencast's first).
   */
  async draw(ticks: number, timeoutMs = SCREENCAST_FRAME_TIMEOUT_MS, anyStamp = false): Promise<{ picture: Promise<Buffer | undefined | 'late'> }> {
    let timer: NodeJS.Timeout | undefined;
    const entry = { stampMs: ticks + FRAME_INTERVAL_MS + this.clock.read(), anyStamp, resolve: (_: Buffer | 'late') => {}, passed: () => {} };
    const picture = new Promise<Buffer | 'late'>((resolve) => {
      entry.resolve = resolve;
      timer = setTimeout(() => resolve('late'), timeoutMs);
      let passedOver = false;
      entry.passed = () => {
        if (passedOver) return;
        passedOver = true;
        clearTimeout(timer);
        timer = setTimeout(() => resolve('late'), Math.min(timeoutMs, LATER_PICTURE_GRACE_MS));
      };
    });
    const forget = () => {
      clearTimeout(timer);
      const i = this.waiting.indexOf(entry);
      if (i >= 0) this.waiting.splice(i, 1);
    };
    this.waiting.push(entry);
    try {
      const r = await this.beginFrame<{ hasDamage: boolean }>({ frameTimeTicks: ticks, interval: FRAME_INTERVAL_MS });
      if (!r.hasDamage) {
        forget();
        return { picture: Promise.resolve(undefined) };
      }
    } catch (err) {
      forget();
      throw err;
    }
    return { picture: picture.finally(forget) };
  }
}
