// Starts the animations that the recording has only the ends of (committed-animations.ts), as their
// elements are inserted in the replay, or at the click that started them.
import { committedAnimations, type CommittedAnimation, type CommittedProperty } from './committed-animations.js';

interface MirrorLike {
  getNode(id: number): unknown;
}

/** Keyframe names of the properties (Web Animations takes them in camel case). */
const KEYFRAME_NAME: Record<CommittedProperty, string> = { opacity: 'opacity', filter: 'filter', transform: 'transform', 'clip-path': 'clipPath' };

/** Whether the element's own CSS transitions the property: the change is then animated from the record, live as here. */
function transitions(el: Element, property: CommittedProperty): boolean {
  const cs = el.ownerDocument.defaultView?.getComputedStyle(el);
  if (!cs) return true;
  const props = cs.transitionProperty.split(',').map((p) => p.trim());
  const durations = cs.transitionDuration.split(',').map((d) => parseFloat(d));
  return props.some((p, k) => (p === property || p === 'all') && (durations[k % durations.length] ?? 0) > 0);
}

/** The committed animations of a recording, started in the replay where they started live. */
export class CommittedAnimations {
  private readonly byStart: Map<number, CommittedAnimation[]>;
  private due: CommittedAnimation[] = [];
  /** Animations started, by the index of the event that writes their end. */
  private readonly running = new Map<number, Animation[]>();

  constructor(events: readonly { type: number; timestamp: number; data: unknown }[]) {
    this.byStart = committedAnimations(events);
  }

  /**
   * Event `index` has been cast: the animations it starts (of what it inserted, or of what its click
   * animated) wait for the style update after its group, and those it writes the end of give way to it.
   */
  cast(index: number): void {
    const started = this.byStart.get(index);
    if (started) this.due.push(...started);
    const ended = this.running.get(index);
    if (!ended) return;
    this.running.delete(index);
    for (const a of ended) a.cancel();
  }

  /**
   * Starts the animations due (call with the page's style up to date or about to be, before new
   * animations are placed in time): `castUpTo` is the index of the next event to cast; an animation
   * whose end is before it is over already.
   */
  start(mirror: MirrorLike, castUpTo: number): void {
    if (!this.due.length) return;
    const due = this.due;
    this.due = [];
    for (const c of due) {
      if (c.endIndex < castUpTo) continue;
      const el = mirror.getNode(c.id) as Element | null;
      if (!el || el.nodeType !== 1 || !el.isConnected || typeof el.animate !== 'function' || transitions(el, c.property)) continue;
      const from = c.from ?? el.ownerDocument.defaultView?.getComputedStyle(el).getPropertyValue(c.property) ?? '';
      if (from === c.to || from === '') continue;
      // Held at its end until the record of it is cast (cast): the replay's frames and the page's
      // records do not fall on the same times, and at its start value, between the two, the
      // element flashed out of sight for a frame. At its start while it waits its turn (staggered).
      const name = KEYFRAME_NAME[c.property];
      const a = el.animate([{ [name]: from }, { [name]: c.to }], { duration: c.durationMs, delay: c.delayMs, easing: c.easing, fill: 'both' });
      this.running.set(c.endIndex, [...(this.running.get(c.endIndex) ?? []), a]);
    }
  }
}
