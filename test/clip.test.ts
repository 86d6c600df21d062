import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planClip, type ClipRequest } from '../src/recording/clip.js';
import { POINTER_SAMPLING_MS, withPointerRests } from '../src/recording/pointer-rest.js';
import { withoutSyntheticClicks } from '../src/recording/synthetic-clicks.js';
import { withUnnamedFocusNamed } from '../src/recording/unnamed-focus.js';
import { parseRecording } from '../src/recording/parse.js';
import { EventType, type RrwebEvent } from '../src/recording/types.js';

// The bundled real recording: three page loads (at about 0 s, 20 s and 31 s), scrolling, typing, idle.
const events = parseRecording(readFileSync(new URL('../examples/journey.json.gz', import.meta.url))).events;
const t0 = events[0]!.timestamp;
const lengthS = (events[events.length - 1]!.timestamp - t0) / 1000;
const loads = events.filter((e) => e.type === EventType.FullSnapshot).map((e) => (e.timestamp - t0) / 1000);
const req = (r: Partial<ClipRequest>): ClipRequest => ({ startS: 0, fps: 10, playbackSpeed: 1, maxDurationS: 600, ...r });
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('timing', () => {
  it.each([
    [15, 45, 10, 1, 3000],
    [10, 17.333, 3, 1, 733],
    [5, 25, 7, 2, 1000],
    [0, 1.234, 30, 1, 123],
    [2, 62, 10, 0.5, 12000],
  ])('window %s-%s s at %s fps, speed %s: delays add up to exactly %s cs', (startS, endS, fps, speed, cs) => {
    const clip = planClip(events, req({ startS, endS, fps, playbackSpeed: speed }));
    expect(clip.durationCs).toBe(cs);
    expect(sum(clip.frames.map((f) => f.delayCs))).toBe(cs);
    // Browsers show delays under 2 cs as 10 cs: none is written.
    for (const f of clip.frames) expect(f.delayCs).toBeGreaterThanOrEqual(2);
  });

  it('a window shorter than one GIF tick makes one 2 cs frame showing its end', () => {
    for (const endS of [20.004, 20.0001, 20.015]) {
      const clip = planClip(events, req({ startS: 20, endS }));
      expect(clip.durationCs).toBe(2);
      expect(clip.frames).toHaveLength(1);
      expect(clip.frames[0]!.delayCs).toBe(2);
      expect(clip.frames[0]!.seekTs).toBeGreaterThan(t0 + endS * 1000);
    }
  });

  it('frame k shows replay time start + k x speed / fps, the last one the window\'s end', () => {
    const clip = planClip(events, req({ startS: 15, endS: 45, fps: 10, playbackSpeed: 1 }));
    const startTs = t0 + 15_000;
    expect(clip.frames).toHaveLength(300);
    clip.frames.slice(1, -1).forEach((f, i) => expect(f.seekTs - startTs).toBeCloseTo((i + 1) * 100, 1));
    expect(clip.frames.at(-1)!.seekTs).toBeGreaterThan(t0 + 45_000);
    const fast = planClip(events, req({ startS: 15, endS: 45, fps: 10, playbackSpeed: 3 }));
    expect(fast.frames).toHaveLength(100);
    expect(fast.frames[10]!.seekTs - startTs).toBeCloseTo(3000, 1);
  });

  it('marks only slots where something visible can have changed', () => {
    const clip = planClip(events, req({ startS: 40, endS: 60 }));
    const dirty = clip.frames.filter((f) => f.dirty).length;
    // Most of a realistic stretch is still: far fewer captures than slots.
    expect(dirty).toBeGreaterThan(3);
    expect(dirty).toBeLessThan(clip.frames.length / 2);
    // A slot is dirty when a visible event falls in it.
    for (let k = 1; k < clip.frames.length; k++) {
      const from = clip.frames[k - 1]!.seekTs;
      const to = clip.frames[k]!.seekTs;
      const visible = clip.windows[0]!.events.some((e) => e.timestamp >= from && e.timestamp < to && e.type === EventType.IncrementalSnapshot && (e.data as { source: number }).source !== 11);
      if (visible) expect(clip.frames[k]!.dirty, `slot ${k}`).toBe(true);
    }
  });

  it('with a footer, a slot is dirty when the clock in it ticks', () => {
    const still = planClip(events, req({ startS: 56, endS: 62 }));
    const footer = planClip(events, req({ startS: 56, endS: 62, footer: true }));
    expect(footer.frames.filter((f) => f.dirty).length).toBeGreaterThanOrEqual(still.frames.filter((f) => f.dirty).length + 5);
  });
});

