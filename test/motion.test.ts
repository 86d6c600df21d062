import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderContext, type RenderOptions, type RenderResult } from '../src/render/types.js';
import { renderQuietAndLoaded } from './support/busy-cores.js';
import { compareGifs, ssimAgainstLive } from './support/compare.js';
import { decodeGif, frameAt, type DecodedGif } from './support/gif-frames.js';
import { formatScores, scoreMoments, type MomentScore } from './support/moments.js';
import { motionJourney } from './support/motion-journey.js';
import { replayInRealTime } from './support/realtime-replay.js';
import { recordJourney, type JourneyContext, type Recording } from './support/recorder.js';
import { FIXTURE_ROOTS, startSite, type SiteServer } from './support/site-server.js';

/**
 * Motion (issue 7): pages that move by CSS alone (a hero fading in on load, a staggered list, a
 * progress bar, a van driving, a carousel, a ticker, spinners; an accordion, a dialog and a toast
 * opened by clicks) are recorded by rrweb's recorder while screenshots are taken at moments with no
 * recorded event in the second before them, several in the middle of an animation. The GIF (default
 * options: 10 fps, 800 px) must show each moment as the user saw it. A control renders the same
 * recording with animations frozen (rrweb's pause, only slots with events captured: the engine before
 * issue 7) and must fail the same threshold, so the test can tell motion from no motion.
 */
const MIN_SSIM = 0.95;
/** The recorder's rule for these shots: no event of the page in the second before the capture. */
const QUIET_MS = 1000;

let site: SiteServer;
let browser: Browser;
let recording: Recording;
let events: RrwebEvent[];

