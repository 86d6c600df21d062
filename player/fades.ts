// Starts the fades that the recording has only the ends of (committed-fades.ts), as the elements
// are inserted in the replay, or at the click that started them.
import { committedFades, type CommittedFade } from './committed-fades.js';

interface MirrorLike {
  getNode(id: number): unknown;
}

/** Whether the element's own CSS transitions its opacity: the change is then animated from the record, live as here. */
function transitionsOpacity(el: Element): boolean {
  const cs = el.ownerDocument.defaultView?.getComputedStyle(el);
  if (!cs) return true;
  const props = cs.transitionProperty.split(',').map((p) => p.trim());
  const durations = cs.transitionDuration.split(',').map((d) => parseFloat(d));
  return props.some((p, k) => (p === 'opacity' || p === 'all') && (durations[k % durations.length] ?? 0) > 0);
}

/** The committed fades of a recording, started in the replay where they started live. */
export class Fades {
  private readonly byStart: Map<number, CommittedFade[]>;
  private due: CommittedFade[] = [];
  /** Fades started, by the index of the event that writes their end. */
  private readonly running = new Map<number, Animation[]>();

  constructor(events: readonly { type: number; timestamp: number; data: unknown }[]) {
    this.byStart = committedFades(events);
  }

  /**
   * Event `index` has been cast: the fades it starts (of what it inserted, or of what its click
   * faded) wait for the style update after its group, and those it writes the end of give way to it.
   */
  cast(index: number): void {
    const fades = this.byStart.get(index);
    if (fades) this.due.push(...fades);
    const ended = this.running.get(index);
    if (!ended) return;
    this.running.delete(index);
    for (const a of ended) a.cancel();
  }

  /**
   * Starts the fades due (call with the page's style up to date or about to be, before new
   * animations are placed in time): `castUpTo` is the index of the next event to cast; a fade whose
   * end is before it is over already.
   */
  start(mirror: MirrorLike, castUpTo: number): void {
    if (!this.due.length) return;
    const due = this.due;
    this.due = [];
    for (const f of due) {
      if (f.endIndex < castUpTo) continue;
      const el = mirror.getNode(f.id) as Element | null;
      if (!el || el.nodeType !== 1 || !el.isConnected || typeof el.animate !== 'function' || transitionsOpacity(el)) continue;
      // Held at its end until the record of it is cast (cast): the replay's frames and the page's
      // records do not fall on the same times, and at its start value, between the two, the
      // element flashed out of sight for a frame. At its start while it waits its turn (staggered).
      const from = f.from ?? Number(el.ownerDocument.defaultView?.getComputedStyle(el).opacity ?? 1);
      if (from === f.to) continue;
      const a = el.animate([{ opacity: from }, { opacity: f.to }], { duration: f.durationMs, delay: f.delayMs, easing: 'ease-in-out', fill: 'both' });
      this.running.set(f.endIndex, [...(this.running.get(f.endIndex) ?? []), a]);
    }
  }
}