describe('trimming', () => {
  it('replays from the last page load at or before the start, not from zero', () => {
    const clip = planClip(events, req({ startS: 35, endS: 50 }));
    expect(loads.length).toBe(3);
    const lastLoadTs = t0 + loads[2]! * 1000;
    // The events handed to the player begin with the Meta + full snapshot of the third page.
    expect(clip.windows[0]!.events[0]!.type).toBe(EventType.Meta);
    expect(clip.windows[0]!.events[1]!.type).toBe(EventType.FullSnapshot);
    expect(clip.windows[0]!.events[1]!.timestamp).toBe(lastLoadTs);
    expect(clip.windows[0]!.events.every((e) => e.timestamp >= clip.windows[0]!.events[0]!.timestamp)).toBe(true);
    // Nothing after the window is replayed (bar the marker that keeps rrweb's seeks incremental).
    expect(clip.windows[0]!.events.filter((e) => e.timestamp > clip.endTs && e.type !== EventType.Custom)).toEqual([]);
  });

  it('marks a page load inside the clip as a cut, so each page is reached by its own seek', () => {
    const clip = planClip(events, req({ startS: 15, endS: 45 }));
    const cuts = clip.frames.flatMap((f) => f.cuts);
    expect(cuts.map((c) => Math.round((c - t0) / 1000))).toEqual([Math.round(loads[1]!), Math.round(loads[2]!)]);
  });

  it('defaults the end to the recording\'s end and clamps an end past it', () => {
    expect(planClip(events, req({ startS: lengthS - 5 })).durationCs).toBe(Math.round(5 * 100));
    expect(planClip(events, req({ startS: lengthS - 5, endS: lengthS + 100 })).durationCs).toBe(500);
  });

  it('splits batched pointer positions so the cursor is where it was at each frame', () => {
    const batched = events.filter((e) => e.type === EventType.IncrementalSnapshot && (e.data as { source: number; positions?: unknown[] }).source === 1 && ((e.data as { positions: unknown[] }).positions.length ?? 0) > 1);
    expect(batched.length).toBeGreaterThan(0);
    const clip = planClip(events, req({ startS: 0 }));
    for (const e of clip.windows[0]!.events) {
      const d = e.data as { source?: number; positions?: unknown[] };
      if (e.type === EventType.IncrementalSnapshot && d.source === 1) expect(d.positions).toHaveLength(1);
    }
  });

  it('puts every pointer position at its own time, a batch of one included', () => {
    // rrweb flushes a batch holding one position when the pointer moved once in its wait (a pointer
    // leaving a button): the example's batches, each made batches of one with their stamps kept.
    const isMove = (e: RrwebEvent) => e.type === EventType.IncrementalSnapshot && (e.data as { source: number }).source === 1;
    type Move = { positions: { x: number; y: number; timeOffset: number }[] };
    const lone = events.flatMap((e) => (isMove(e) ? (e.data as Move).positions.map((p) => ({ ...e, data: { ...(e.data as object), positions: [p] } })) : [e]));
    const want = lone.filter(isMove).map((e) => e.timestamp + (e.data as Move).positions[0]!.timeOffset);
    expect(want.length).toBeGreaterThan(20);
    expect(lone.filter(isMove).some((e) => (e.data as Move).positions[0]!.timeOffset < -100)).toBe(true);
    const clip = planClip(lone, req({ startS: 0 }));
    const moved = clip.windows.flatMap((w) => w.events.filter(isMove));
    for (const e of moved) expect((e.data as Move).positions[0]!.timeOffset).toBe(0);
    // Besides the moves where the pointer came to rest (pointer-rest.ts, below), each a sampling interval after a recorded one.
    const times = moved.map((e) => e.timestamp).sort((a, b) => a - b);
    const recorded = new Set(want);
    expect(times.filter((ts) => recorded.has(ts))).toEqual(want.filter((ts) => ts <= lone[lone.length - 1]!.timestamp).sort((a, b) => a - b));
    for (const ts of times.filter((t) => !recorded.has(t))) expect(recorded.has(ts - POINTER_SAMPLING_MS), `${ts} follows a recorded move`).toBe(true);
  });

  it('collects clicks for the ripple overlay', () => {
    const clip = planClip(events, req({ startS: 15, endS: 45 }));
    expect(clip.clicks.length).toBeGreaterThanOrEqual(2);
    for (const c of clip.clicks) expect(c.ts).toBeGreaterThanOrEqual(clip.windows[0]!.events[0]!.timestamp);
  });
});