beforeAll(async () => {
  site = await startSite({ root: FIXTURE_ROOTS.motion });
  browser = await launchBrowser();
  recording = await recordJourney(site.origin, motionJourney, { quiet: { beforeMs: QUIET_MS, onNoisy: 'drop' } });
  events = parseRecording(Buffer.from(JSON.stringify(recording.events))).events;
  if (recording.dropped.length) console.log('shots dropped by the quiet rule or the schedule', recording.dropped);
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

async function scores(ctx: RenderContext): Promise<MomentScore[]> {
  const result = await renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, ctx);
  expect(result.width).toBe(800);
  console.log(`rendered ${result.durationS} s: ${result.captured} captures, ${result.frames} frames, ${result.gif.length} bytes, ${result.wallMs} ms`);
  return scoreMoments(result.gif, recording.shots, events[0]!.timestamp, recording.viewport);
}

interface PageRender {
  rec: Recording;
  evs: RrwebEvent[];
  /** GIF time 0: the recording's first event's time, plus the clip's start when it has one. */
  t0: number;
  r: RenderResult;
  gif: DecodedGif;
  /** GIF pixels per CSS pixel of the recorded viewport. */
  k: number;
}

/**
 * Serves `html` as a site's one page, records `journey` on it with rrweb's recorder (given the page's
 * URL), and renders the recording with the default options, from its start unless `options` (given
 * the recorded events) says otherwise.
 */
async function recordAndRender(html: string, journey: (ctx: JourneyContext, url: string) => Promise<void>, options?: (evs: RrwebEvent[]) => Partial<RenderOptions>): Promise<PageRender> {
  const pageSite = await startSite({ generated: new Map([['/page.html', { body: Buffer.from(html), type: 'text/html; charset=utf-8' }]]) });
  try {
    const rec = await recordJourney(pageSite.origin, (ctx) => journey(ctx, `${ctx.origin}/page.html`));
    const evs = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
    const opts = { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [pageSite.origin], ...options?.(evs) };
    const r = await renderRecording(evs, opts, { browser });
    const gif = decodeGif(r.gif);
    return { rec, evs, t0: evs[0]!.timestamp + opts.startS * 1000, r, gif, k: gif.width / rec.viewport.width };
  } finally {
    await pageSite.close();
  }
}

/** The time of the first recorded change whose data holds `text` (a class a script added, an element's tag), which the test waits on. */
function changedAt(evs: RrwebEvent[], text: string): number {
  const change = evs.find((e) => e.type === 3 && JSON.stringify(e.data).toLowerCase().includes(text.toLowerCase()));
  expect(change, `a recorded change with "${text}"`).toBeDefined();
  return change!.timestamp;
}

/** Whether the RGBA pixel at byte `at` is the crimson these pages draw with (rgb(220, 20, 60) and near it). */
function crimson(rgba: ArrayLike<number>, at: number): boolean {
  return rgba[at]! > 180 && rgba[at + 1]! < 90;
}

describe('motion between events', () => {
  it('records moments with no event in the second before them, mid-animation ones included', () => {
    // 13 are planned; a loaded machine may push a click late and drop the shot after it.
    expect(recording.shots.length).toBeGreaterThanOrEqual(10);
    for (const s of recording.shots) expect(s.quietMs, s.label).toBeGreaterThan(QUIET_MS);
    const labels = recording.shots.map((s) => s.label);
    for (const mid of ['home-bar-20%', 'orders-rows-2-4-fading', 'orders-van-halfway']) expect(labels).toContain(mid);
  });

  it('is fair: rrweb\'s Replayer playing the recording in real time shows every moment (SSIM >= 0.95)', async () => {
    // If this fails, the recorder lost something or the live page's animations started at another
    // time than its snapshot: the fixture, not the engine, needs fixing.
    const rt = await replayInRealTime(recording.events, recording.shots, site.origin, recording.viewport);
    const s: MomentScore[] = [];
    const h = Math.round((800 * recording.viewport.height) / recording.viewport.width);
    for (const [i, r] of rt.entries()) {
      const shot = recording.shots[i]!;
      const raw = await sharp(r.png).resize(800, h, { fit: 'fill' }).ensureAlpha().raw().toBuffer();
      s.push({ label: r.label, atS: +((shot.ts - events[0]!.timestamp) / 1000).toFixed(2), ssim: +(await ssimAgainstLive(shot.png, raw, 800, h)).toFixed(4) });
    }
    console.log(formatScores('SSIM per moment, rrweb Replayer in real time (reference)', s));
    // A capture that started late on a loaded machine shows another moment: not counted.
    const late = rt.filter((r) => r.lateMs > 40).map((r) => r.label);
    if (late.length) console.log('real-time captures started over 40 ms late (not counted):', late);
    for (const m of s) if (!late.includes(m.label)) expect(m.ssim, m.label).toBeGreaterThanOrEqual(MIN_SSIM);
  });

  it('shows every moment as the user saw it (SSIM >= 0.95)', async () => {
    const s = await scores({ browser });
    console.log(formatScores('SSIM per moment, animations live', s));
    const below = s.filter((m) => m.ssim < MIN_SSIM).map((m) => `${m.label}: ${m.ssim}`);
    expect(below, `moments under ${MIN_SSIM}`).toEqual([]);
  });

  it('draws the same moving frames whatever the machine\'s load', async () => {
    // Animation time is replay time: two busy processes on the two cores change nothing the GIF
    // shows. Every 100 ms of GIF time is compared, not only the mean, so one frame drawn at the
    // wrong time fails. Where the two GIFs start different frames is printed, not asserted: CI once
    // saw 73 pictures under load against 77 quiet (stop 16), which over 40 loaded renders here (two
    // cores or one, up to six busy processes) did not repeat; the GIF is what must not change.
    const options = { ...DEFAULT_RENDER_OPTIONS, startS: 0, endS: 12, allowOrigins: [site.origin] };
    const { quiet, loaded, framesDiffer } = await renderQuietAndLoaded(() => renderRecording(events, options, { browser }));
    const same = compareGifs(quiet.gif, loaded.gif);
    console.log(
      `quiet: ${quiet.captured} captures, ${quiet.frames} frames, ${quiet.wallMs} ms; loaded: ${loaded.captured} captures, ${loaded.frames} frames, ` +
        `${loaded.wallMs} ms, ${loaded.timings.captureFallbacks} fallbacks; frames (start, ms) in one GIF only: ${framesDiffer.join(' ') || 'none'}; ` +
        `SSIM mean ${same.mean.toFixed(5)}, lowest ${same.min.toFixed(4)} at ${same.minAtMs} ms`,
    );
    expect(same.min, `lowest SSIM at ${same.minAtMs} ms of GIF time`).toBeGreaterThan(0.99);
    expect(same.mean).toBeGreaterThan(0.999);
  });

  it('sends each step while the frame before it is drawn, past the slots it does not capture, with the frames of one step at a time', async () => {
    // Animations here are sampled every other slot or so: the slot between two captures is passed
    // over. A step that stopped at it (as before stop 27) waited for the frame before it, about a
    // third of this moment's steps; now nearly all of them run while the frame before is drawn.
    const options = { ...DEFAULT_RENDER_OPTIONS, startS: 0, endS: 12, allowOrigins: [site.origin] };
    const ahead = await renderRecording(events, options, { browser });
    const oneByOne = await renderRecording(events, options, { browser, stepAhead: false });
    const same = compareGifs(ahead.gif, oneByOne.gif);
    console.log(
      `ahead: ${ahead.timings.stepsAhead} of ${ahead.timings.steps} steps sent ahead, ${ahead.captured} captures, ${ahead.wallMs} ms; ` +
        `one by one: ${oneByOne.captured} captures, ${oneByOne.wallMs} ms; SSIM mean ${same.mean.toFixed(5)}, lowest ${same.min.toFixed(4)} at ${same.minAtMs} ms`,
    );
    expect(ahead.timings.stepsAhead).toBeGreaterThanOrEqual(Math.floor(ahead.timings.steps * 0.9));
    expect(oneByOne.timings.stepsAhead).toBe(0);
    // Animation frames are not byte-stable between two renders (the load test above): compared as pictures.
    expect(same.min, `lowest SSIM at ${same.minAtMs} ms of GIF time`).toBeGreaterThan(0.99);
    expect(same.mean).toBeGreaterThan(0.999);
  });

  it('control: the same recording with animations frozen fails the threshold', async () => {
    const frozen: RenderContext = { browser, motion: 'frozen' };
    const s = await scores(frozen);
    console.log(formatScores('SSIM per moment, animations frozen (control)', s));
    expect(Math.min(...s.map((m) => m.ssim))).toBeLessThan(MIN_SSIM);
    // The moments only motion can get right: a list that fades in after the load, and the hero.
    const by = Object.fromEntries(s.map((m) => [m.label, m.ssim]));
    expect(by['orders-van-halfway']!).toBeLessThan(MIN_SSIM);
    expect(by['home-bar-20%']!).toBeLessThan(MIN_SSIM);
  });
});

describe('a blinking caret', () => {
  /**
   * A text editor's caret, as CodeMirror draws it: in a layer of no size (`contain: size`) that its
   * children overflow, blinking by a `steps(1)` animation of the layer that restarts at each key. The
   * layer's own box is empty, so the blink was taken for an animation off screen and never sampled
   * (the caret stood still in the GIF), and a steps() animation sampled as motion blinks out of time.
   * Here the blink starts from a class a script adds 1 s after the load: on the GIF's grid, so every
   * step falls on a slot's time, where Chromium's clamped animation time drew it either side by
   * chance (1 render in 5-12 held the caret on for a whole blink; the arithmetic: test/holds.test.ts).
   */
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
.editor { position: absolute; left: 100px; top: 100px; width: 600px; height: 200px; border: 1px solid #ccc; }
.layer { position: absolute; left: 0; top: 0; contain: size style; }
.caret { position: absolute; left: 40px; top: 30px; width: 6px; height: 60px; background: rgb(220, 20, 60); }
.focused .layer { animation: 1.2s steps(1) 0s infinite blink; }
@keyframes blink { 50% { opacity: 0; } }
</style></head><body><div class="editor"><div class="layer"><div class="caret"></div></div></div>
<script>setTimeout(() => document.querySelector('.editor').classList.add('focused'), 1000);</script></body></html>`;

  it('blinks on time: a layer of no size whose children show, and a steps() animation held between its steps', async () => {
    const { evs, t0, gif, k } = await recordAndRender(PAGE, async ({ page, idle }, url) => {
      await page.goto(url);
      await idle(5000);
      // A recording ends at its last event: one after the blinks, away from the editor.
      await page.mouse.move(1000, 600);
    });
    const startMs = changedAt(evs, 'focused') - t0;
    const shown = (ms: number) => crimson(frameAt(gif, ms).rgba, (Math.round(160 * k) * gif.width + Math.round(143 * k)) * 4);
    // On for 0.6 s, off for 0.6 s, from the class's time; looked at 0.15 s inside each half (a GIF slot is 0.1 s).
    const halves = Array.from({ length: 5 }, (_, i) => startMs + i * 600);
    const seen = halves.flatMap((h) => [shown(h + 150), shown(h + 450)]);
    expect(seen, `caret at ${halves.map((h) => `${h + 150}, ${h + 450}`).join('; ')} ms`).toEqual([true, true, false, false, true, true, false, false, true, true]);
  });
});

describe('the end of a long animation', () => {
  /**
   * A 6.2 s animation is sampled every 300 ms (30 pictures a run, on 100 ms slots): its end came at
   * the next sample after it, 200 ms late, and an animation that leaves nothing behind (no `fill`)
   * stood drawn that long after it ended. It starts from a class a script adds 1 s after the load:
   * on the GIF's grid, so its end falls on a slot's time, where Chromium's clamped animation time may
   * draw it a hair short of its end (TIMELINE_GRAIN_MS in player/holds.ts).
   */
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
.bar { position: absolute; left: 100px; top: 100px; width: 400px; height: 60px; background: rgb(255, 255, 255); }
.started .bar { animation: 6.2s linear flash; }
@keyframes flash { from { background: rgb(220, 20, 60); } to { background: rgb(230, 30, 70); } }
</style></head><body><div class="bar"></div>
<script>setTimeout(() => document.body.classList.add('started'), 1000);</script></body></html>`;

  it('is drawn at the slot it ends in, not at the next sample', async () => {
    const { evs, t0, gif, k } = await recordAndRender(PAGE, async ({ page, idle }, url) => {
      await page.goto(url);
      await idle(7700);
      await page.mouse.move(1000, 700);
    });
    const endMs = changedAt(evs, 'started') - t0 + 6200;
    const red = (ms: number) => crimson(frameAt(gif, ms).rgba, (Math.round(130 * k) * gif.width + Math.round(300 * k)) * 4);
    const times = [endMs - 1000, endMs - 150, endMs + 150, endMs + 1000];
    expect(times.map(red), `drawn at ${times.join(', ')} ms`).toEqual([true, true, false, false]);
  });
});

describe('a transition turned back half-way', () => {
  /**
   * A box slides right over 1 s (a linear transition of its transform) and is clicked back 0.5 s in:
   * Chromium turns the transition round from where the box is then, for as long as it had run. A
   * step applies the click before its frame is drawn, when the page's transitions are where the last
   * frame drawn left them: the way back started from there, up to a slot (100 ms, 60 px here) short
   * of where the user saw it turn, and every frame after it was that far off. The clip starts where
   * its grid puts the click 50 ms after a slot.
   */
  const DURATION_MS = 1000;
  const TRAVEL_PX = 600;
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
#box { position: absolute; left: 100px; top: 100px; width: 50px; height: 50px; background: rgb(220, 20, 60); transition: transform ${DURATION_MS}ms linear; }
#box.on { transform: translateX(${TRAVEL_PX}px); }
#toggle { position: absolute; left: 100px; top: 400px; }
</style></head><body><div id="box"></div>
<button id="toggle" onclick="document.getElementById('box').classList.toggle('on')">Toggle</button></body></html>`;
  /** The recorded class changes (ms from the recording's start), found once the journey is recorded. */
  const toggled = (evs: RrwebEvent[]) => evs.filter((e) => e.type === 3 && JSON.stringify(e.data).includes('"class"')).map((e) => e.timestamp - evs[0]!.timestamp);

  it('turns back from where the user saw it turn, between two frames', async () => {
    const { evs, t0, gif, k } = await recordAndRender(
      PAGE,
      async ({ page, idle }, url) => {
        await page.goto(url);
        await idle(700);
        await page.click('#toggle');
        await page.waitForTimeout(500);
        await page.click('#toggle');
        await idle(1500);
        await page.mouse.move(1000, 700);
      },
      (evs) => {
        const back = toggled(evs)[1]!;
        return { startS: (((back - 50) % 100) + 100) % 100 / 1000 };
      },
    );
    const [outMs, backMs] = toggled(evs).map((ms) => ms + evs[0]!.timestamp - t0) as [number, number];
    expect(backMs - outMs, 'the second click came while the box still slid').toBeLessThan(DURATION_MS - 200);
    const speed = TRAVEL_PX / DURATION_MS;
    const expected = (ms: number) => 100 + (ms <= backMs ? speed * (ms - outMs) : Math.max(0, speed * (backMs - outMs) - speed * (ms - backMs)));
    const slotMs = 1000 / DEFAULT_RENDER_OPTIONS.fps;
    const leftEdge = (ms: number) => leftEdgeOf(frameAt(gif, ms).rgba, gif.width, 4, Math.round(125 * k)) / k;
    // The slots from the first click until the box is back, each against where the box was then.
    const first = Math.ceil(outMs / slotMs) * slotMs;
    const slots = Array.from({ length: Math.floor((2 * backMs - outMs - first) / slotMs) + 1 }, (_, i) => first + i * slotMs);
    const off = slots.map((ms) => ({ ms, gif: Math.round(leftEdge(ms + 1)), live: Math.round(expected(ms)) }));
    const way = off.filter((o) => o.ms > backMs);
    expect(way.length, 'slots on the way back').toBeGreaterThanOrEqual(3);
    const worst = Math.max(...off.map((o) => Math.abs(o.gif - o.live)));
    expect(worst, `box's left edge (CSS px), GIF against live: ${off.map((o) => `${o.ms} ms ${o.gif}/${o.live}`).join(', ')}`).toBeLessThanOrEqual(8);
  });
});

