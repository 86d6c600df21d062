import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { inferColorScheme } from '../src/recording/color-scheme.js';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { ssimAgainstLive } from './support/compare.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { recordJourney, type Recording } from './support/recorder.js';
import { serveDir, type StaticSite } from './support/static-dir.js';

/**
 * Media features as the user had them: the replay is not told to reduce motion (pages that honour
 * prefers-reduced-motion hide or stop things under it), and its colour scheme is the one the page
 * marked itself with, so that `@media (prefers-color-scheme)` rules agree with the recorded marks.
 */
let site: StaticSite;
let browser: Browser;

beforeAll(async () => {
  site = await serveDir(fileURLToPath(new URL('./fixtures/media/', import.meta.url)));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

const parse = (rec: Recording): RrwebEvent[] => parseRecording(Buffer.from(JSON.stringify(rec.events))).events;

async function render(events: RrwebEvent[], motion: 'live' | 'frozen' = 'live') {
  const r = await renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, { browser, motion });
  return decodeGif(r.gif);
}

async function scoreShots(rec: Recording, events: RrwebEvent[], motion: 'live' | 'frozen' = 'live'): Promise<number[]> {
  const gif = await render(events, motion);
  const frameHeight = Math.round((gif.width * rec.viewport.height) / rec.viewport.width);
  return Promise.all(rec.shots.map((s) => ssimAgainstLive(s.png, frameAt(gif, s.ts - events[0]!.timestamp).rgba, gif.width, frameHeight)));
}

describe('colour scheme', () => {
  it.each(['dark', 'light'] as const)('a page recorded in %s mode is replayed in it', async (scheme) => {
    const rec = await recordJourney(site.origin, async ({ page, origin, shot, idle }) => {
      await page.goto(`${origin}/scheme.html`);
      await shot('page');
      await idle(500);
    }, { colorScheme: scheme, viewport: { width: 800, height: 500 } });
    const events = parse(rec);
    expect(inferColorScheme(events)).toBe(scheme);
    const [ssim] = await scoreShots(rec, events);
    console.log(`${scheme}: SSIM ${ssim!.toFixed(4)}`);
    expect(ssim).toBeGreaterThanOrEqual(0.95);
    // The body's background, set by the media query alone.
    const gif = await render(events);
    const at = (10 * gif.width + gif.width - 20) * 4;
    const px = gif.frames.at(-1)!.rgba.subarray(at, at + 3);
    if (scheme === 'dark') expect(Math.max(...px)).toBeLessThan(40);
    else expect(Math.min(...px)).toBeGreaterThan(240);
    if (scheme === 'dark') {
      // The control: without the page's mark the replay cannot know, renders light, and misses.
      const unmarked = JSON.parse(JSON.stringify(events).replaceAll('"data-theme":"dark"', '"data-theme":"unset"')) as RrwebEvent[];
      expect(inferColorScheme(unmarked)).toBe('light');
      const [control] = await scoreShots(rec, unmarked);
      console.log(`dark, unmarked: SSIM ${control!.toFixed(4)}`);
      expect(control).toBeLessThan(0.95);
    }
  });
});

describe('reduced motion', () => {
  it('a page that animates only for users who allow motion shows its animation', async () => {
    // A screenshot at a known moment after the load, with nothing recorded around it.
    const shots: Recording['shots'] = [];
    const rec = await recordJourney(site.origin, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/motion-pref.html`);
      await idle(1600);
      const before = Date.now();
      const png = await page.screenshot();
      shots.push({ label: 'banner in', ts: (before + Date.now()) / 2, png });
      await idle(300);
      // A recording lasts until its last event, and CSS animations record none: a move ends it.
      await page.mouse.move(5, 5);
    }, { viewport: { width: 800, height: 500 } });
    rec.shots = shots;
    const events = parse(rec);
    const [live] = await scoreShots(rec, events);
    const [frozen] = await scoreShots(rec, events, 'frozen');
    console.log(`banner: SSIM ${live!.toFixed(4)}; with animations frozen ${frozen!.toFixed(4)}`);
    expect(live).toBeGreaterThanOrEqual(0.95);
    // The control: the banner never arrives when its animation does not run.
    expect(frozen).toBeLessThan(0.95);
  });
});
