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
// change within the 100 ms and is replayed as recorded. The curve is not in the recording:
// ease-in-out (Framer Motion's curve for a fade given a duration; its default fade, 0.3 s, eases
// out a little more).
// A plain function of the events, tested in Node.
import { EventType, forEachSerializedNode, IncrementalSource } from '../src/recording/rrweb-shape.js';

/** A fade an inserted element went through, which the recording has only the ends of. */
export interface CommittedFade {
  /** The element's mirror id. */
  id: number;
  from: number;
  to: number;
  durationMs: number;
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
 * The fades of inserted elements that the recording has only the ends of, by the event that inserts
 * the element.
 */
export function committedFades(events: readonly { type: number; timestamp: number; data: unknown }[]): Map<number, CommittedFade[]> {
  const out = new Map<number, CommittedFade[]>();
  /** Elements inserted below full opacity, by id: where and when, and at what opacity. */
  const waiting = new Map<number, { index: number; ts: number; from: number }>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === EventType.FullSnapshot) waiting.clear();
    if (e.type !== EventType.IncrementalSnapshot || (e.data as { source?: unknown }).source !== IncrementalSource.Mutation) continue;
    const d = e.data as { adds?: unknown; removes?: unknown; attributes?: unknown };
    if (Array.isArray(d.removes)) for (const r of d.removes as { id?: unknown }[]) if (typeof r?.id === 'number') waiting.delete(r.id);
    if (Array.isArray(d.attributes))
      for (const a of d.attributes as { id?: unknown; attributes?: Record<string, unknown> }[]) {
        if (typeof a?.id !== 'number' || !a.attributes || !('style' in a.attributes)) continue;
        const w = waiting.get(a.id);
        const to = w ? opacityWritten(a.attributes.style) : null;
        if (!w || to === null) continue;
        waiting.delete(a.id);
        const durationMs = e.timestamp - w.ts;
        if (to === 'unset' || durationMs < MIN_FADE_MS || durationMs > MAX_FADE_MS || to <= w.from) continue;
        const list = out.get(w.index) ?? [];
        list.push({ id: a.id, from: w.from, to: Math.min(1, to), durationMs, endIndex: i });
        out.set(w.index, list);
      }
    if (Array.isArray(d.adds))
      for (const add of d.adds as { node?: unknown }[])
        forEachSerializedNode(add?.node, (n) => {
          const style = n.attributes?.style;
          if (typeof n.id !== 'number' || typeof style !== 'string') return;
          const from = opacityIn(style);
          if (from === null || from >= 1) return;
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
  return out;
}