describe('a ticker paused under the pointer', () => {
  /**
   * A strip's box slides on forever and stops while the pointer is over the strip
   * (`animation-play-state: paused` on `:hover`), as news tickers and logo walls do. The pause came
   * in a step before its frame was drawn, when the box was where the last frame drawn left it: it
   * stopped up to a slot (100 ms, 30 px here) past where the user saw it stop (the browser settles a
   * pause at the next frame drawn), and went on at the frame after the pointer left, not when it
   * did. The clip starts where its grid puts the pointer's arrival 10 ms after a slot (the pause came
   * 90 ms late, 27 px).
   */
  const PERIOD_MS = 2000;
  const TRAVEL_PX = 600;
  const SPEED = TRAVEL_PX / PERIOD_MS;
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
#strip { position: absolute; left: 0; top: 100px; width: 1200px; height: 60px; background: #eee; }
#box { position: absolute; left: 0; top: 5px; width: 50px; height: 50px; background: rgb(220, 20, 60); animation: slide ${PERIOD_MS}ms linear infinite; }
#strip:hover #box { animation-play-state: paused; }
@keyframes slide { to { transform: translateX(${TRAVEL_PX}px); } }
</style></head><body><div id="strip"><div id="box"></div></div></body></html>`;
  /** When the pointer came over the strip, and when it left it (ms from the recording's start), from its recorded positions. */
  const pointer = (evs: RrwebEvent[]): { arrived: number; left: number } => {
    const times: { ts: number; over: boolean }[] = [];
    for (const e of evs) {
      const data = e.data as { source?: number; positions?: { y: number; timeOffset: number }[] };
      if (e.type !== 3 || data.source !== 1) continue;
      for (const p of data.positions ?? []) times.push({ ts: e.timestamp + p.timeOffset - evs[0]!.timestamp, over: p.y >= 100 && p.y < 160 });
    }
    const arrived = times.find((t) => t.over)?.ts;
    const left = times.find((t) => arrived !== undefined && t.ts > arrived && !t.over)?.ts;
    if (arrived === undefined || left === undefined) throw new Error('no recorded pointer positions over the strip and off it');
    return { arrived, left };
  };

  it('stops where the user saw it stop, between two frames', async () => {
    const { rec, evs, t0, gif, k } = await recordAndRender(
      PAGE,
      async ({ page, idle, shot }, url) => {
        await page.mouse.move(1000, 700);
        await page.goto(url);
        await idle(1200);
        await page.mouse.move(900, 130);
        await idle(600);
        await shot('paused');
        await idle(600);
        await page.mouse.move(1000, 700);
        await idle(2000);
        await page.mouse.move(1100, 750);
      },
      (evs) => ({ startS: ((((pointer(evs).arrived - 10) % 100) + 100) % 100) / 1000 }),
    );
    const live = rec.shots.find((s) => s.label === 'paused');
    expect(live, 'the live shot of the paused ticker').toBeDefined();
    const { data, info } = await sharp(live!.png).raw().toBuffer({ resolveWithObject: true });
    const liveLeft = leftEdgeOf(data, info.width, info.channels, 130);
    expect(liveLeft, 'the box in the live shot').toBeGreaterThan(0);
    const { arrived, left } = pointer(evs);
    const [hoverMs, leaveMs] = [arrived, left].map((ms) => ms + evs[0]!.timestamp - t0) as [number, number];
    const boxAt = (rgba: ArrayLike<number>) => Math.round(leftEdgeOf(rgba, gif.width, 4, Math.round(130 * k)) / k);
    const held = Array.from({ length: 8 }, (_, i) => boxAt(frameAt(gif, hoverMs + 100 + i * 100).rgba));
    // The live page paused it at its first frame after the pointer came, a few ms later (more on a
    // loaded machine): the GIF may stand a little behind the live shot, never ahead (before the fix,
    // 27 px ahead).
    const seen = `box's left edge (CSS px) in the GIF while paused: ${held.join(', ')}; live ${liveLeft}`;
    expect(Math.max(...held.map((x) => x - liveLeft)), seen).toBeLessThanOrEqual(8);
    expect(Math.max(...held.map((x) => liveLeft - x)), seen).toBeLessThanOrEqual(20);
    // Off the strip it goes on from there: the pictures a small ticker gets, at their own times (not
    // the GIF's last frame, which shows the clip's end).
    const after = gif.frames.slice(0, -1).filter((f) => f.startMs > leaveMs + 150);
    expect(after.length, 'pictures of the ticker going on').toBeGreaterThanOrEqual(1);
    const apart = (x: number, y: number) => Math.min(((x - y) % TRAVEL_PX + TRAVEL_PX) % TRAVEL_PX, ((y - x) % TRAVEL_PX + TRAVEL_PX) % TRAVEL_PX);
    // From where the GIF held it, as from the pointer's leaving.
    const going = after.map((f) => ({ ms: f.startMs, gif: boxAt(f.rgba), due: Math.round(held[0]! + SPEED * (f.startMs - leaveMs)) % TRAVEL_PX }));
    expect(Math.max(...going.map((g) => apart(g.gif, g.due))), `box after the pointer left: ${going.map((g) => `${g.ms} ms ${g.gif}/${g.due}`).join(', ')}`).toBeLessThanOrEqual(8);
  });
});

