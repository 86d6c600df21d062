import type { Journey } from './recorder.js';

/**
 * A scroll-heavy moment over photographs: on the fixture shop's front page (a hero photo and a
 * grid of nine photo cards) the visitor scrolls down and up in bursts, `rounds` times (about 7 s
 * a round), with a live screenshot at each pause. Nearly every frame repaints most of the viewport
 * with photos: the case that takes a GIF over its byte budget.
 */
export function photoScroll(rounds: number): Journey {
  return async ({ page, origin, shot, idle, wheel, moveTo }) => {
    await page.goto(`${origin}/`);
    await shot('landing');
    await moveTo('#card-1');
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < 5; k++) {
        await wheel(260, 4);
        await idle(250);
      }
      await shot(`down-${round}`);
      for (let k = 0; k < 4; k++) {
        await wheel(-300, 4);
        await idle(200);
      }
      await wheel(120, 2);
      await shot(`up-${round}`);
    }
    await idle(500);
  };
}

/** About 38 s: the budget benchmark's recording (a 30 s moment of it is 6-7 MB as a GIF at 10 fps, 800 px). */
export const photoScrollJourney = photoScroll(5);
