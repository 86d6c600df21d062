/**
 * Where a keyframe animation holds still: between two equal keyframes, and within a step of a
 * `steps()` easing. The player captures such an animation where its hold ends, not at every slot
 * (player.ts, motion).
 */

// Read through these shapes, which a page's KeyframeEffect and ComputedEffectTiming fill, so that
// the arithmetic is tested in Node too (test/holds.test.ts).
/** A computed keyframe: its place in the run, its easing, and its values. */
export interface HoldKeyframe {
  computedOffset: number;
  easing?: string;
  [property: string]: unknown;
}
/** What holdOf reads of an animation's effect (a KeyframeEffect in the page). */
export interface HoldingEffect {
  getKeyframes(): HoldKeyframe[];
  getTiming(): { direction?: string };
}
/** What holdOf reads of the effect's timing now (its ComputedEffectTiming). */
export interface HoldTiming {
  duration?: unknown;
  easing?: string;
  progress?: number | null;
  currentIteration?: number | null;
}

/** Keyframe values only (not their offset, easing or composite). */
function keyframeValues(k: HoldKeyframe): string {
  const { offset: _o, computedOffset: _c, easing: _e, composite: _m, ...values } = k;
  return JSON.stringify(values);
}

/**
 * Whether a keyframe animation holds its value at the coming frame (`aheadMs` of its own time from
 * now), and for how much longer from then (ms of its own time), and whether it has such holds at
 * all. Two kinds:
 * - between two equal keyframes (a carousel's pause between slides): to the nearer end of the
 *   segment, so a reversed direction is safe;
 * - within a step of a `steps()` keyframe easing (a text editor's blinking caret, a sprite sheet, a
 *   typing effect): to the next step in the direction it plays. Sampled as motion instead, a caret
 *   blinking every 0.6 s was caught at 0.4 or 0.8 s and blinked out of time.
 */
export function holdOf(effect: HoldingEffect, timing: HoldTiming, aheadMs: number): { holdingMs: number; hasHolds: boolean } {
  const frames = effect.getKeyframes();
  const duration = Number(timing.duration);
  // Where it will be at the frame, `aheadMs` of its time after now: worked out for the usual
  // direction only; another one is taken as moving.
  let progress = timing.progress;
  if (aheadMs > 0 && progress !== null && progress !== undefined) {
    progress = (effect.getTiming().direction ?? 'normal') === 'normal' && duration > 0 ? (progress + aheadMs / duration) % 1 : null;
  }
  const known = progress !== null && progress !== undefined && Number.isFinite(duration);
  let hasHolds = false;
  let holdingMs = 0;
  for (let i = 0; i + 1 < frames.length; i++) {
    const a = frames[i]!;
    const b = frames[i + 1]!;
    if (b.computedOffset <= a.computedOffset) continue;
    const within = known && progress! >= a.computedOffset && progress! < b.computedOffset;
    if (keyframeValues(a) === keyframeValues(b)) {
      hasHolds = true;
      if (within) holdingMs = Math.min(progress! - a.computedOffset, b.computedOffset - progress!) * duration;
      continue;
    }
    // Steps within the segment are its time in equal parts; progress maps to time only without an
    // easing of the whole effect.
    const steps = stepsOf(a.easing);
    if (!steps || timing.easing !== 'linear') continue;
    hasHolds = true;
    if (!within) continue;
    const span = (b.computedOffset - a.computedOffset) / steps;
    const from = a.computedOffset + Math.floor((progress! - a.computedOffset) / span) * span;
    const forward = playsForward(effect, timing);
    // Just past a step, the frame may still show the step before it (TIMELINE_GRAIN_MS): taken as
    // moving, so that the slot after it is captured too, and the hold is worked out from there.
    const past = (forward ? progress! - from : from + span - progress!) * duration;
    holdingMs = past < TIMELINE_GRAIN_MS ? 0 : (forward ? from + span - progress! : progress! - from) * duration;
  }
  // A hold that ends within a frame is motion now.
  if (holdingMs < 1) holdingMs = 0;
  return { holdingMs, hasHolds };
}

/**
 * How far an animation's time at a drawn frame can be from the frame's own time, either way (ms).
 * Chromium gives a page's timeline its frame time clamped to 100 us with a jitter of its own (its
 * TimeClamper, as for performance.now()), and animations are sampled at that time. A step that
 * falls on a slot's time (a caret's blink started by an event on the GIF's grid, every step a whole
 * number of slots later) was drawn before or after its flip by chance: a caret drawn at 599.91 ms
 * of its 600 ms half stayed on through the next one (1 render in 5-12, test/motion.test.ts).
 */
export const TIMELINE_GRAIN_MS = 0.1;

/** How many equal steps a keyframe's easing makes of its segment (`steps(n, …)`, `step-start`, `step-end`), if it is one. */
function stepsOf(easing: string | undefined): number | undefined {
  if (easing === 'step-start' || easing === 'step-end') return 1;
  const m = easing ? /^steps\(\s*(\d+)/.exec(easing) : null;
  const n = m ? Number(m[1]) : 0;
  return n > 0 ? n : undefined;
}

/** Whether the animation's current iteration runs from its first keyframe to its last. */
function playsForward(effect: HoldingEffect, timing: HoldTiming): boolean {
  const direction = effect.getTiming().direction ?? 'normal';
  const odd = (timing.currentIteration ?? 0) % 2 === 1;
  return direction === 'normal' || (direction === 'alternate' && !odd) || (direction === 'alternate-reverse' && odd);
}
