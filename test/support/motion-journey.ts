import type { Journey, JourneyContext } from './recorder.js';

/**
 * A ~40 s session on the motion fixture (test/fixtures/motion, served at the site's root), made for
 * judging motion: every screenshot is taken at a set time after a page load or a click, with the mouse
 * still, so that no event is recorded in the second before it (the recorder drops a shot that has
 * one). Several moments are in the middle of an animation; the rest are settled.
 *
 * Times are from the page's full snapshot (rrweb takes it at the load event; a replay builds the page
 * then, and its CSS animations start then). What each moment shows:
 * - home: the hero fades up (0.3 s delay, 1.2 s); the progress bar fills in 4 s from 1 s; a ticker
 *   and a spinner run forever.
 * - orders: six rows fade in 0.3 s apart from 0.2 s (1.1 s each); a van drives for 6 s from 0.5 s.
 * - help: a carousel holds each slide 3.2 s and slides for 0.8 s (16 s loop), so shots fall in its
 *   holds; an accordion (max-height 0.45 s), a dialog (opacity and transform 0.5 s) and a toast
 *   (transform 0.4 s) are opened by clicks and shot once settled; a spinner runs forever.
 */
export const MOTION_JOURNEY_PAGES = { home: '/', orders: '/list.html', help: '/widgets.html' } as const;

/** Clicks `selector` (moving there first) and returns when the page it leads to was snapshotted. */
async function navigateBy(ctx: JourneyContext, selector: string): Promise<number> {
  await ctx.moveTo(selector);
  const since = Date.now();
  await ctx.page.click(selector);
  return ctx.snapshotAfter(since);
}

async function clickAt(ctx: JourneyContext, selector: string): Promise<void> {
  await ctx.moveTo(selector);
  await ctx.page.click(selector);
}

/** Waits until wall time `at`. */
const until = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

export const motionJourney: Journey = async (ctx) => {
  const { origin, shotAt } = ctx;
  const since = Date.now();
  await ctx.page.goto(`${origin}${MOTION_JOURNEY_PAGES.home}`);
  const home = await ctx.snapshotAfter(since);
  await shotAt('home-bar-20%', home + 1800); // hero settled, progress bar 0.8 s into its 4 s
  await shotAt('home-bar-60%', home + 3400);
  await shotAt('home-bar-done', home + 5600);
  await until(home + 6500);

  const orders = await navigateBy(ctx, '#nav-orders');
  await shotAt('orders-rows-2-4-fading', orders + 1300); // rows 2, 3, 4 at 73, 45, 18 % of their time; rows 5-6 not yet
  await shotAt('orders-rows-3-5-fading', orders + 1650); // rows 3, 4, 5 at 77, 50, 23 %
  await shotAt('orders-van-halfway', orders + 3300); // rows settled, van 47 % along
  await shotAt('orders-van-arrived', orders + 7000);

  const help = await navigateBy(ctx, '#nav-help');
  // The carousel's holds are [0, 3.2], [4, 7.2], [8, 11.2], [12, 15.2], [16, 19.2] s after the snapshot.
  await shotAt('help-slide-1', help + 1500);
  await until(help + 1800);
  // Each shot is planned in a hold of the carousel; a click that ran late puts an event in the second
  // before it, and the recorder's quiet rule drops it.
  await clickAt(ctx, '#faq-2 button');
  await shotAt('help-accordion-open-slide-2', help + 5000);
  await until(help + 5300);
  await clickAt(ctx, '#open-dialog');
  await shotAt('help-dialog-open-slide-3', help + 8800);
  await clickAt(ctx, '#close-dialog');
  await ctx.idle(300);
  await clickAt(ctx, '#save');
  await shotAt('help-toast-slide-4', help + 12800);
  // A long still stretch: only CSS moves (carousel, spinner).
  await shotAt('help-still-slide-1-again', help + 17200);
  await until(help + 18500);

  const again = await navigateBy(ctx, '.brand');
  await shotAt('home-again-bar-20%', again + 1800);
  await ctx.idle(800);
  // The recording ends at its last event: a last small move after the last shot.
  await ctx.page.mouse.move(640, 780, { steps: 2 });
};
