import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';

/**
 * Where a frame is captured. Two ways, one interface:
 * - begin-frame: chromium-headless-shell draws only when told (HeadlessExperimental.beginFrame),
 *   at the frame time we give, and returns the screenshot in the same round trip. Animation time
 *   then follows replay time, not the machine's clock.
 * - screenshot: any Chromium; Page.captureScreenshot after each seek.
 */
export interface FrameSource {
  readonly kind: 'begin-frame' | 'screenshot';
  readonly page: Page;
  readonly cdp: CDPSession;
  /** PNG of the viewport at frame time `ms` (monotonic), or undefined when nothing was redrawn. */
  capture(ms: number): Promise<Buffer | undefined>;
}

export async function openFrameSource(browser: Browser, context: BrowserContext, prefer: 'begin-frame' | 'screenshot'): Promise<FrameSource> {
  if (prefer === 'begin-frame') {
    const source = await tryBeginFrame(browser, context);
    if (source) return source;
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
    probe = await context.newPage();
    const probeCdp = await context.newCDPSession(probe);
    const { targetInfo } = (await probeCdp.send('Target.getTargetInfo')) as { targetInfo: { browserContextId: string } };
    const browserCdp = await browser.newBrowserCDPSession();
    const adopted = context.waitForEvent('page', { timeout: 5000 });
    try {
      await browserCdp.send('Target.createTarget', {
        url: 'about:blank',
        enableBeginFrameControl: true,
        browserContextId: targetInfo.browserContextId,
      });
    } finally {
      await browserCdp.detach().catch(() => {});
    }
    const page = await adopted;
    created = page;
    const cdp = await context.newCDPSession(page);
    let ticks = 1000;
    // Fails here, not mid-render, when this Chromium has no begin-frame support.
    await cdp.send('HeadlessExperimental.beginFrame', { frameTimeTicks: ticks, interval: 16.666, noDisplayUpdates: true });
    const capture = async (ms: number): Promise<Buffer | undefined> => {
      // frameTimeTicks must grow strictly; replay time does, and a tiny step covers repeats.
      ticks = Math.max(ticks + 0.01, 1000 + ms);
      const r = (await cdp.send('HeadlessExperimental.beginFrame', {
        frameTimeTicks: ticks,
        interval: 16.666,
        screenshot: { format: 'png', optimizeForSpeed: true },
      })) as { hasDamage: boolean; screenshotData?: string };
      return r.screenshotData ? Buffer.from(r.screenshotData, 'base64') : undefined;
    };
    return { kind: 'begin-frame', page, cdp, capture };
  } catch {
    // Not headless-shell, or launched without --enable-begin-frame-control: use screenshots.
    await created?.close().catch(() => {});
    return undefined;
  } finally {
    await probe?.close().catch(() => {});
  }
}