/** The first crimson pixel of row `y` (pixels of `channels` bytes), or -1. */
function leftEdgeOf(pixels: ArrayLike<number>, width: number, channels: number, y: number): number {
  for (let x = 0; x < width; x++) if (crimson(pixels, (y * width + x) * channels)) return x;
  return -1;
}

describe('scroll-driven animations', () => {
  /**
   * A reading progress bar (`animation-timeline: scroll()`) and text that slides in as it scrolls into
   * view (`view()`), as documentation and marketing pages draw them. Their times are percentages of
   * the scroll, not ms: placing them at their event's time (a time in ms) threw, and the render of any
   * page that had one failed as a recording that cannot be replayed. They move with the scroll
   * positions the replay restores, and only then: no slot is captured for them between events.
   */
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; font: 16px sans-serif; }
.progress { position: fixed; top: 0; left: 0; height: 12px; width: 100%; background: rgb(220, 20, 60); transform-origin: 0 50%; animation: grow linear; animation-timeline: scroll(); }
@keyframes grow { from { transform: scaleX(0); } to { transform: scaleX(1); } }
section { height: 600px; margin: 40px; background: #eef; }
.reveal { animation: slide linear both; animation-timeline: view(); animation-range: entry 0% cover 40%; }
@keyframes slide { from { opacity: 0; transform: translateX(-200px); } to { opacity: 1; transform: none; } }
</style></head><body><div class="progress"></div>
${Array.from({ length: 8 }, (_, i) => `<section><h2 class="reveal">Section ${i}</h2><p class="reveal">Text of section ${i}, which slides in as it scrolls into view.</p></section>`).join('')}
</body></html>`;

  it('follow the scroll as they did live, and cost no captures between events', async () => {
    const { rec, t0, r, gif, k } = await recordAndRender(PAGE, async ({ page, idle, shot }, url) => {
      await page.goto(url);
      await idle(800);
      await shot('top');
      for (const [i, dy] of [350, 250, 1800].entries()) {
        await page.mouse.wheel(0, dy);
        await idle(900);
        await shot(`scrolled-${i}`);
      }
      await page.mouse.move(600, 500);
    });
    /** How far the bar reaches in a row of RGBA pixels `width` wide: its last red pixel (the pointer may cover its start). */
    const reach = (rgba: ArrayLike<number>, width: number, y: number) => {
      let last = 0;
      for (let x = 0; x < width; x++) if (crimson(rgba, (y * width + x) * 4)) last = x + 1;
      return last;
    };
    const seen: string[] = [];
    for (const s of rec.shots) {
      const live = await sharp(s.png).ensureAlpha().raw().toBuffer();
      const liveReach = reach(live, rec.viewport.width, 6) * k;
      const gifReach = reach(frameAt(gif, s.ts - t0).rgba, gif.width, Math.round(6 * k));
      seen.push(`${s.label}: live ${liveReach.toFixed(0)}, GIF ${gifReach} px`);
      expect(Math.abs(gifReach - liveReach), seen.join('; ')).toBeLessThanOrEqual(4);
    }
    expect(seen.some((line) => !line.includes('live 0,')), 'the bar grew at all').toBe(true);
    const scores = await scoreMoments(r.gif, rec.shots, t0, rec.viewport);
    console.log(seen.join('; '), formatScores('SSIM per moment, scroll-driven animations', scores));
    for (const m of scores) expect(m.ssim, m.label).toBeGreaterThanOrEqual(0.99);
    // Stepped to and captured at the scrolls, not at every slot as moving things are.
    const slots = r.durationS * DEFAULT_RENDER_OPTIONS.fps;
    expect(r.timings.steps, `${r.timings.steps} steps of ${slots} slots`).toBeLessThan(slots / 3);
  });
});

describe('an accordion that slides open', () => {
  /**
   * `<details>` animated the way current guides show it: a transition of its `::details-content`
   * height (with `interpolate-size`). Chromium runs it but lists it in no `getAnimations()`, so the
   * GIF showed the accordion part-open, its content clipped, until the next event.
   */
  const PAGE = `<!doctype html><html><head><style>
:root { interpolate-size: allow-keywords; }
body { margin: 0; background: #fff; font: 16px sans-serif; }
details { position: absolute; left: 100px; top: 100px; width: 400px; }
details::details-content { height: 0; overflow: clip; transition: height 0.5s, content-visibility 0.5s allow-discrete; }
details[open]::details-content { height: auto; }
.block { height: 200px; background: rgb(220, 20, 60); }
</style></head><body><details><summary>Shipping</summary><div class="block"></div></details></body></html>`;

  it('is drawn open once its transition has run', async () => {
    const { evs, t0, gif, k } = await recordAndRender(PAGE, async ({ page, idle }, url) => {
      await page.goto(url);
      await idle(800);
      await page.click('summary');
      await idle(1500);
      await page.mouse.move(1000, 700);
    });
    const openedMs = changedAt(evs, '"open"') - t0;
    // The block's last rows, 180-195 px into it: on screen only once the content has its full height.
    const bottomShown = (ms: number) => crimson(frameAt(gif, ms).rgba, (Math.round((100 + 20 + 190) * k) * gif.width + Math.round(300 * k)) * 4);
    const times = [openedMs - 300, openedMs + 700, openedMs + 1400];
    expect(times.map(bottomShown), `the block's bottom at ${times.join(', ')} ms`).toEqual([false, true, true]);
  });
});