describe('multi-window recordings', () => {
  // The real recording's first page load becomes a second tab that stays open in the background and
  // keeps changing, while the user works in the window of the third page load.
  const secondLoad = t0 + loads[1]! * 1000;
  const thirdLoad = t0 + loads[2]! * 1000;
  const background: RrwebEvent[] = events
    .filter((e) => e.timestamp < secondLoad)
    .flatMap((e) => {
      const out: RrwebEvent[] = [{ ...e, windowId: 'background' }];
      // Its mutations repeat through the clip (a page that refreshes itself).
      if (e.type === EventType.IncrementalSnapshot && (e.data as { source: number }).source === 0) {
        for (let k = 1; k <= 80; k++) out.push({ ...e, timestamp: e.timestamp + k * 1000, windowId: 'background' });
      }
      return out;
    });
  const active: RrwebEvent[] = events.filter((e) => e.timestamp >= thirdLoad - 100).map((e) => ({ ...e, windowId: 'checkout' }));
  const both = [...background, ...active].sort((a, b) => a.timestamp - b.timestamp);

  it('renders the window the user interacts with', () => {
    const inClip = (id: string) => both.filter((e) => e.windowId === id && e.timestamp > t0 + (loads[2]! + 2) * 1000 && e.timestamp <= t0 + (loads[2]! + 20) * 1000).length;
    // The background tab changes more often than the user acts: counting changes alone would pick it.
    expect(inClip('background')).toBeGreaterThan(inClip('checkout'));
    const clip = planClip(both, req({ startS: loads[2]! + 2, endS: loads[2]! + 20 }));
    expect(clip.windowId).toBe('checkout');
    expect(clip.schedule.map((s) => s.key)).toEqual(['checkout']);
    expect(clip.windows).toHaveLength(1);
    expect(clip.windows[0]!.events.every((e) => e.windowId === 'checkout' || e.type === EventType.Custom)).toBe(true);
  });

  it('falls back to the only window with a page loaded before the start', () => {
    const clip = planClip(both, req({ startS: 3, endS: 10 }));
    expect(clip.windowId).toBe('background');
  });

  it('switches to a window when the user loads it or acts in it, and back', () => {
    // The user works in 'background' until the checkout tab loads, then moves back to 'background'.
    const backAt = thirdLoad + 6000;
    const moves: RrwebEvent[] = [1, 2, 3].map((k) => ({ type: EventType.IncrementalSnapshot, timestamp: backAt + k * 100, windowId: 'background', data: { source: 1, positions: [{ x: 10 * k, y: 10, id: 1, timeOffset: 0 }] } }));
    // The user is in one tab at a time: the checkout tab is quiet once they are back.
    const mixed = [...both.filter((e) => e.windowId !== 'checkout' || e.timestamp < backAt), ...moves].sort((a, b) => a.timestamp - b.timestamp);
    const clip = planClip(mixed, req({ startS: loads[2]! - 5, endS: loads[2]! + 12 }));
    expect(clip.schedule.map((s) => s.key)).toEqual(['background', 'checkout', 'background']);
    expect(clip.schedule[1]!.fromTs).toBe(clip.windows.find((w) => w.key === 'checkout')!.events.find((e) => e.type === EventType.FullSnapshot)!.timestamp);
    expect(clip.schedule[2]!.fromTs).toBe(backAt + 100);
    // Each window gets its own events, from its own page load; the switches are captured.
    for (const w of clip.windows) expect(w.events.every((e) => e.windowId === w.key || e.type === EventType.Custom)).toBe(true);
    for (const s of clip.schedule.slice(1)) {
      const slot = clip.frames.find((f) => f.seekTs > s.fromTs)!;
      expect(slot.dirty).toBe(true);
    }
  });
});

