// Animations a script ran with the Web Animations API, which rrweb's recorder does not see. Framer
// Motion (and Motion, its successor) animate opacity, filter, clip-path and transforms (x, y, scale
// included) with `element.animate()`: the recording has the element inserted at its start values and,
// when the animation ends, the end values the library then writes into its style. Replayed as
// recorded, a card, a menu or a list faded in by it stayed invisible for the whole fade and appeared
// at once at its end; a heading faded in from a blur and a few pixels lower ("blur fade") stayed
// blurred and out of place until its end.
//
// Such a pair, an element inserted with an inline value of one of those properties (an opacity under
// 1, a filter, transform or clip-path other than none) and a change of that inline value 100 ms to 2 s
// later, is replayed as an animation between the two values over that time, which the player gives
// the element when it is inserted (committed-animations-dom.ts). A script that writes the value at
// every display frame (an animation driven by requestAnimationFrame) writes its first change within
// the 100 ms and is replayed as recorded.
//
// An animation of an element already on the page (a dialog or a menu faded out before it is removed,
// or one faded back in) leaves only its end too: its start is replayed at the click before it, when
// the element's inline value is first written 100 ms to 2 s after that click. One started otherwise
// (the Escape key, which the recorder does not record, or a timer) is replayed as recorded, at once at
// its end. The curve is not in the recording. Framer Motion eases in and out an animation given a
// duration, and one given none (most often written: `animate={{ opacity: 1 }}`) takes 0.3 s on a
// curve a little shallower than the browser's `ease` (its default for opacity, filter and
// clip-path; transforms default to springs). So one that lasted 0.3 s (and the frame or so the
// library takes) is replayed on that curve, and any other eased in and out.
// A plain function of the events, tested in Node.
import { EventType, forEachSerializedNode, IncrementalSource, MouseInteraction } from '../src/recording/rrweb-shape.js';

/** The properties such libraries animate with the Web Animations API, as CSS names. */
export const COMMITTED_PROPERTIES = ['opacity', 'filter', 'transform', 'clip-path'] as const;
export type CommittedProperty = (typeof COMMITTED_PROPERTIES)[number];

/** An animation an element went through, which the recording has only the end (or the two ends) of. */
export interface CommittedAnimation {
  /** The element's mirror id. */
  id: number;
  property: CommittedProperty;
  /** Its value at the start; null: the element's own (its inline style had none). */
  from: string | null;
  to: string;
  durationMs: number;
  /** How long after its start event it waited (a staggered list's later items: staggered). */
  delayMs: number;
  /** Its curve (a CSS easing), as the library most likely ran it. */
  easing: string;
  /** Index of the event that writes its end value: once cast, the animation is over. */
  endIndex: number;
}

/** Shorter than this, the value was written frame by frame (or the element shown at once). */
const MIN_ANIMATION_MS = 100;
/** Longer than this, the element was shown later, not animated. */
const MAX_ANIMATION_MS = 2000;

const PATTERNS = COMMITTED_PROPERTIES.map((p) => new RegExp(`(?:^|;)\\s*${p}\\s*:\\s*([^;]*?)\\s*(?:!important\\s*)?(?:;|$)`, 'i'));

/** The property's value in an inline style's text, or null. */
function valueIn(style: string, p: number): string | null {
  const v = PATTERNS[p]!.exec(style)?.[1]?.trim();
  return v ? v : null;
}

/**
 * The inline value of property `p` a recorded style change (text, or property -> value) writes; ''
 * when it removes it (the whole style written without it, or the property removed); null when it
 * leaves it.
 */
function written(style: unknown, p: number): string | null {
  if (typeof style === 'string') return valueIn(style, p) ?? '';
  if (style === null) return '';
  const name = COMMITTED_PROPERTIES[p]!;
  if (typeof style !== 'object' || !(name in style)) return null;
  const v = (style as Record<string, unknown>)[name];
  const text = Array.isArray(v) ? v[0] : v;
  return typeof text === 'string' ? text.trim() : '';
}

/** Whether an element inserted with this inline value may be at the start of an animation of it. */
function startsAway(p: number, value: string): boolean {
  if (COMMITTED_PROPERTIES[p] === 'opacity') return Number(value) < 1;
  return value.toLowerCase() !== 'none';
}

