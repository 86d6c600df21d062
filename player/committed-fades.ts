// Fades a script ran with the Web Animations API, which rrweb's recorder does not see. Framer Motion
// (and Motion, its successor) animate opacity with `element.animate()`: the recording has the
// element inserted at its start opacity and, when the animation ends, the end opacity the library
// then writes into its style. Replayed as recorded, a card, a menu or a list faded in by it stayed
// invisible for the whole fade and appeared at once at its end.
//
// Such a pair, an element inserted with an inline opacity under 1 and a change of that inline
// opacity 100 ms to 2 s later, is replayed as a fade between the two values over that time, by an
// animation the player gives the element when it is inserted (fades.ts). A script that writes
// the opacity at every display frame (a fade driven by requestAnimationFrame) writes its first
// change within the 100 ms and is replayed as recorded.
//
// A fade of an element already on the page (a dialog, a menu or a toast faded out before it is
// removed, or one faded back in) leaves only its end too: its start is replayed at the click before
// it, when the element's inline opacity is first written 100 ms to 2 s after that click. A fade
// started otherwise (the Escape key, which the recorder does not record, or a timer) is replayed as
// recorded, at once at its end. The curve is not in the recording:
// ease-in-out (Framer Motion's curve for a fade given a duration; its default fade, 0.3 s, eases
// out a little more).
// A plain function of the events, tested in Node.
import { EventType, forEachSerializedNode, IncrementalSource, MouseInteraction } from '../src/recording/rrweb-shape.js';

/** A fade an element went through, which the recording has only the end (or the two ends) of. */
export interface CommittedFade {
  /** The element's mirror id. */
  id: number;
  /** Its opacity at the start; null: the element's own (its inline style had none). */
  from: number | null;
  to: number;
  durationMs: number;
  /** How long after its start event it waited (a staggered list's later items: staggered). */
  delayMs: number;
  /** Index of the event that writes its end value: once cast, the fade is over. */
  endIndex: number;
}

/** Shorter than this, the opacity was written frame by frame (or the element shown at once). */
const MIN_FADE_MS = 100;
/** Longer than this, the element was shown later, not faded in. */
const MAX_FADE_MS = 2000;

/** `opacity: N` in an inline style's text, or null. */
function opacityIn(style: string): number | null {
  const m = /(?:^|;)\s*opacity\s*:\s*([0-9]*\.?[0-9]+)\s*(?:!important\s*)?(?:;|$)/i.exec(style);
  return m ? Number(m[1]) : null;
}

/**
 * The inline opacity a recorded style change (text, or property -> value) writes; 'unset' when it
 * removes it (the whole style written without it, or the property removed); null when it leaves it.
 */
function opacityWritten(style: unknown): number | 'unset' | null {
  if (typeof style === 'string') return opacityIn(style) ?? 'unset';
  if (style === null) return 'unset';
  if (typeof style !== 'object' || !('opacity' in style)) return null;
  const v = (style as Record<string, unknown>).opacity;
  const text = Array.isArray(v) ? v[0] : v;
  return typeof text === 'string' && text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : 'unset';
}

/**
 * The fades that the recording has only the ends of, by the event they start at: the insertion of
 * the element faded in, or the click that started a fade of an element already on the page.
 */