describe('bad requests', () => {
  const cases: [string, Partial<ClipRequest>, RegExp][] = [
    ['a negative start', { startS: -1 }, /startS must not be negative/],
    ['a NaN start', { startS: Number.NaN }, /startS must be a number/],
    ['an infinite end', { endS: Number.POSITIVE_INFINITY }, /endS must be a number/],
    ['an end before the start', { startS: 10, endS: 5 }, /endS \(5 s\) must be after startS \(10 s\)/],
    ['an end equal to the start', { startS: 10, endS: 10 }, /must be after/],
    ['a start past the end', { startS: lengthS + 1 }, /past the end of the recording/],
    ['a window over the maximum', { startS: 0, endS: 60, maxDurationS: 30 }, /over the maximum of 30 s/],
    ['fps of zero', { fps: 0 }, /fps must be at least 1/],
    ['a speed of zero', { playbackSpeed: 0 }, /playbackSpeed must be above 0/],
  ];
  it.each(cases)('%s', (_name, r, message) => {
    expect(() => planClip(events, req(r))).toThrow(expect.objectContaining({ retryable: false }));
    expect(() => planClip(events, req(r))).toThrow(message);
  });

  it('a recording with no full snapshot before the window', () => {
    const noSnapshot = events.filter((e) => e.type !== EventType.FullSnapshot || e.timestamp > t0 + 25_000);
    expect(() => planClip(noSnapshot, req({ startS: 5, endS: 10 }))).toThrow(/the window ends at 10\.00 s, before the page is loaded \(its full snapshot is at 3\d\.\d\d s\)/);
    expect(() => planClip(events.filter((e) => e.type !== EventType.FullSnapshot), req({}))).toThrow(/no full snapshot \(no page was recorded\)/);
  });

  it('an empty recording', () => {
    expect(() => planClip([], req({}))).toThrow(/no rrweb events/);
  });
});

describe('clicks no pointer made', () => {
  const press = (ts: number, type: number, x: number, y: number, id: number): RrwebEvent => ({ type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: 2, type, x, y, id } });
  it('drops a label\'s click passed on to its control, and a script\'s or key\'s click at (0, 0); keeps real clicks, double clicks and a click at the corner after its press there', () => {
    const kept = [
      // A click on a label (mouse down, up, click), then its control's click dropped below.
      press(1000, 1, 337, 26, 5), press(1005, 0, 337, 26, 5), press(1006, 2, 337, 26, 5),
      // A double click: each click after its own press.
      press(2000, 1, 50, 60, 7), press(2010, 0, 50, 60, 7), press(2011, 2, 50, 60, 7), press(2100, 1, 50, 60, 7), press(2110, 0, 50, 60, 7), press(2111, 2, 50, 60, 7), press(2112, 4, 50, 60, 7),
      // A real click in the page's corner.
      press(3000, 1, 0, 0, 8), press(3005, 0, 0, 0, 8), press(3006, 2, 0, 0, 8),
    ];
    const dropped = [
      press(1012, 2, 337, 26, 6),
      // The same corner clicked 200 ms later with no press: a script's click() or a key's.
      press(3206, 2, 0, 0, 8),
      press(4000, 2, 0, 0, 9),
    ];
    const all = [...kept, ...dropped].sort((a, b) => a.timestamp - b.timestamp);
    expect(withoutSyntheticClicks(all)).toEqual(kept);
    // Nothing to drop: the same array.
    expect(withoutSyntheticClicks(kept)).toBe(kept);
  });
});

