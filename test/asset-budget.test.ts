import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { parseRecording } from '../src/recording/parse.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { recordJourney } from './support/recorder.js';
import { startSite } from './support/site-server.js';
import { slowToNode } from './support/slow-to-node.js';

/**
 * A render waits for what a frame is loading (fonts, images, stylesheets) within a budget per frame
 * and one per render (capture-loop.ts). The render's budget is charged with the time spent
 * waiting for assets, not with the page's own work: when every step's whole length was charged, a
 * page whose steps were slow (a busy page on a loaded machine) used the budget up replaying events,
 * and then an image that came late was shown late, more or less so with the machine's load.
 */

/** While `work` runs, the renderer of every page in the browser's new contexts runs `rate` times slower. */
async function cpuThrottled<T>(browser: Browser, rate: number, work: () => Promise<T>): Promise<T> {
  const newContext = browser.newContext;
  browser.newContext = async (options?: BrowserContextOptions) => {
    const context = await newContext.call(browser, options);
    context.on('page', (page) => {
      void context
        .newCDPSession(page)
        .then((cdp) => cdp.send('Emulation.setCPUThrottlingRate', { rate }))
        .catch(() => {});
    });
    return context;
  };
  try {
    return await work();
  } finally {
    browser.newContext = newContext;
  }
}

/** A page whose script rewrites 1,500 cells every 100 ms, and shows a red image 8 s after load. */
const BUSY_PAGE = `<!doctype html><html><body style="margin: 0; background: #fff; font: 10px sans-serif">
  <div id="grid" style="display: grid; grid-template-columns: repeat(60, 20px); position: absolute; left: 600px; top: 0"></div>
  <script>
    const grid = document.getElementById('grid');
    const cells = Array.from({ length: 1500 }, () => grid.appendChild(document.createElement('span')));
    let n = 0;
    const busy = setInterval(() => { n++; cells.forEach((c, i) => { c.textContent = String((i * 7 + n) % 100); }); }, 100);
    setTimeout(() => {
      const img = document.createElement('img');
      img.src = '/late.png';
      img.style.cssText = 'position: absolute; left: 100px; top: 100px; width: 300px; height: 300px';
      document.body.appendChild(img);
    }, 8000);
    setTimeout(() => clearInterval(busy), 9500);
  </script>
</body></html>`;

describe('the asset budget', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('is charged by waiting for assets, not by the page\'s work: a slow page still waits for a late image', async () => {
    const red = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const site = await startSite({
      generated: new Map([
        ['/page.html', { body: Buffer.from(BUSY_PAGE), type: 'text/html' }],
        ['/late.png', { body: red, type: 'image/png' }],
      ]),
    });
    try {
      const rec = await recordJourney(site.origin, async ({ page: tab, origin, idle }) => {
        await tab.goto(`${origin}/page.html`);
        await idle(10_000);
        await tab.mouse.move(640, 700);
        await idle(300);
      });
      const events = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
      const startTs = events[0]!.timestamp;
      const added = events.find((e) => e.type === 3 && JSON.stringify(e.data).includes('/late.png'));
      expect(added, 'the recording adds the image').toBeDefined();
      const addedMs = added!.timestamp - startTs;
      // The image's request reaches the render's asset proxy 600 ms late, and every step is slow.
      const r = await cpuThrottled(browser, 6, () =>
        slowToNode(browser, '/late.png', 600, () => renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, { browser })),
      );
      const out = decodeGif(r.gif);
      const k = out.width / 1280;
      const isRed = (ms: number) => {
        const f = frameAt(out, ms);
        const p = (Math.round(250 * k) * out.width + Math.round(250 * k)) * 4;
        return f.rgba[p]! > 200 && f.rgba[p + 1]! < 60 && f.rgba[p + 2]! < 60;
      };
      const shownAt = Array.from({ length: 30 }, (_, i) => addedMs + i * 50).find(isRed);
      const steps = r.timings.stepMedianMs;
      console.log(`asset budget: image added at ${addedMs} ms, shown at ${shownAt ?? 'never'}; median step ${steps} ms over ${r.timings.steps} steps, asset waits ${r.timings.assetWaitMs} ms, replay ${r.timings.replayMs} ms, wall ${r.wallMs} ms`);
      // The frame of the slot the image came in (or the next: the slot's time may be just before it).
      expect(shownAt, `image added at ${addedMs} ms`).toBeDefined();
      expect(shownAt! - addedMs).toBeLessThanOrEqual(150);
      // The budget was charged with that wait (at least the 600 ms the request was held), not the steps.
      expect(r.timings.assetWaitMs).toBeGreaterThanOrEqual(500);
      expect(r.timings.assetWaitMs).toBeLessThan(3000);
    } finally {
      await site.close();
    }
  });
});