export function committedFades(events: readonly { type: number; timestamp: number; data: unknown }[]): Map<number, CommittedFade[]> {
  const out = new Map<number, CommittedFade[]>();
  /** Elements inserted below full opacity, by id: where and when, and at what opacity. */
  const waiting = new Map<number, { index: number; ts: number; from: number }>();
  /** The inline opacity of elements that have one, as the recording last wrote it. */
  const inline = new Map<number, number>();
  /** The last click: a fade of an element on the page that the recording has only the end of starts there. */
  let click: { index: number; ts: number } | undefined;
  /** Elements inserted, or whose opacity was written, since the last click: their next write is not a fade's end. */
  const since = new Set<number>();
  /** The last fade found of each element, with its list: a write soon after its end shows it was written frame by frame. */
  const last = new Map<number, { fade: CommittedFade; list: CommittedFade[]; endTs: number }>();
  const found = (index: number, fade: CommittedFade, endTs: number) => {
    const list = out.get(index) ?? [];
    list.push(fade);
    out.set(index, list);
    last.set(fade.id, { fade, list, endTs });
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === EventType.FullSnapshot) {
      waiting.clear();
      inline.clear();
      since.clear();
      last.clear();
      click = undefined;
      forEachSerializedNode((e.data as { node?: unknown }).node, (n) => {
        const o = typeof n.id === 'number' && typeof n.attributes?.style === 'string' ? opacityIn(n.attributes.style) : null;
        if (o !== null) inline.set(n.id!, o);
      });
    }
    if (e.type !== EventType.IncrementalSnapshot) continue;
    const source = (e.data as { source?: unknown }).source;
    if (source === IncrementalSource.MouseInteraction && (e.data as { type?: unknown }).type === MouseInteraction.Click) {
      click = { index: i, ts: e.timestamp };
      since.clear();
    }
    if (source !== IncrementalSource.Mutation) continue;
    const d = e.data as { adds?: unknown; removes?: unknown; attributes?: unknown };
    if (Array.isArray(d.removes))
      for (const r of d.removes as { id?: unknown }[])
        if (typeof r?.id === 'number') {
          waiting.delete(r.id);
          inline.delete(r.id);
        }
    if (Array.isArray(d.attributes))
      for (const a of d.attributes as { id?: unknown; attributes?: Record<string, unknown> }[]) {
        if (typeof a?.id !== 'number' || !a.attributes || !('style' in a.attributes)) continue;
        const to = opacityWritten(a.attributes.style);
        if (to === null) continue;
        const id = a.id;
        const before = inline.get(id);
        if (to === 'unset') inline.delete(id);
        else inline.set(id, to);
        // Changed again right after the end of a fade found: the opacity was written frame by frame
        // from there (the recording has every step of it), or shown at once after a wait.
        const prior = last.get(id);
        if (prior) {
          last.delete(id);
          if (e.timestamp - prior.endTs < MIN_FADE_MS && to !== prior.fade.to) prior.list.splice(prior.list.indexOf(prior.fade), 1);
        }
        const w = waiting.get(id);
        if (w) {
          waiting.delete(id);
          since.add(id);
          const durationMs = e.timestamp - w.ts;
          if (to === 'unset' || durationMs < MIN_FADE_MS || durationMs > MAX_FADE_MS || to <= w.from) continue;
          found(w.index, { id, from: w.from, to: Math.min(1, to), durationMs, delayMs: 0, endIndex: i }, e.timestamp);
          continue;
        }
        const first = !since.has(id);
        since.add(id);
        // An element on the page before the click: its first opacity written 100 ms to 2 s after it
        // is the end of a fade the click started (a dialog, a menu or a toast faded out by Framer
        // Motion, then removed). Where it starts from is read in the replay when the inline style
        // had none.
        if (!first || !click || to === 'unset' || to === before) continue;
        const durationMs = e.timestamp - click.ts;
        if (durationMs < MIN_FADE_MS || durationMs > MAX_FADE_MS) continue;
        found(click.index, { id, from: before ?? null, to: Math.min(1, to), durationMs, delayMs: 0, endIndex: i }, e.timestamp);
      }
    if (Array.isArray(d.adds))
      for (const add of d.adds as { node?: unknown }[])
        forEachSerializedNode(add?.node, (n) => {
          if (typeof n.id !== 'number') return;
          if (click) since.add(n.id);
          const style = n.attributes?.style;
          if (typeof style !== 'string') return;
          const from = opacityIn(style);
          if (from === null) return;
          inline.set(n.id, from);
          if (from >= 1) return;
          // Kept in the order of insertion, so that the expired are found at the front.
          waiting.delete(n.id);
          waiting.set(n.id, { index: i, ts: e.timestamp, from });
        });
    // Elements whose end never came: kept no longer than a fade can last (a page that inserts
    // thousands of hidden elements made this a walk over all of them at every record).
    for (const [id, w] of waiting) {
      if (e.timestamp - w.ts <= MAX_FADE_MS) break;
      waiting.delete(id);
    }
  }
  for (const list of out.values()) staggered(list);
  return out;
}

/** At least this many fades of one start, with the same ends and different lengths, are a staggered list's. */
const STAGGER_MIN = 3;
/** Lengths further apart than this differ (the library writes an end at a display frame, 16 ms apart). */
const STAGGER_SLACK_MS = 40;

/**
 * A list whose items fade in (or out) one after another, as Framer Motion's `staggerChildren` does:
 * inserted together, each item waits its turn, then fades for the same time, and the library writes
 * each one's end in turn. So fades of one start with the same ends and different lengths are taken
 * to be of one length, the shortest, each delayed by the rest of its own (before, the last item of a
 * list faded over the whole list's time and was half-visible before its turn).
 */
function staggered(list: CommittedFade[]): void {
  if (list.length < STAGGER_MIN) return;
  const { from, to } = list[0]!;
  if (list.some((f) => f.from !== from || f.to !== to)) return;
  const shortest = Math.min(...list.map((f) => f.durationMs));
  if (!list.some((f) => f.durationMs - shortest > STAGGER_SLACK_MS)) return;
  for (const f of list) {
    f.delayMs = f.durationMs - shortest;
    f.durationMs = shortest;
  }
}