describe('where the pointer came to rest', () => {
  // rrweb's recorder drops a move within its sampling interval of the last one recorded, for good:
  // the moves that bring a pointer to a stop are the ones lost.
  const move = (ts: number, x: number, y: number, id: number, source = 1): RrwebEvent => ({ type: EventType.IncrementalSnapshot, timestamp: ts, data: { source, positions: [{ x, y, id, timeOffset: 0 }] } });
  const press = (ts: number, type: number, x: number, y: number, id: number, pointerType?: number): RrwebEvent => ({ type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: 2, type, x, y, id, ...(pointerType === undefined ? {} : { pointerType }) } });
  const mutation = (ts: number): RrwebEvent => ({ type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: 0, adds: [], removes: [], texts: [], attributes: [] } });
  const at = (ts: number) => ts + POINTER_SAMPLING_MS;

  it('puts the pointer where its next press or move after a pause shows it stopped, at the end of the sampling interval after the last move', () => {
    const events = [
      // Moving to a button: the last moves are lost; 600 ms later it is pressed where the pointer stopped.
      move(1000, 100, 100, 3), move(1030, 300, 120, 4), mutation(1200), press(1630, 1, 410, 130, 9), press(1700, 0, 410, 130, 9), press(1701, 2, 410, 130, 9),
      // Moved on later, then again after a pause: the first move of the new motion is next to where it rested.
      move(3000, 450, 300, 5), move(3040, 500, 340, 6), move(4000, 530, 360, 7), move(4020, 560, 380, 7),
    ];
    const out = withPointerRests(events);
    expect(out.map((e) => e.timestamp)).toEqual([1000, 1030, at(1030), 1200, 1630, 1700, 1701, 3000, 3040, at(3040), 4000, 4020]);
    expect(out[2]).toEqual(move(at(1030), 410, 130, 9));
    expect(out[9]).toEqual(move(at(3040), 530, 360, 7));
  });

  it('adds nothing for a pointer that keeps moving, a press where the last move was, a move after a press, a short pause, a touch or a jump', () => {
    const events = [
      // Moves a display frame or so past the interval apart: the pointer never stopped.
      move(1000, 10, 10, 1), move(1066, 20, 20, 1), move(1132, 30, 30, 1), move(1190, 40, 40, 1),
      // Pressed where the last move was.
      press(2000, 1, 40, 40, 2), press(2050, 0, 40, 40, 2), press(2051, 2, 40, 40, 2),
      // The first move after a press: every move after it would have been recorded.
      move(3000, 90, 90, 3),
      // Pressed 80 ms after the last move: under the interval and a rest.
      press(3080, 1, 95, 95, 3),
      // A touch: no pointer between touches.
      move(4000, 10, 10, 4, 6), press(5000, 7, 300, 300, 5), press(5050, 9, 300, 300, 5), press(5051, 2, 300, 300, 5, 2),
      // A move after a pause, farther than the pointer could have gone at its speed: it left the page and came back elsewhere.
      move(6000, 100, 100, 6), move(6040, 110, 100, 6), move(8000, 900, 700, 7),
    ];
    expect(withPointerRests(events)).toBe(events);
  });

  it('is applied to the clip, on the bundled journey recorded by rrweb (its presses after a pause)', () => {
    const clip = planClip(events, req({ startS: 0 }));
    const played = clip.windows.flatMap((w) => w.events);
    // A press the journey made where the last recorded move was not, well after it.
    const pointerEvents = played.filter((e) => e.type === EventType.IncrementalSnapshot && [1, 2].includes((e.data as { source: number }).source));
    const rests = pointerEvents.filter((e, i) => {
      const d = e.data as { source: number; type?: number; x?: number; positions?: { x: number }[] };
      const prev = pointerEvents[i - 1];
      return d.source === 1 && prev !== undefined && (prev.data as { source: number }).source === 1 && e.timestamp - prev.timestamp === POINTER_SAMPLING_MS;
    });
    expect(rests.length, 'rests put in').toBeGreaterThan(0);
    for (const r of rests) {
      const i = pointerEvents.indexOf(r);
      const next = pointerEvents[i + 1]!;
      const nd = next.data as { source: number; x?: number; y?: number; positions?: { x: number; y: number }[] };
      const where = nd.source === 2 ? { x: nd.x, y: nd.y } : { x: nd.positions![0]!.x, y: nd.positions![0]!.y };
      // Where the next pointer event is, and over 50 ms before it.
      expect((r.data as { positions: { x: number; y: number }[] }).positions[0]).toMatchObject(where);
      expect(next.timestamp - r.timestamp).toBeGreaterThan(50);
    }
  });
});

