// Clicks no pointer made. rrweb records every click event, and a replay moves its pointer to a click's
// coordinates and hovers its target. Two kinds come from no pointer:
// - a label's click passed on to its control: the browser clicks the control too, at the same
//   coordinates, so the replay hovered the control (often hidden elsewhere in the page) instead of
//   what was under the pointer. mdBook's sidebar button is a label for a hidden checkbox in the
//   body: the menu bar, which stays in view while hovered, lost its hover and slid up in the replay;
//   a ripple was drawn twice;
// - a script's `element.click()` and a key's activation (Enter on a button): a click at (0, 0),
//   which put the replay's pointer, its hover and a ripple in the page's top left corner.
// The pointer was where the last real press left it: such clicks are dropped from the clip.
import { IncrementalSource, MouseInteraction } from './rrweb-shape.js';
import { EventType, isRecord, type RrwebEvent } from './types.js';

/** A label's click reaches its control within the same task: a few ms apart, at most this. */
const PASSED_ON_MS = 50;

/** The pointer interactions a click follows: the press it ends, or the click it was passed on from. */
const POINTER = new Set<number>([MouseInteraction.MouseDown, MouseInteraction.MouseUp, MouseInteraction.Click, MouseInteraction.TouchStart, MouseInteraction.TouchEnd]);

/** The events (in time order) without the clicks no pointer made (above); the same array when there are none. */
export function withoutSyntheticClicks(events: RrwebEvent[]): RrwebEvent[] {
  let last: { ts: number; type: number; x: unknown; y: unknown } | undefined;
  const dropped = new Set<RrwebEvent>();
  for (const e of events) {
    if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data) || e.data.source !== IncrementalSource.MouseInteraction) continue;
    const { type, x, y } = e.data;
    if (typeof type !== 'number' || !POINTER.has(type)) continue;
    if (type === MouseInteraction.Click) {
      const passedOn = last?.type === MouseInteraction.Click && last.x === x && last.y === y && e.timestamp - last.ts <= PASSED_ON_MS;
      // A real click at the corner follows its own press there.
      const pointerless = x === 0 && y === 0 && !(last && last.type !== MouseInteraction.Click && last.x === 0 && last.y === 0);
      if (passedOn || pointerless) {
        dropped.add(e);
        continue;
      }
    }
    last = { ts: e.timestamp, type, x, y };
  }
  return dropped.size ? events.filter((e) => !dropped.has(e)) : events;
}