/**
 * Whether going from `from` to `to` is the end of such an animation: an opacity that rises, for an
 * inserted element (`entering`); a transform that starts or ends at none. Positioning code (a
 * tooltip or a menu placed by Popper or Floating UI) writes one translate after another, and a
 * reposition a second after the last must not slide the menu across; an animation in or out ends
 * or starts where the element is laid out.
 */
function endsAt(p: number, from: string | undefined, to: string, entering: boolean): boolean {
  if (to === '' || to === from) return false;
  const property = COMMITTED_PROPERTIES[p];
  if (property === 'opacity') return Number.isFinite(Number(to)) && (!entering || Number(to) > Number(from));
  if (property === 'transform') return to.toLowerCase() === 'none' || (from ?? 'none').toLowerCase() === 'none';
  return true;
}

/**
 * The animations that the recording has only the ends of, by the event they start at: the insertion
 * of the element animated in, or the click that started an animation of an element already on the page.
 */
export function committedAnimations(events: readonly { type: number; timestamp: number; data: unknown }[]): Map<number, CommittedAnimation[]> {
  const P = COMMITTED_PROPERTIES.length;
  const out = new Map<number, CommittedAnimation[]>();
  // Maps below are by element and property: id * P + the property's index.
  /** Values an inserted element may be animated from: where and when it was inserted, and the value. */
  const waiting = new Map<number, { index: number; ts: number; from: string }>();
  /** The inline values of elements that have one, as the recording last wrote them. */
  const inline = new Map<number, string>();
  /** The last click: an animation of an element on the page that the recording has only the end of starts there. */
  let click: { index: number; ts: number } | undefined;
  /** Values written since the last click: their next write is not an animation's end. */
  const since = new Set<number>();
  /** Elements inserted since the last click (by id): none of their writes is the end of one the click started. */
  const inserted = new Set<number>();
  /** The last animation found of each value, with its list: a write soon after its end shows it was written frame by frame. */
  const last = new Map<number, { found: CommittedAnimation; list: CommittedAnimation[]; endTs: number }>();
  const found = (index: number, key: number, a: CommittedAnimation, endTs: number) => {
    const list = out.get(index) ?? [];
    list.push(a);
    out.set(index, list);
    last.set(key, { found: a, list, endTs });
  };
  const noteStyle = (id: number, style: string) => {
    for (let p = 0; p < P; p++) {
      const v = valueIn(style, p);
      if (v !== null) inline.set(id * P + p, v);
    }
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === EventType.FullSnapshot) {
      waiting.clear();
      inline.clear();
      since.clear();
      inserted.clear();
      last.clear();
      click = undefined;
      forEachSerializedNode((e.data as { node?: unknown }).node, (n) => {
        if (typeof n.id === 'number' && typeof n.attributes?.style === 'string') noteStyle(n.id, n.attributes.style);
      });
    }
    if (e.type !== EventType.IncrementalSnapshot) continue;
    const source = (e.data as { source?: unknown }).source;
    if (source === IncrementalSource.MouseInteraction && (e.data as { type?: unknown }).type === MouseInteraction.Click) {
      click = { index: i, ts: e.timestamp };
      since.clear();
      inserted.clear();
    }
    if (source !== IncrementalSource.Mutation) continue;
    const d = e.data as { adds?: unknown; removes?: unknown; attributes?: unknown };
    if (Array.isArray(d.removes))
      for (const r of d.removes as { id?: unknown }[])
        if (typeof r?.id === 'number')
          for (let p = 0; p < P; p++) {
            waiting.delete(r.id * P + p);
            inline.delete(r.id * P + p);
          }
    if (Array.isArray(d.attributes))
      for (const a of d.attributes as { id?: unknown; attributes?: Record<string, unknown> }[]) {
        if (typeof a?.id !== 'number' || !a.attributes || !('style' in a.attributes)) continue;
        for (let p = 0; p < P; p++) {
          const to = written(a.attributes.style, p);
          if (to === null) continue;
          const id = a.id;
          const key = id * P + p;
          const before = inline.get(key);
          if (to === '') inline.delete(key);
          else inline.set(key, to);
          // Changed again right after the end of an animation found: the value was written frame by
          // frame from there (the recording has every step of it), or set at once after a wait.
          const prior = last.get(key);
          if (prior) {
            last.delete(key);
            if (e.timestamp - prior.endTs < MIN_ANIMATION_MS && to !== prior.found.to) prior.list.splice(prior.list.indexOf(prior.found), 1);
          }
          const property = COMMITTED_PROPERTIES[p]!;
          const w = waiting.get(key);
          if (w) {
            waiting.delete(key);
            since.add(key);
            const durationMs = e.timestamp - w.ts;
            if (durationMs < MIN_ANIMATION_MS || durationMs > MAX_ANIMATION_MS || !endsAt(p, w.from, to, true)) continue;
            found(w.index, key, { id, property, from: w.from, to, durationMs, delayMs: 0, easing: EASE_IN_OUT, endIndex: i }, e.timestamp);
            continue;
          }
          const first = !since.has(key) && !inserted.has(id);
          since.add(key);
          // A value of an element on the page before the click, first written 100 ms to 2 s after
          // it: the end of an animation the click started. Where it starts from is read in the
          // replay when the inline style had none.
          if (!first || !click || !endsAt(p, before, to, false)) continue;
          const durationMs = e.timestamp - click.ts;
          if (durationMs < MIN_ANIMATION_MS || durationMs > MAX_ANIMATION_MS) continue;
          found(click.index, key, { id, property, from: before ?? null, to, durationMs, delayMs: 0, easing: EASE_IN_OUT, endIndex: i }, e.timestamp);
        }
      }
    if (Array.isArray(d.adds))
      for (const add of d.adds as { node?: unknown }[])
        forEachSerializedNode(add?.node, (n) => {
          if (typeof n.id !== 'number') return;
          if (click && n.attributes) inserted.add(n.id);
          const style = n.attributes?.style;
          if (typeof style !== 'string') return;
          for (let p = 0; p < P; p++) {
            const key = n.id * P + p;
            const from = valueIn(style, p);
            if (from === null) continue;
            inline.set(key, from);
            if (!startsAway(p, from)) continue;
            // Kept in the order of insertion, so that the expired are found at the front.
            waiting.delete(key);
            waiting.set(key, { index: i, ts: e.timestamp, from });
          }
        });
    // Values whose end never came: kept no longer than an animation can last (a page that inserts
    // thousands of hidden elements made this a walk over all of them at every record).
    for (const [key, w] of waiting) {
      if (e.timestamp - w.ts <= MAX_ANIMATION_MS) break;
      waiting.delete(key);
    }
  }
  for (const list of out.values()) for (const p of COMMITTED_PROPERTIES) staggered(list.filter((a) => a.property === p));
  for (const list of out.values()) for (const a of list) a.easing = curveOf(a);
  return out;
}

