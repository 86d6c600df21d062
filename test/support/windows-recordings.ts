import type { Browser } from 'playwright-core';
import { recordJourney, toPostHogLines, type Journey, type Recording, type Shot } from './recorder.js';

/**
 * Recordings of one session over several windows (issue 7, point 4), made by rrweb's recorder on the
 * fixture shop, in the form PostHog stores them: each tab records with its own window id.
 *
 * - 'two-tabs': the user reads the shop's front page in tab A (which updates a counter by itself
 *   every 2.5 s, as shops do), opens a product in tab B, adds it to the cart, goes back to A and
 *   scrolls, then returns to B and goes to checkout. Each page is a Playwright page of one browser
 *   context; every switch is followed by the user acting in the tab they switched to.
 * - 'reload': the user is on a product page, adds to cart, then reloads, and the page records under a
 *   new window id from then on (PostHog gives a reloaded tab a new window id when its session storage
 *   is gone); in the new window they go to checkout and type.
 *
 * Shots are of the tab the user is in, at still moments with no event of that tab in the second
 * before them (the other tab may be changing in the background).
 */
export type WindowsScenario = 'two-tabs' | 'reload';

export interface WindowsRecording {
  scenario: WindowsScenario;
  recording: Recording;
  /** PostHog snapshot lines (JSON Lines) of the recording: `{"window_id","data":[...]}` or `[windowId, event]`. */
  lines: string;
  /** Each live screenshot with the window it shows and its moment in seconds from the recording's first event. */
  moments: { label: string; windowId: string; atS: number; shot: Shot }[];
  /** The window ids in the order they first recorded. */
  windows: string[];
}

/** The quiet rule for these shots: no event of the shot's own window in the second before it. */
export const WINDOWS_QUIET_MS = 1000;

/** Moves the pointer into the middle of the tab and a little around, as a user who comes back to it. */
async function lookAround(page: import('playwright-core').Page): Promise<void> {
  await page.mouse.move(620, 380, { steps: 6 });
  await page.mouse.move(700, 420, { steps: 6 });
}

const twoTabs: Journey = async (ctx) => {
  const { origin, idle, wheel, moveTo } = ctx;
  const shot = (label: string) => ctx.shotWhenQuiet(label, WINDOWS_QUIET_MS);
  const a = ctx.page;
  await a.goto(`${origin}/`);
  await moveTo('#shop-now');
  await shot('A-front-page');
  await wheel(600, 6);
  await shot('A-grid');

  const b = await ctx.newTab(`${origin}/product.html?id=4`);
  await lookAround(b);
  await shot('B-product');
  await moveTo('#add');
  await b.click('#add');
  await shot('B-added');

  await ctx.switchTo(a);
  await lookAround(a);
  await wheel(900, 9);
  await shot('A-story');

  await ctx.switchTo(b);
  await lookAround(b);
  await moveTo('#go-checkout');
  await b.click('#go-checkout');
  await b.waitForLoadState('load');
  await ctx.type('#name', 'Grace Hopper');
  await shot('B-checkout-typed');
  await idle(1500);
  await b.mouse.move(300, 300, { steps: 3 });
};

const reload: Journey = async (ctx) => {
  const { origin, idle, wheel, moveTo } = ctx;
  const shot = (label: string) => ctx.shotWhenQuiet(label, WINDOWS_QUIET_MS);
  const p = ctx.page;
  await p.goto(`${origin}/product.html?id=2`);
  await lookAround(p);
  await shot('W1-product');
  await moveTo('#add');
  await p.click('#add');
  await wheel(900, 9);
  await shot('W1-reviews');

  // After the reload the page is back where Chromium restores it; the user scrolls to the top, so
  // the new window's picture differs from the old window's last one.
  await ctx.reloadAsNewWindow();
  await lookAround(p);
  await wheel(-1200, 8);
  await shot('W2-top-after-reload');
  await moveTo('.cart');
  await p.click('.cart');
  await p.waitForLoadState('load');
  await ctx.type('#name', 'Katherine Johnson');
  await ctx.type('#email', 'kj@example.org');
  await shot('W2-checkout-typed');
  await idle(1500);
  await p.mouse.move(300, 300, { steps: 3 });
};

export async function recordWindowsSession(
  scenario: WindowsScenario,
  origin: string,
  opts: { browser?: Browser; form?: 'object' | 'pair' } = {},
): Promise<WindowsRecording> {
  const recording = await recordJourney(origin, scenario === 'two-tabs' ? twoTabs : reload, {
    browser: opts.browser,
    quiet: { beforeMs: WINDOWS_QUIET_MS, onNoisy: 'drop' },
  });
  const t0 = (recording.events[0] as { timestamp: number }).timestamp;
  const windows = [...new Set(recording.windowIds)];
  return {
    scenario,
    recording,
    lines: toPostHogLines(recording, opts.form ?? 'object'),
    moments: recording.shots.map((shot) => ({ label: shot.label, windowId: shot.windowId, atS: +((shot.ts - t0) / 1000).toFixed(3), shot })),
    windows,
  };
}
