import type { Browser, BrowserContext, BrowserContextOptions, CDPSession, Page } from 'playwright-core';

/**
 * Where a frame is captured. Two ways, one interface:
 * - begin-frame: chromium-headless-shell draws only when told (HeadlessExperimental.beginFrame),
 *   at the frame time we give, and returns the screenshot in the same round trip. Animation time
 *   then follows replay time, not the machine's clock. One such page per browser at a time: two
 *   renders driving begin-frames in one browser crash its GPU process ("overlapping
 *   IssueExternalBeginFrame"), so the worker's pool gives each running render its own browser.
 * - screenshot: any Chromium; Page.captureScreenshot after each seek.
 */
export type CaptureMode = 'begin-frame' | 'screenshot';

export interface FrameSource {
  readonly kind: CaptureMode;
  readonly page: Page;
  readonly cdp: CDPSession;
  /** PNG of the viewport at frame time `ms` (monotonic), or undefined when nothing was redrawn. */
  capture(ms: number): Promise<Buffer | undefined>;
}

/** How each browser we launched captures frames (launchBrowser decides, with a probe). */
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

/** Whether begin-frame capture works in this browser (it was started with BEGIN_FRAME_ARGS). */
export async function probeBeginFrame(browser: Browser): Promise<boolean> {
  const context = await newRenderContext(browser, {});
  try {
    return (await tryBeginFrame(browser, context)) !== undefined;
  } finally {
    await context.close().catch(() => {});
  }
}

export async function openFrameSource(browser: Browser, context: BrowserContext): Promise<FrameSource> {
  if (captureModeOf(browser) === 'begin-frame') {
    const source = await tryBeginFrame(browser, context);
    if (source) return source;
    // The probe at launch passed, so this is the browser failing, not a missing feature: retry the job.
    throw new Error('begin-frame capture failed in a browser where it had worked');
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  return {
    kind: 'screenshot',
    page,
    cdp,
    async capture() {
      const r = (await cdp.send('Page.captureScreenshot', { format: 'png', optimizeForSpeed: true, captureBeyondViewport: false })) as {
        data: string;
      };
      return Buffer.from(r.data, 'base64');
    },
  };
}

async function tryBeginFrame(browser: Browser, context: BrowserContext): Promise<FrameSource | undefined> {
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
    try {
      await browserCdp.send('Target.createTarget', { url: 'about:blank', enableBeginFrameControl: true, browserContextId });
    } finally {
      await browserCdp.detach().catch(() => {});
    }
    const page = await adopted;
    created = page;
    const cdp = await context.newCDPSession(page);
    // Frame times are TimeTicks (CLOCK_MONOTONIC, ms): ones in the past are ignored, and the page's
    // animations then advance by one interval per frame instead of following replay time.
    const base = Number(process.hrtime.bigint() / 1_000_000n) + 1000;
    let ticks = base;
    // Fails here, not mid-render, when this Chromium has no begin-frame support.
    await cdp.send('HeadlessExperimental.beginFrame', { frameTimeTicks: ticks, interval: 16.666, noDisplayUpdates: true });
    const capture = async (ms: number): Promise<Buffer | undefined> => {
      // frameTimeTicks must grow strictly; replay time does, and a tiny step covers repeats.
      ticks = Math.max(ticks + 0.01, base + ms);
      const r = (await cdp.send('HeadlessExperimental.beginFrame', {
        frameTimeTicks: ticks,
        interval: 16.666,
        screenshot: { format: 'png', optimizeForSpeed: true },
      })) as { hasDamage: boolean; screenshotData?: string };
      return r.screenshotData ? Buffer.from(r.screenshotData, 'base64') : undefined;
    };
    return { kind: 'begin-frame', page, cdp, capture };
  } catch {
    // Not a headless shell, or launched without BEGIN_FRAME_ARGS.
    await created?.close().catch(() => {});
    return undefined;
  } finally {
    await probe?.close().catch(() => {});
  }
}
