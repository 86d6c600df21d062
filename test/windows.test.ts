import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { formatScores, scoreMoments } from './support/moments.js';
import { startSite, type SiteServer } from './support/site-server.js';
import { recordWindowsSession, WINDOWS_QUIET_MS, type WindowsRecording } from './support/windows-recordings.js';

/**
 * Windows (issue 7, point 4): inside one clip, each frame shows the window the user was in at that
 * time. Two sessions recorded by rrweb's recorder on the fixture shop and read back from PostHog's
 * snapshot lines: two tabs the user switches between (one window id each), and a tab reloaded into a
 * second window id mid-session. Every live screenshot (of the tab the user was in, no event of that
 * tab in the second before it) must match the GIF frame on screen at its moment.
 */
const MIN_SSIM = 0.95;

let site: SiteServer;
let browser: Browser;
const sessions = new Map<string, { rec: WindowsRecording; events: RrwebEvent[] }>();

beforeAll(async () => {
  site = await startSite();
  browser = await launchBrowser();
  for (const [scenario, form] of [['two-tabs', 'object'], ['reload', 'pair']] as const) {
    const rec = await recordWindowsSession(scenario, site.origin, { form });
    // Through the parser, as a PostHog export reaches the CLI and the worker.
    const events = parseRecording(Buffer.from(rec.lines)).events;
    sessions.set(scenario, { rec, events });
    if (rec.recording.dropped.length) console.log(`${scenario}: shots dropped`, rec.recording.dropped);
  }
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

async function render(events: RrwebEvent[]) {
  return renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, { browser });
}

describe.each(['two-tabs', 'reload'] as const)('%s', (scenario) => {
  it('is recorded as PostHog snapshot lines with a window id per tab, the shots taken in each', () => {
    const { rec, events } = sessions.get(scenario)!;
    expect(rec.windows).toHaveLength(2);
    expect(new Set(events.map((e) => e.windowId))).toEqual(new Set(rec.windows));
    // Each window has its own page load (Meta + full snapshot) and its own shots.
    for (const w of rec.windows) {
      expect(events.some((e) => e.windowId === w && e.type === 2), `full snapshot in ${w}`).toBe(true);
      expect(rec.moments.filter((m) => m.windowId === w).length, `shots in ${w}`).toBeGreaterThanOrEqual(scenario === 'two-tabs' ? 2 : 1);
    }
    for (const m of rec.moments) expect(m.shot.quietMs, m.label).toBeGreaterThan(WINDOWS_QUIET_MS);
    console.log(`${scenario}: ${events.length} events, windows ${rec.windows.join(', ')}; moments`, rec.moments.map((m) => `${m.label}@${m.atS}s`).join(', '));
  });

  it('is fair: each window rendered on its own shows its own moments', async () => {
    // What a correct render must reach, window by window: if this fails, the recording (not the
    // window choice) is at fault.
    const { rec, events } = sessions.get(scenario)!;
    for (const w of rec.windows) {
      const own = events.filter((e) => e.windowId === w);
      const r = await render(own);
      const s = await scoreMoments(r.gif, rec.recording.shots.filter((x) => x.windowId === w), own[0]!.timestamp, rec.recording.viewport);
      console.log(formatScores(`${scenario}: SSIM per moment, window ${w} rendered alone`, s));
      for (const m of s) expect(m.ssim, m.label).toBeGreaterThanOrEqual(MIN_SSIM);
    }
  });

  it('shows, at every moment, the window the user was in', async () => {
    const { rec, events } = sessions.get(scenario)!;
    const r = await render(events);
    const s = await scoreMoments(r.gif, rec.recording.shots, events[0]!.timestamp, rec.recording.viewport);
    console.log(formatScores(`${scenario}: SSIM per moment (GIF of the whole session)`, s));
    const below = s.filter((m) => m.ssim < MIN_SSIM).map((m) => `${m.label}: ${m.ssim}`);
    expect(below, `moments under ${MIN_SSIM}`).toEqual([]);
  });

  it('control: a render that keeps to the first window fails the moments in the other', async () => {
    const { rec, events } = sessions.get(scenario)!;
    const first = rec.windows[0]!;
    const r = await render(events.filter((e) => e.windowId === first));
    const s = await scoreMoments(r.gif, rec.recording.shots, events[0]!.timestamp, rec.recording.viewport);
    console.log(formatScores(`${scenario}: SSIM per moment, first window only (control)`, s));
    const other = new Set(rec.moments.filter((m) => m.windowId !== first).map((m) => m.label));
    for (const m of s) if (other.has(m.label)) expect(m.ssim, m.label).toBeLessThan(MIN_SSIM);
  });
});
