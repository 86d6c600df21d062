import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseRecording } from '../src/recording/parse.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { recordJourney } from './support/recorder.js';
import { startSite } from './support/site-server.js';

/**
 * A page the replay builds has its web fonts loaded before anything lays it out (player.ts,
 * seekFontsFirst). Laid out first with fallback fonts, a page is laid out again, whole, when its
 * fonts come: on a big page that second layout costs as much as the first (a rustdoc Vec page,
 * 280-320 ms each, BENCHMARKS.md stop 32). The layouts are counted in a Chromium trace of the render.
 */

const PARAGRAPH =
  'The quick brown fox jumps over the lazy dog while a reviewer scrolls past the checkout form, ' +
  'reads the error under the card number, and goes back to the basket to change the quantity.';

/**
 * Two thousand paragraphs set in a web font (Merriweather, served by the test site), a heading in
 * another. `containers`: each paragraph is a size container with a query, as the Rust Reference's
 * rules are: computing any style then lays the page out (Chromium interleaves the two), so the
 * fonts cannot be read from computed styles before the first layout.
 */
const page = (containers: boolean) => `<!doctype html><html><head><style>
  @font-face { font-family: 'Merriweather'; src: url('/fonts/merriweather.woff2') format('woff2'); font-weight: 400; }
  @font-face { font-family: 'Merriweather'; src: url('/fonts/merriweather-700.woff2') format('woff2'); font-weight: 700; }
  @font-face { font-family: 'Lobster'; src: url('/fonts/lobster.woff2') format('woff2'); }
  body { margin: 0 24px; font: 16px/1.5 'Merriweather', serif; background: #fff; }
  h1 { font: 40px 'Lobster', cursive; }
  ${containers ? 'p { container-type: inline-size; container-name: para; } @container para (width < 12em) { b { display: none; } }' : ''}
</style></head><body><h1>Fonts first</h1>
${Array.from({ length: 2000 }, (_, i) => `<p>${i % 7 === 0 ? `<b>${i}.</b> ` : ''}${PARAGRAPH}</p>`).join('\n')}
</body></html>`;

interface LayoutEvent {
  name: string;
  ph: string;
  args?: { beginData?: { dirtyObjects?: number; totalObjects?: number } };
}

describe('a built page with web fonts', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({}, 'begin-frame', { probe: false });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each([
    ['plain styles', false],
    ['container queries (styles computed only with a layout)', true],
  ])('is laid out whole once, with its fonts, not first with fallback fonts and again when they come: %s', async (_, containers) => {
    const site = await startSite({ generated: new Map([['/index.html', { body: Buffer.from(page(containers)), type: 'text/html; charset=utf-8' }]]) });
    try {
      const rec = await recordJourney(site.origin, async ({ page, origin, idle }) => {
        await page.goto(`${origin}/`);
        await idle(2500);
        await page.mouse.move(300, 300);
        await idle(300);
      });
      const events = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;

      const cdp = await browser.newBrowserCDPSession();
      const trace: LayoutEvent[] = [];
      cdp.on('Tracing.dataCollected', (e) => trace.push(...(e.value as unknown as LayoutEvent[])));
      await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: ['devtools.timeline'] } });
      const r = await renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 1, endS: 2, allowOrigins: [site.origin] }, { browser });
      const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.end');
      await done;
      await cdp.detach();

      expect(r.assetFailures, 'the fonts came through the asset proxy').toBe(0);
      // A whole layout of the built page: most of its thousands of layout objects dirty at once (with
      // container queries, the one style forces lays out the containers, 2,000 of 4,577 objects).
      const whole = trace.filter((e) => {
        const d = e.name === 'Layout' && e.ph === 'X' ? e.args?.beginData : undefined;
        return d?.totalObjects !== undefined && d.totalObjects > 1000 && (d.dirtyObjects ?? 0) > d.totalObjects / 2;
      });
      console.log('whole layouts of the built page', whole.map((e) => e.args?.beginData));
      expect(whole).toHaveLength(1);
    } finally {
      await site.close();
    }
  });
});
