import type { Journey } from './recorder.js';

/**
 * A short journey over everything a faithful frame needs: web fonts without CORS, images, window
 * scroll, a page navigation, typed inputs, a click that changes the DOM and an inner scroller.
 * A screenshot is taken at each still moment.
 */
export const fidelityJourney: Journey = async ({ page, origin, shot, idle, wheel, type, moveTo }) => {
  await page.goto(`${origin}/`);
  await shot('landing');
  await moveTo('#shop-now');
  await wheel(700);
  await shot('scrolled-grid');
  await wheel(1400);
  await shot('scrolled-story');
  await wheel(-1800);
  await moveTo('#card-3');
  await page.click('#card-3');
  await page.waitForLoadState('load');
  await shot('product');
  await moveTo('#add');
  await page.click('#add');
  await shot('added-to-cart');
  await page.click('#go-checkout');
  await page.waitForLoadState('load');
  await type('#name', 'Ada Lovelace');
  await type('#email', 'ada@example.org');
  await shot('typed');
  await page.locator('#summary').evaluate((el) => el.scrollTo({ top: 260, behavior: 'instant' }));
  await idle(200);
  await shot('inner-scroll');
  await page.goto(`${origin}/reviews.html`);
  await shot('web-components');
  await page.click('review-card:nth-of-type(3)');
  await wheel(300);
  await shot('web-components-scrolled');
};

/**
 * The bundled example and the benchmark's recording: about 75 s of a realistic session with page
 * loads, reading, scrolling, typing, a failed payment and long idle stretches.
 */
export const exampleJourney: Journey = async ({ page, origin, shot, idle, wheel, type, moveTo }) => {
  await page.goto(`${origin}/`);
  await shot('landing');
  await idle(1500);
  await moveTo('#shop-now');
  await idle(1500);
  await wheel(600, 6);
  await idle(3000);
  await moveTo('#card-4');
  await wheel(900, 9);
  await shot('grid');
  await idle(3000);
  await wheel(1200, 12);
  await shot('story');
  await idle(4000);
  await wheel(-2200, 10);
  await idle(1500);
  await moveTo('#card-3');
  await page.click('#card-3');
  await page.waitForLoadState('load');
  await shot('product');
  await idle(2000);
  await page.selectOption('#qty', '2');
  await idle(1000);
  await moveTo('#add');
  await page.click('#add');
  await shot('added');
  await idle(1500);
  await wheel(500, 5);
  await idle(4000);
  await wheel(-500, 5);
  await moveTo('#go-checkout');
  await page.click('#go-checkout');
  await page.waitForLoadState('load');
  await idle(2000);
  await type('#name', 'Ada Lovelace');
  await idle(800);
  await type('#email', 'ada@example.org');
  await idle(800);
  await type('#address', '12 Analytical Row, London');
  await page.selectOption('#country', 'Ireland');
  await page.check('#gift');
  await shot('form-filled');
  await idle(1000);
  await moveTo('#summary');
  for (let i = 0; i < 6; i++) {
    await page.mouse.wheel(0, 90);
    await idle(150);
  }
  await shot('summary-scrolled');
  await idle(7000);
  await moveTo('#pay');
  await page.click('#pay');
  await shot('declined');
  await idle(5000);
  await page.click('#pay');
  await idle(9000);
  await moveTo('.brand');
  await idle(8000);
  // The recording ends at its last event: a last small move marks the end of the idle stretch.
  await page.mouse.move(40, 40, { steps: 3 });
};
