/**
 * `<details>` elements that slide open or shut: the recipe for an animated accordion is a transition
 * of the details' `::details-content` (`transition: height 0.5s, content-visibility 0.5s
 * allow-discrete` with `interpolate-size: allow-keywords`). Chromium runs that transition, but no
 * `getAnimations()` lists it (checked in Chromium 156: the document's and the element's with
 * `subtree` leave it out, where a `::before` transition is listed), so the player did not know
 * anything moved: the GIF showed the accordion part-open, its content clipped, until the next event.
 * The details the replay opened or shut are noted here (a MutationObserver on their `open`
 * attribute), with how long their content's transitions run; the player captures every slot until
 * then, and the slot it ends in.
 */

export interface DetailsMotion {
  /** One runs at the coming frame: capture every slot. */
  moving: boolean;
  /** When the last one ends (replay time), if one runs. */
  endTs: number | null;
  /** One ended since the last frame drawn: the coming frame shows its end. */
  ended: boolean;
}

export class DetailsContent {
  private readonly observers = new WeakMap<Document, MutationObserver>();
  /** Elements whose `open` the replay changed since the last step. */
  private readonly toggled = new Set<Element>();
  /** Replay time at which the transitions started so far end. */
  private untilTs: number | null = null;

  /**
   * Notes the details the step opened or shut in `doc`, whose transitions start with its frame at
   * `frameTs` (they cannot be placed at their event's time as the listed ones are). The first call
   * for a document starts watching it.
   */
  note(doc: Document, frameTs: number): void {
    const observer = this.observers.get(doc);
    if (!observer) {
      // Records reach the callback at the step's first await, before this is called again.
      const watching = new MutationObserver((records) => this.keep(records));
      watching.observe(doc, { subtree: true, attributes: true, attributeFilter: ['open'] });
      this.observers.set(doc, watching);
      return;
    }
    this.keep(observer.takeRecords());
    for (const el of this.toggled) {
      if (el.localName !== 'details' || !el.isConnected) continue;
      const ms = contentTransitionMs(el);
      if (ms > 0) this.untilTs = Math.max(this.untilTs ?? -Infinity, frameTs + ms);
    }
    this.toggled.clear();
  }

  private keep(records: MutationRecord[]): void {
    for (const r of records) this.toggled.add(r.target as Element);
  }

  motion(frameTs: number): DetailsMotion {
    if (this.untilTs === null) return { moving: false, endTs: null, ended: false };
    if (frameTs < this.untilTs) return { moving: true, endTs: this.untilTs, ended: false };
    this.untilTs = null;
    return { moving: false, endTs: null, ended: true };
  }
}

/** How long the transitions of a details' content run, delays included (ms; 0 without any). */
function contentTransitionMs(el: Element): number {
  let style: CSSStyleDeclaration | undefined;
  try {
    style = el.ownerDocument.defaultView?.getComputedStyle(el, '::details-content');
  } catch {
    return 0;
  }
  if (!style) return 0;
  const durations = seconds(style.transitionDuration);
  const delays = seconds(style.transitionDelay);
  let longest = 0;
  // Lists shorter than the properties' repeat (CSS Transitions).
  for (let i = 0; i < Math.max(durations.length, delays.length); i++) {
    longest = Math.max(longest, durations[i % durations.length]! + Math.max(0, delays[i % delays.length]!));
  }
  return longest * 1000;
}

/** A computed list of times (`0.5s, 0s`; Chromium gives seconds) as numbers of seconds. */
function seconds(list: string): number[] {
  const out = list.split(',').map((t) => {
    const v = parseFloat(t);
    if (!Number.isFinite(v)) return 0;
    return t.trim().endsWith('ms') ? v / 1000 : v;
  });
  return out.length ? out : [0];
}