const EASE_IN_OUT = 'ease-in-out';
/** Framer Motion's default for an animation given no transition (its `ease`): 0.3 s on this curve. */
const LIBRARY_DEFAULT = { ms: 300, easing: 'cubic-bezier(0.25, 0.1, 0.35, 1)' };
/** The frame or so the library takes to write the end after the animation's own end (measured: 3-7 ms after a 1.2 s one). */
const DEFAULT_SLACK_MS = 40;

/** The curve an animation most likely ran on: its length tells the library's default from a duration given. */
function curveOf(a: CommittedAnimation): string {
  if (a.property === 'transform') return EASE_IN_OUT;
  const over = a.durationMs - LIBRARY_DEFAULT.ms;
  return over >= -10 && over <= DEFAULT_SLACK_MS ? LIBRARY_DEFAULT.easing : EASE_IN_OUT;
}

/** At least this many animations of one start and property, with the same ends and different lengths, are a staggered list's. */
const STAGGER_MIN = 3;
/** Lengths further apart than this differ (the library writes an end at a display frame, 16 ms apart). */
const STAGGER_SLACK_MS = 40;

/**
 * A list whose items animate in (or out) one after another, as Framer Motion's `staggerChildren` does:
 * inserted together, each item waits its turn, then animates for the same time, and the library writes
 * each one's end in turn. So animations of one start and property with the same ends and different
 * lengths are taken to be of one length, the shortest, each delayed by the rest of its own (before,
 * the last item of a list faded over the whole list's time and was half-visible before its turn).
 */
function staggered(list: CommittedAnimation[]): void {
  if (list.length < STAGGER_MIN) return;
  const { from, to } = list[0]!;
  if (list.some((a) => a.from !== from || a.to !== to)) return;
  const shortest = Math.min(...list.map((a) => a.durationMs));
  if (!list.some((a) => a.durationMs - shortest > STAGGER_SLACK_MS)) return;
  for (const a of list) {
    a.delayMs = a.durationMs - shortest;
    a.durationMs = shortest;
  }
}
