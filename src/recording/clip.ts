import { InputError, RasterizerError } from '../errors.js';
import { parseRenderRequest } from '../request/render.js';
import { EventType, IncrementalSource, MouseInteraction, isRecord, metaData, type MetaData, type RrwebEvent } from './types.js';

/** What the render asks of a recording: a window of session time, sampled at fps. */
export interface ClipRequest {
  startS: number;
  endS?: number;
  fps: number;
  playbackSpeed: number;
  maxDurationS: number;
  /** With a footer, the clock in it changes once a second. */
  footer?: boolean;
}

export interface Clip {
  /** Timestamp of the recording's first event (offsets count from it). */
  recordingStartTs: number;
  recordingEndTs: number;
  startTs: number;
  endTs: number;
  /** The window (tab) rendered, when the recording has several. */
  windowId: string | undefined;
  /** Viewport in force at the start of the clip. */
  viewport: MetaData;
  /** Events handed to the player: from the last Meta + full snapshot at or before the start, to the end. */
  events: RrwebEvent[];
  /** GIF duration in centiseconds, exactly (end - start) / speed. */
  durationCs: number;
  frames: FrameSlot[];
  clicks: { ts: number; x: number; y: number }[];
}

export interface FrameSlot {
  /** Replay time this frame shows (ms timestamp); the player applies events with timestamp < seekTs. */
  seekTs: number;
  /** How long the frame is shown, in centiseconds. */
  delayCs: number;
  /** Something visible may have changed since the previous slot. */
  dirty: boolean;
  /** Page loads (Meta before a full snapshot) inside this step, seeked to one by one. */
  cuts: number[];
}

/** How long a click stays drawn, in ms of session time. */
export const CLICK_RIPPLE_MS = 500;
/**
 * A recording's first full snapshot comes a few ms after its first Meta event, so a window that
 * starts at 0 has none "before" it. One this close after the start is taken as the page at the start.
 */
const SNAPSHOT_GRACE_MS = 2000;
/** Frames seek just past their instant, so an event stamped exactly at a frame's time is in it. */
const SEEK_EPSILON_MS = 0.01;

/** Incremental sources that change nothing on screen. */
const INVISIBLE_SOURCES = new Set<number>([IncrementalSource.Log]);

export function isVisualEvent(e: RrwebEvent): boolean {
  if (e.type === EventType.FullSnapshot || e.type === EventType.Meta) return true;
  if (e.type !== EventType.IncrementalSnapshot) return false;
  const source = isRecord(e.data) ? e.data.source : undefined;
  return typeof source === 'number' && !INVISIBLE_SOURCES.has(source);
}

export function recordingDurationS(events: RrwebEvent[]): number {
  if (events.length === 0) return 0;
  return (events[events.length - 1]!.timestamp - events[0]!.timestamp) / 1000;
}

/** What a person does (move, click, scroll, type): the tab they do it in is the one they look at. */
const INTERACTION_SOURCES = new Set<number>([
  IncrementalSource.MouseMove,
  IncrementalSource.MouseInteraction,
  IncrementalSource.Scroll,
  IncrementalSource.Input,
  IncrementalSource.TouchMove,
  IncrementalSource.Drag,
  IncrementalSource.Selection,
]);
/** One interaction outweighs this many mutations: a background tab that refreshes itself is not watched. */
const INTERACTION_WEIGHT = 20;

/**
 * Picks the window to render: among windows that have a full snapshot at or before the start, the
 * one the user was looking at in the clip, judged by their interactions first and visible changes
 * second; ties go to the window loaded last.
 */
