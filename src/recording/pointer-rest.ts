// Where the pointer came to rest. rrweb's recorder samples pointer moves with a throttle that keeps
// no trailing call: a move within the sampling interval of the last one recorded is dropped, and
// nothing is recorded for it later. The last moves before a pointer stops come in quick succession,
// so a recording often has the pointer short of where it stopped until its next event, seconds
// later maybe. A replay kept the pointer, and its hover, on whatever it had been passing over: on
// bull-board (the queue dashboard), the fullscreen button lit for 600 ms while the pointer rested
// on the settings button beside it.
//
// The throttle also says when the pointer got there: every move at or past the interval after the
// last one recorded is recorded. So the pointer's next event after a pause, at another position,
// shows where it came to rest, within the interval of the last move:
// - a press (mouse down or up, a click) is at the pointer's position, exactly;
// - a move after a pause starts a new motion: its first event is a frame of motion from where the
//   pointer rested, which no event gave (the last one was recorded on the way there); taken so only
//   when it is as near the last move as the pointer's speed allows (below): a pointer that left the
//   page and came back elsewhere, or that a script moved in one jump, was not resting there.
// A move to that position, on that event's target, is put in at the end of the interval.
import { IncrementalSource, MouseInteraction } from './rrweb-shape.js';
import { EventType, isRecord, type RrwebEvent } from './types.js';

/**
 * rrweb's default pointer sampling interval (`sampling.mousemove`); the recording does not say which
 * one its recorder used (ours records at 20 ms). With a longer one the pointer arrives early by the
 * difference, with a shorter one late by it: a frame at most, against seconds.
 */
export const POINTER_SAMPLING_MS = 50;

/**
 * How long the pointer must have been still, past the sampling interval, for its rest to be put in:
 * shorter than a frame of the GIF at any rate we render, and longer than the gaps a pointer that
 * keeps moving leaves between recorded moves (one event a display frame: 17 ms at 60 Hz).
 */
const REST_MS = 50;

/**
 * A move after a pause is taken to start where the pointer rested only when it is no farther from
 * the last recorded move than the pointer could have gone in the sampling interval at the speed it
 * came in with, plus a frame of the new motion. Farther, the pointer left the page and came back
 * elsewhere, or a script put it there in one jump: where it rested is not known, and it stays.
 */
const NEAR_PX = 24;
/** Moves recorded this close together are one motion, whose speed bounds the moves dropped after it. */
const SAME_MOTION_MS = 4 * POINTER_SAMPLING_MS;

/** Presses whose coordinates are the pointer's (a touch has no pointer between touches). */
const PRESSES = new Set<number>([MouseInteraction.MouseDown, MouseInteraction.MouseUp, MouseInteraction.Click, MouseInteraction.ContextMenu, MouseInteraction.DblClick]);

/** PostHog's recorder marks a press made by touch (rrweb's PointerTypes.Touch). */
const TOUCH_POINTER = 2;

/** A pointer position an event gives, and whether it was a move (else a press). */
interface PointerAt {
  x: number;
  y: number;
  id: number;
  move: boolean;
}

/** The pointer position an event gives, if it gives one (and a mouse's: not a touch's). */
function pointerOf(e: RrwebEvent): PointerAt | 'touch' | undefined {
  if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data)) return undefined;
  const d = e.data;
  if (d.source === IncrementalSource.TouchMove) return 'touch';
  if (d.source === IncrementalSource.MouseMove || d.source === IncrementalSource.Drag) {
    const p = Array.isArray(d.positions) ? d.positions[d.positions.length - 1] : undefined;
    if (!isRecord(p) || typeof p.x !== 'number' || typeof p.y !== 'number' || typeof p.id !== 'number') return undefined;
    return { x: p.x, y: p.y, id: p.id, move: true };
  }
  if (d.source !== IncrementalSource.MouseInteraction || typeof d.type !== 'number') return undefined;
  if (d.type === MouseInteraction.TouchStart || d.type === MouseInteraction.TouchEnd || d.pointerType === TOUCH_POINTER) return 'touch';
  if (!PRESSES.has(d.type) || typeof d.x !== 'number' || typeof d.y !== 'number' || typeof d.id !== 'number') return undefined;
  return { x: d.x, y: d.y, id: d.id, move: false };
}

/**
 * The events (in time order, one pointer position per move event: clip.ts splits rrweb's batches)
 * with a move put in wherever the pointer's next event after a pause shows it came to rest elsewhere
 * than the last move recorded (above); the same array when there is none.
 */
export function withPointerRests(events: RrwebEvent[]): RrwebEvent[] {
  /**
   * The last move recorded, while it is the pointer's last event (only moves after a recorded move
   * can have been dropped: a press says where the pointer is, and every move after it that the
   * throttle let through is recorded), with its speed coming in.
   */
  let lastMove: { ts: number; x: number; y: number; pxPerMs: number } | undefined;
  const added: RrwebEvent[] = [];
  for (const e of events) {
    const p = pointerOf(e);
    if (p === undefined) continue;
    if (p === 'touch') {
      lastMove = undefined;
      continue;
    }
    if (lastMove && (lastMove.x !== p.x || lastMove.y !== p.y)) {
      const ts = lastMove.ts + POINTER_SAMPLING_MS;
      const far = Math.hypot(p.x - lastMove.x, p.y - lastMove.y);
      if (e.timestamp - ts > REST_MS && (!p.move || far <= NEAR_PX + lastMove.pxPerMs * POINTER_SAMPLING_MS)) {
        const move: RrwebEvent = { type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: IncrementalSource.MouseMove, positions: [{ x: p.x, y: p.y, id: p.id, timeOffset: 0 }] } };
        if (e.windowId !== undefined) move.windowId = e.windowId;
        added.push(move);
      }
    }
    if (!p.move) lastMove = undefined;
    else {
      const gap = lastMove ? e.timestamp - lastMove.ts : Infinity;
      const pxPerMs = lastMove && gap > 0 && gap <= SAME_MOTION_MS ? Math.hypot(p.x - lastMove.x, p.y - lastMove.y) / gap : 0;
      lastMove = { ts: e.timestamp, x: p.x, y: p.y, pxPerMs };
    }
  }
  if (!added.length) return events;
  // Stable: an added move goes after the events of its time that were there.
  return [...events, ...added].sort((a, b) => a.timestamp - b.timestamp);
}
