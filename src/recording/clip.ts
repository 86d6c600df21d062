import { InputError, RasterizerError } from '../errors.js';
import { parseRenderRequest } from '../request/render.js';
import { withMovedNodesOrdered } from './moved-nodes.js';
import { withPointerRests } from './pointer-rest.js';
import { withQuirksModeKept } from './quirks-mode.js';
import { withoutSyntheticClicks } from './synthetic-clicks.js';
import { withUnnamedFocusNamed } from './unnamed-focus.js';
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
  /** The window (tab) on screen at the start, when the recording has several. */
  windowId: string | undefined;
  /** Viewport in force at the start of the clip: the GIF's shape (a window of another shape is letterboxed). */
  viewport: MetaData;
  /** The windows shown in the clip, each with the events the player needs to show it. */
  windows: ClipWindow[];
  /** Which window is on screen when. */
  schedule: WindowSpan[];
  /** GIF duration in centiseconds: (end - start) / speed, rounded; at least 2 cs. */
  durationCs: number;
  frames: FrameSlot[];
  /** Clicks on screen (of the window shown at the time). */
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

/** The shortest frame delay browsers show as written. */
const MIN_DELAY_CS = 2;

/** How long a click stays drawn, in ms of session time. */
export const CLICK_RIPPLE_MS = 500;
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

function isInteraction(e: RrwebEvent): boolean {
  if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data)) return false;
  const source = e.data.source;
  return typeof source === 'number' && INTERACTION_SOURCES.has(source);
}

/** A window (tab) of the recording as the player gets it. */
export interface ClipWindow {
  /** Stable key for the player: the window id, or '' for recordings without ids. */
  key: string;
  windowId: string | undefined;
  /** Its events from the Meta + full snapshot before it is first shown, to the window's end. */
  events: RrwebEvent[];
  /** Clicks it shows while it is the one on screen. */
  clicks: { ts: number; x: number; y: number }[];
}

/** From `fromTs` on (until the next span), the window with key `key` is on screen. */
export interface WindowSpan {
  key: string;
  fromTs: number;
}

const keyOf = (windowId: string | undefined): string => windowId ?? '';

/**
 * Which window the user was looking at, over time: the one with the latest user activity (a move,
 * click, scroll, input...), or the latest page load (a new window's full snapshot counts). A window
 * is shown only once it has a full snapshot; changes in a background tab (mutations, timers) never
 * take the screen. The first span starts at the window's start; when no page is loaded yet then, the
 * first one loaded in the window is taken as on screen from the start.
 */
function windowSchedule(all: RrwebEvent[], startTs: number, endTs: number): WindowSpan[] {
  const loaded = new Set<string>();
  let current: string | undefined;
  const spans: WindowSpan[] = [];
  for (const e of all) {
    if (e.timestamp > endTs) break;
    const key = keyOf(e.windowId);
    let activates = false;
    if (e.type === EventType.FullSnapshot) {
      loaded.add(key);
      activates = true;
    } else if (loaded.has(key) && isInteraction(e)) activates = true;
    if (!activates || key === current) continue;
    if (e.timestamp <= startTs) {
      current = key;
      continue;
    }
    if (current === undefined) {
      // Nothing loaded at the start (rrweb takes its first snapshot at the page's load event, seconds
      // after the session's first event on a slow page): the first page loaded stands for the start.
      current = key;
      continue;
    }
    if (spans.length === 0) spans.push({ key: current, fromTs: startTs });
    spans.push({ key, fromTs: e.timestamp });
    current = key;
  }
  if (current === undefined) {
    const first = all.find((e) => e.type === EventType.FullSnapshot);
    if (!first) throw new InputError('the recording has no full snapshot (no page was recorded), so there is nothing to show');
    const at = (ts: number) => ((ts - all[0]!.timestamp) / 1000).toFixed(2);
    throw new InputError(`the window ends at ${at(endTs)} s, before the page is loaded (its full snapshot is at ${at(first.timestamp)} s)`);
  }
  if (spans.length === 0) spans.push({ key: current, fromTs: startTs });
  return spans;
}

/** The key of the window on screen at `ts`. */
export function windowAt(schedule: WindowSpan[], ts: number): string {
  let key = schedule[0]!.key;
  for (const s of schedule) {
    if (s.fromTs <= ts) key = s.key;
    else break;
  }
  return key;
}

/**
 * rrweb batches pointer positions into one event stamped when the batch was flushed, with each
 * position's own time as a negative offset. One event per position, at that time, puts the cursor
 * (and what it hovers) where it was at every frame instead of jumping to the batch's last position
 * when the batch was flushed. A batch of one position too: a lone move (the pointer leaving a
 * button) otherwise landed up to the batch's wait late (seen: the button still hovered 300 ms after
 * the pointer had left it).
 */