function chooseWindow(events: RrwebEvent[], startTs: number, endTs: number): string | undefined {
  const stats = new Map<string | undefined, { snapshotBefore: boolean; activity: number; lastSnapshot: number }>();
  for (const e of events) {
    let s = stats.get(e.windowId);
    if (!s) stats.set(e.windowId, (s = { snapshotBefore: false, activity: 0, lastSnapshot: -1 }));
    if (e.type === EventType.FullSnapshot && e.timestamp <= startTs + SNAPSHOT_GRACE_MS) {
      s.snapshotBefore = true;
      s.lastSnapshot = e.timestamp;
    }
    if (e.timestamp > startTs && e.timestamp <= endTs && isVisualEvent(e)) {
      const source = e.type === EventType.IncrementalSnapshot && isRecord(e.data) ? e.data.source : undefined;
      s.activity += typeof source === 'number' && INTERACTION_SOURCES.has(source) ? INTERACTION_WEIGHT : 1;
    }
  }
  let best: string | undefined;
  let bestScore: [number, number] | undefined;
  for (const [id, s] of stats) {
    if (!s.snapshotBefore) continue;
    const score: [number, number] = [s.activity, s.lastSnapshot];
    if (!bestScore || score[0] > bestScore[0] || (score[0] === bestScore[0] && score[1] > bestScore[1])) {
      best = id;
      bestScore = score;
    }
  }
  if (!bestScore) {
    const first = events.find((e) => e.type === EventType.FullSnapshot);
    const firstAt = first ? ` (the first is at ${((first.timestamp - events[0]!.timestamp) / 1000).toFixed(2)} s)` : ' (it has none)';
    throw new InputError(`the recording has no full snapshot at or before the start of the window${firstAt}`);
  }
  return best;
}

/**
 * rrweb batches pointer positions into one event stamped when the batch was flushed, with each
 * position's own time as a negative offset. One event per position puts the cursor where it was at
 * every frame instead of jumping to the batch's last position.
 */
function splitPositions(e: RrwebEvent): RrwebEvent[] {
  if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data)) return [e];
  const { source, positions } = e.data;
  if (
    (source !== IncrementalSource.MouseMove && source !== IncrementalSource.TouchMove && source !== IncrementalSource.Drag) ||
    !Array.isArray(positions) ||
    positions.length <= 1
  ) {
    return [e];
  }
  const out: RrwebEvent[] = [];
  for (const p of positions) {
    if (!isRecord(p) || typeof p.x !== 'number' || typeof p.y !== 'number') continue;
    const offset = typeof p.timeOffset === 'number' && Number.isFinite(p.timeOffset) ? p.timeOffset : 0;
    out.push({ ...e, timestamp: e.timestamp + Math.min(0, offset), data: { ...e.data, positions: [{ ...p, timeOffset: 0 }] } });
  }
  return out.length ? out : [e];
}

export function planClip(all: RrwebEvent[], request: ClipRequest): Clip {
  const req = parseRenderRequest(request);
  if (all.length === 0) throw new InputError('recording holds no rrweb events');
  const recordingStartTs = all[0]!.timestamp;
  const recordingEndTs = all[all.length - 1]!.timestamp;
  const lengthS = (recordingEndTs - recordingStartTs) / 1000;
  if (req.startS >= lengthS) {
    throw new RasterizerError('invalid_recording', undefined, { fields: { startS: `(${req.startS} s) is at or past the end of the recording (${lengthS.toFixed(2)} s long)` } });
  }
  const endS = Math.min(req.endS ?? lengthS, lengthS);
  const windowS = endS - req.startS;
  if (windowS > req.maxDurationS) {
    throw new InputError(`the window is ${windowS.toFixed(1)} s long, over the maximum of ${req.maxDurationS} s`);
  }
  const startTs = recordingStartTs + req.startS * 1000;
  const endTs = recordingStartTs + endS * 1000;

  const windowId = chooseWindow(all, startTs, endTs);
  const own = all.filter((e) => e.windowId === windowId);

  // Replay from the last page load at or before the start: seeking never replays older pages.
  let snap = -1;
  for (let i = own.length - 1; i >= 0; i--) {
    const e = own[i]!;
    if (e.type === EventType.FullSnapshot && e.timestamp <= startTs + SNAPSHOT_GRACE_MS) {
      snap = i;
      if (e.timestamp <= startTs) break;
    }
  }
  let from = snap;
  for (let i = snap - 1; i >= 0; i--) {
    if (own[i]!.type === EventType.Meta) {
      from = i;
      break;
    }
    if (own[i]!.type === EventType.FullSnapshot) break;
  }
  if (own[from]!.type !== EventType.Meta) throw new InputError('the full snapshot before the window has no Meta event (viewport size) before it');
  const viewport = metaData(own[from]!);
  if (!viewport) throw new InputError('the Meta event before the window has no valid width and height');
  if (own[snap]!.timestamp > endTs) {
    // The grace above lets a window start a moment before the first page load, not end before it.
    const at = ((own[snap]!.timestamp - recordingStartTs) / 1000).toFixed(2);
    throw new InputError(`the window ends at ${endS.toFixed(2)} s, before the page is loaded (its full snapshot is at ${at} s)`);
  }

  const events: RrwebEvent[] = [];
  for (let i = from; i < own.length && own[i]!.timestamp <= endTs; i++) {
    for (const e of splitPositions(own[i]!)) events.push(e);
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  // rrweb's player forgets what it has played once it casts the last event; a trailing no-op keeps
  // later seeks incremental.
  events.push({ type: EventType.Custom, timestamp: endTs + 1000, data: { tag: 'replay-rasterizer-end', payload: null } });

  const clicks: Clip['clicks'] = [];
  for (const e of events) {
    if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data)) continue;
    const d = e.data;
    if (d.source === IncrementalSource.MouseInteraction && (d.type === MouseInteraction.Click || d.type === MouseInteraction.DblClick)) {
      if (typeof d.x === 'number' && typeof d.y === 'number') clicks.push({ ts: e.timestamp, x: d.x, y: d.y });
    }
  }

  const durationCs = Math.round((windowS / req.playbackSpeed) * 100);
  const firstSeekTs = Math.max(startTs, own[snap]!.timestamp) + SEEK_EPSILON_MS;
  const frames = planFrames(events, clicks, { startTs, endTs, firstSeekTs, recordingStartTs, durationCs, fps: req.fps, speed: req.playbackSpeed, footer: req.footer });
  return { recordingStartTs, recordingEndTs, startTs, endTs, windowId, viewport, events, durationCs, frames, clicks };
}

