import { describe, expect, it } from 'vitest';
import { holdOf, TIMELINE_GRAIN_MS, type HoldKeyframe, type HoldingEffect, type HoldTiming } from '../player/holds.js';

/**
 * Where a `steps()` animation holds (player/holds.ts), on the blinking caret of test/motion.test.ts:
 * `1.2s steps(1) infinite blink` with `50% { opacity: 0 }`, as Chromium's getKeyframes() gives it.
 * Its render in Chromium is "a blinking caret"; this is the arithmetic at a step's edge, which a
 * render reaches only when a step falls on a slot's time and then only by chance (Chromium clamps
 * the page's animation time to 100 us with a jitter of its own).
 */
const DURATION = 1200;

function caret(direction = 'normal'): HoldingEffect {
  const frame = (computedOffset: number, opacity: string): HoldKeyframe => ({ offset: null, computedOffset, easing: 'steps(1)', composite: 'auto', opacity });
  return {
    getKeyframes: () => [frame(0, '1'), frame(0.5, '0'), frame(1, '1')],
    getTiming: () => ({ direction }),
  };
}

/** At `positionMs` of the keyframes' 1.2 s (the effect's progress, in the direction it plays). */
function at(positionMs: number): HoldTiming {
  return { duration: DURATION, easing: 'linear', progress: positionMs / DURATION, currentIteration: 0 };
}

describe('holds of a steps() animation', () => {
  it('holds to the next step in the direction it plays', () => {
    expect(holdOf(caret(), at(300), 0).holdingMs).toBeCloseTo(300, 6);
    expect(holdOf(caret(), at(700), 0).holdingMs).toBeCloseTo(500, 6);
    // Worked out at the coming frame, `aheadMs` after the one drawn.
    expect(holdOf(caret(), at(300), 100).holdingMs).toBeCloseTo(200, 6);
    // Played backwards: from 700 ms of its keyframes down to the step at 600.
    expect(holdOf(caret('reverse'), at(700), 0).holdingMs).toBeCloseTo(100, 6);
    expect(holdOf(caret(), at(300), 0).hasHolds).toBe(true);
  });

  it('takes a step passed by less than the timeline\'s grain as moving: the frame may still show the one before', () => {
    // A drawn caret stood at 599.91 ms where 600.01 was worked out: drawn on, and held on to 1.2 s.
    const justPast = 600 + TIMELINE_GRAIN_MS / 10;
    expect(holdOf(caret(), at(justPast), 0)).toEqual({ holdingMs: 0, hasHolds: true });
    expect(holdOf(caret(), at(500), 100 + TIMELINE_GRAIN_MS / 10).holdingMs).toBe(0);
    expect(holdOf(caret('reverse'), at(600 - TIMELINE_GRAIN_MS / 10), 0).holdingMs).toBe(0);
    // Past the grain, the step is drawn: held to the next one.
    expect(holdOf(caret(), at(600 + 2 * TIMELINE_GRAIN_MS), 0).holdingMs).toBeCloseTo(600 - 2 * TIMELINE_GRAIN_MS, 6);
  });
});