function splitPositions(e: RrwebEvent): RrwebEvent[] {
  if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data)) return [e];
  const { source, positions } = e.data;
  if (
    (source !== IncrementalSource.MouseMove && source !== IncrementalSource.TouchMove && source !== IncrementalSource.Drag) ||
    !Array.isArray(positions)
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

  const schedule = windowSchedule(all, startTs, endTs);
  const windows = new Map<string, ClipWindow & { viewport: MetaData; loadTs: number }>();
  for (const span of schedule) {
    if (windows.has(span.key)) continue;
    const own = all.filter((e) => keyOf(e.windowId) === span.key);
    windows.set(span.key, windowEvents(own, span.key, Math.max(span.fromTs, startTs), endTs));
  }
  const first = windows.get(schedule[0]!.key)!;

  // What is on screen over time: each window's events while it is the one shown (a window taking the
  // screen shows its own state, built from its own events, at its own viewport).
  const shown: RrwebEvent[] = [];
  const clicks: Clip['clicks'] = [];
  schedule.forEach((span, i) => {
    const until = schedule[i + 1]?.fromTs ?? Number.POSITIVE_INFINITY;
    const w = windows.get(span.key)!;
    for (const e of w.events) if (e.timestamp >= span.fromTs && e.timestamp < until) shown.push(e);
    for (const c of w.clicks) if (c.ts >= span.fromTs && c.ts < until) clicks.push(c);
  });
  for (const w of windows.values()) w.clicks = w.clicks.filter((c) => clicks.includes(c));
  const switches = schedule.slice(1).map((s) => s.fromTs);

  // A window shorter than the shortest delay browsers honour (2 cs; less is shown as 10 cs) still
  // makes one frame, of 2 cs, showing the window's end: a recording of one instant has a picture.
  const durationCs = Math.max(MIN_DELAY_CS, Math.round((windowS / req.playbackSpeed) * 100));
  const firstSeekTs = Math.max(startTs, first.loadTs) + SEEK_EPSILON_MS;
  const frames = planFrames(shown, clicks, switches, { startTs, endTs, firstSeekTs, recordingStartTs, durationCs, fps: req.fps, speed: req.playbackSpeed, footer: req.footer });
  return {
    recordingStartTs,
    recordingEndTs,
    startTs,
    endTs,
    windowId: first.windowId,
    viewport: first.viewport,
    windows: [...windows.values()].map(({ key, windowId, events, clicks }) => ({ key, windowId, events, clicks })),
    schedule,
    durationCs,
    frames,
    clicks,
  };
}

/**
 * One window's events for the player: from the last page load (Meta + full snapshot) at or before
 * `fromTs` (the moment it is first shown) to the clip's end.
 */
function windowEvents(own: RrwebEvent[], key: string, fromTs: number, endTs: number): ClipWindow & { viewport: MetaData; loadTs: number } {
  // Replay from the last page load at or before the start: seeking never replays older pages.
  // (or, when it has none yet, from its first page load: see windowSchedule).
  let snap = -1;
  for (let i = own.length - 1; i >= 0; i--) {
    const e = own[i]!;
    if (e.type === EventType.FullSnapshot && e.timestamp <= endTs) {
      snap = i;
      if (e.timestamp <= fromTs) break;
    }
  }
  if (snap < 0) throw new InputError(`window ${JSON.stringify(key)} has no page load before the end of the clip`);
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

  let events: RrwebEvent[] = [];
  for (let i = from; i < own.length && own[i]!.timestamp <= endTs; i++) {
    for (const e of splitPositions(own[i]!)) events.push(e);
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  events = withMovedNodesOrdered(withQuirksModeKept(withPointerRests(withUnnamedFocusNamed(withoutSyntheticClicks(events)))));
  // rrweb's player forgets what it has played once it casts the last event; a trailing no-op keeps
  // later seeks incremental.
  events.push({ type: EventType.Custom, timestamp: endTs + 1000, data: { tag: 'replay-rasterizer-end', payload: null } });

  const clicks: ClipWindow['clicks'] = [];
  for (const e of events) {
    if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data)) continue;
    const d = e.data;
    if (d.source === IncrementalSource.MouseInteraction && (d.type === MouseInteraction.Click || d.type === MouseInteraction.DblClick)) {
      if (typeof d.x === 'number' && typeof d.y === 'number') clicks.push({ ts: e.timestamp, x: d.x, y: d.y });
    }
  }
  return { key, windowId: own[0]?.windowId, events, clicks, viewport, loadTs: own[snap]!.timestamp };
}

function planFrames(
  events: RrwebEvent[],
  clicks: Clip['clicks'],
  switches: number[],
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
    if (k === last) seekTs = Math.max(seekTs, p.endTs + SEEK_EPSILON_MS);
    let dirty = k === 0;
    const cuts: number[] = [];
    for (; ei < events.length && events[ei]!.timestamp < seekTs; ei++) {
      const e = events[ei]!;
      if (k > 0 && isVisualEvent(e)) dirty = true;
      if (k > 0 && e.type === EventType.Meta && events[ei + 1]?.type === EventType.FullSnapshot) cuts.push(e.timestamp);
    }
    const prevSeekTs = slots[slots.length - 1]?.seekTs ?? -Infinity;
    if (switches.some((ts) => ts >= prevSeekTs && ts < seekTs)) dirty = true;
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