function planFrames(
  events: RrwebEvent[],
  clicks: Clip['clicks'],
  p: { startTs: number; endTs: number; firstSeekTs: number; recordingStartTs: number; durationCs: number; fps: number; speed: number; footer: boolean },
): FrameSlot[] {
  // Frame boundaries in centiseconds of GIF time, rounded from exact times so delays never drift.
  const bounds: number[] = [];
  for (let k = 0; ; k++) {
    const cs = Math.round((k * 100) / p.fps);
    if (cs >= p.durationCs) break;
    bounds.push(cs);
  }
  bounds.push(p.durationCs);
  // A last sliver under 2 cs would be shown as 10 cs by browsers: fold it into the frame before.
  if (bounds.length > 2 && bounds[bounds.length - 1]! - bounds[bounds.length - 2]! < 2) bounds.splice(bounds.length - 2, 1);

  const slots: FrameSlot[] = [];
  let ei = 0;
  let prevSecond = -1;
  let prevRipple = false;
  const last = bounds.length - 2;
  for (let k = 0; k <= last; k++) {
    let seekTs = Math.max(p.firstSeekTs, p.startTs + ((k * 1000) / p.fps) * p.speed + SEEK_EPSILON_MS);
    // The last frame stands for the window's end too: what happened up to the end (a recording's
    // final click, say) is on screen when the GIF stops instead of never being shown.
    if (k === last && k > 0) seekTs = Math.max(seekTs, p.endTs + SEEK_EPSILON_MS);
    let dirty = k === 0;
    const cuts: number[] = [];
    for (; ei < events.length && events[ei]!.timestamp < seekTs; ei++) {
      const e = events[ei]!;
      if (k > 0 && isVisualEvent(e)) dirty = true;
      if (k > 0 && e.type === EventType.Meta && events[ei + 1]?.type === EventType.FullSnapshot) cuts.push(e.timestamp);
    }
    const ripple = clicks.some((c) => c.ts < seekTs && seekTs - c.ts < CLICK_RIPPLE_MS);
    if (ripple || prevRipple) dirty = true;
    prevRipple = ripple;
    const second = Math.floor((seekTs - p.recordingStartTs) / 1000);
    if (p.footer && second !== prevSecond) dirty = true;
    prevSecond = second;
    slots.push({ seekTs, delayCs: bounds[k + 1]! - bounds[k]!, dirty, cuts });
  }
  return slots;
}