describe('SVG animations (SMIL)', () => {
  /**
   * Loading spinners made of SVG's own animations (`<animateTransform>`, as the SVG spinner
   * collections and react-loader-spinner draw them): no page API lists them with the CSS ones, and
   * their timeline starts only once the document has loaded, which the replay's document, built
   * between rrweb's `document.open()` and no `close()`, never had. They stood still in every frame.
   * One is in the page as it loads, one a script adds 1 s later (a request's spinner).
   */
  const spinner = (left: number) =>
    `<svg width="200" height="200" viewBox="0 0 200 200" style="position:absolute;left:${left}px;top:100px"><rect x="20" y="90" width="160" height="20" fill="rgb(220, 20, 60)"><animateTransform attributeName="transform" type="rotate" from="0 100 100" to="360 100 100" dur="1.3s" repeatCount="indefinite"/></rect></svg>`;
  const PAGE = `<!doctype html><html><body style="margin: 0; background: #fff">${spinner(100)}
<script>setTimeout(() => document.body.insertAdjacentHTML('beforeend', ${JSON.stringify(spinner(500))}), 1000);</script></body></html>`;

  it('turn in the replay as they did live', async () => {
    const { evs, t0, gif, k } = await recordAndRender(PAGE, async ({ page, idle }, url) => {
      await page.goto(url);
      await idle(4500);
      await page.mouse.move(1000, 700);
    });
    /** The crimson pixels of a spinner's box in the frame shown at `ms`, as a string: its picture. */
    const picture = (ms: number, left: number) => {
      const f = frameAt(gif, ms);
      let bits = '';
      for (let y = Math.round(100 * k); y < Math.round(300 * k); y += 2)
        for (let x = Math.round(left * k); x < Math.round((left + 200) * k); x += 2) bits += crimson(f.rgba, (y * gif.width + x) * 4) ? '1' : '0';
      return bits;
    };
    const from = changedAt(evs, 'animatetransform') - t0 + 500;
    const times = Array.from({ length: 6 }, (_, i) => from + i * 500);
    for (const left of [100, 500]) {
      const pictures = new Set(times.map((ms) => picture(ms, left)));
      expect(pictures.size, `distinct pictures of the spinner at x ${left} over ${times.join(', ')} ms`).toBeGreaterThanOrEqual(4);
      expect(picture(times[0]!, left), 'the spinner is drawn').toContain('1');
    }
  });

  /**
   * Starting their timelines closes the replay's document, whose parser has seen no doctype (rrweb
   * appends the recorded one as a node): closed alone, a standards page became a quirks one from the
   * moment its first spinner came. Chromium then stored the classes of elements added later folded
   * to lower case, which the page's rules (parsed before, in standards mode) did not match: Swagger
   * UI's responses, added after its spinner, lost their markdown styles. A block of class `shadeBox`
   * added after the spinner must be painted by its rule in every frame, as it was live.
   */
  it('leave a standards page in standards mode', async () => {
    const page = `<!-- a comment before the doctype, as Swagger UI's page has --><!doctype html><html><head><style>.shadeBox p { background: rgb(30, 144, 255) }</style></head>
<body style="margin: 0; background: #fff">
<script>setTimeout(() => document.body.insertAdjacentHTML('beforeend', ${JSON.stringify(spinner(500))}), 1000);
setTimeout(() => document.body.insertAdjacentHTML('afterbegin', '<div class="shadeBox"><p style="margin: 0; height: 300px; width: 400px"></p></div>'), 1800);</script></body></html>`;
    const { evs, t0, gif, k } = await recordAndRender(page, async ({ page, idle }, url) => {
      await page.goto(url);
      await idle(3500);
      await page.mouse.move(1000, 700);
    });
    /** Blue pixels among those sampled in the block's box. */
    const blue = (ms: number) => {
      const f = frameAt(gif, ms);
      let n = 0;
      for (let y = 0; y < Math.round(300 * k); y += 4)
        for (let x = 0; x < Math.round(400 * k); x += 4) {
          const at = (y * gif.width + x) * 4;
          if (f.rgba[at]! < 80 && f.rgba[at + 2]! > 200) n++;
        }
      return n;
    };
    expect(changedAt(evs, 'animatetransform'), 'the spinner came first').toBeLessThan(changedAt(evs, 'shadeBox'));
    const added = changedAt(evs, 'shadeBox') - t0;
    const times = [added + 200, added + 700, added + 1400];
    const all = Math.round((300 * k) / 4) * Math.round((400 * k) / 4);
    expect(blue(added - 300), 'no block before it was added').toBe(0);
    for (const ms of times) expect(blue(ms), `blue pixels of the block at ${ms} ms`).toBeGreaterThan(all * 0.9);
  });
});