describe('a focus the recorder could not name', () => {
  // A script that adds a field and focuses it in one task is recorded focus first, with id -1: the
  // field has no id until the mutation after the task (src/recording/unnamed-focus.ts).
  const focus = (ts: number, id: number, type = 5): RrwebEvent => ({ type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: 2, type, id } });
  const el = (id: number, tagName: string, attributes: Record<string, unknown> = {}) => ({ parentId: 1, nextId: null, node: { type: 2, id, tagName, attributes, childNodes: [] } });
  const adds = (ts: number, ...nodes: ReturnType<typeof el>[]): RrwebEvent => ({ type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: 0, adds: nodes, removes: [], texts: [], attributes: [] } });
  const input = (ts: number, id: number): RrwebEvent => ({ type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: 5, id, text: 'x', isChecked: false } });
  const ids = (out: RrwebEvent[]) => out.map((e) => `${e.timestamp}:${(e.data as { source: number }).source}:${(e.data as { id?: number }).id ?? ''}`);

  it('names the one field the next change added, right after that change', () => {
    const out = withUnnamedFocusNamed([focus(1000, 7, 6), focus(1000, -1), adds(1021, el(20, 'div'), el(21, 'button'), el(22, 'input', { type: 'text' })), input(1500, 22)]);
    expect(ids(out)).toEqual(['1000:2:7', '1021:0:', '1021:2:22', '1500:5:22']);
    expect(out[2]!.data).toEqual({ source: 2, type: 5, id: 22 });
  });

  it('takes the field with autofocus, else the one typed into next, among several', () => {
    const two = adds(1020, el(21, 'input', { type: 'text' }), el(22, 'textarea'));
    expect(ids(withUnnamedFocusNamed([focus(1000, -1), adds(1020, el(21, 'input'), el(22, 'input', { autofocus: '' }))]))).toEqual(['1020:0:', '1020:2:22']);
    expect(ids(withUnnamedFocusNamed([focus(1000, -1), two, input(1400, 22)]))).toEqual(['1020:0:', '1020:2:22', '1400:5:22']);
    // Typed into after focus moved on (a click on the other field focused it): no evidence.
    expect(ids(withUnnamedFocusNamed([focus(1000, -1), two, focus(1300, 21), input(1400, 21)]))).toEqual(['1000:2:-1', '1020:0:', '1300:2:21', '1400:5:21']);
    expect(ids(withUnnamedFocusNamed([focus(1000, -1), two]))).toEqual(['1000:2:-1', '1020:0:']);
  });

  it('guesses at nothing else: buttons, a change too late, another tab\'s, or focus moved before it', () => {
    const keep = (events: RrwebEvent[]) => expect(withUnnamedFocusNamed(events)).toEqual(events);
    keep([focus(1000, -1), adds(1020, el(21, 'button'), el(22, 'input', { type: 'checkbox' }))]);
    keep([focus(1000, -1), adds(1600, el(21, 'input'))]);
    keep([focus(1000, -1), { ...adds(1020, el(21, 'input')), windowId: 'other' }]);
    keep([focus(1000, -1), focus(1010, 9), adds(1020, el(21, 'input'))]);
    const none = [focus(1000, 4), adds(1020, el(21, 'input'))];
    expect(withUnnamedFocusNamed(none)).toBe(none);
  });

  it('costs time in proportion to the events, on a hostile recording too', () => {
    // 20,000 unnamed focuses in as many tabs at one moment, 40,000 pointer moves, then a change: every
    // event after the focuses would look through all of them; then 20,000 focuses each followed by a
    // change adding two fields, with no typing anywhere.
    const move = (ts: number): RrwebEvent => ({ type: EventType.IncrementalSnapshot, timestamp: ts, data: { source: 1, positions: [{ x: 1, y: 1, id: 1, timeOffset: 0 }] } });
    const events: RrwebEvent[] = [];
    for (let k = 0; k < 20_000; k++) events.push({ ...focus(1000, -1), windowId: `tab-${k}` });
    for (let k = 0; k < 40_000; k++) events.push(move(1001));
    events.push(adds(1002, el(5, 'input')));
    for (let k = 0; k < 20_000; k++) events.push(focus(5000 + k * 10, -1), adds(5000 + k * 10 + 5, el(2 * k + 10, 'input'), el(2 * k + 11, 'textarea')));
    const from = performance.now();
    const out = withUnnamedFocusNamed(events);
    expect(out).toHaveLength(events.length);
    expect(performance.now() - from, 'ms for 120,000 events (about 150 alone; 14,000 looking through every waiting focus)').toBeLessThan(3000);
  });
});
