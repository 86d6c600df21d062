import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { ssimAgainstLive } from './support/compare.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { fidelityJourney } from './support/journeys.js';
import { recordJourney, type Recording } from './support/recorder.js';
import { startSite, type SiteServer } from './support/site-server.js';

/**
 * The render is compared with what the user saw: a journey on the fixture shop is recorded by
 * rrweb's recorder while screenshots are taken at still moments; each screenshot must match the GIF
 * frame on screen at that moment.
 */
const MIN_SSIM = 0.95;

let site: SiteServer;
let browser: Browser;
let recording: Recording;
let events: RrwebEvent[];

beforeAll(async () => {
  site = await startSite();
  browser = await launchBrowser();
  recording = await recordJourney(site.origin, fidelityJourney);
  events = parseRecording(Buffer.from(JSON.stringify(recording.events))).events;
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

async function scores(evs: RrwebEvent[], allowOrigins: string[]): Promise<Record<string, number>> {
  const result = await renderRecording(evs, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins }, { browser });
  const gif = decodeGif(result.gif);
  expect(gif.width).toBe(800);
  const frameHeight = Math.round((800 * recording.viewport.height) / recording.viewport.width);
  const t0 = evs[0]!.timestamp;
  const out: Record<string, number> = {};
  for (const shot of recording.shots) {
    const frame = frameAt(gif, shot.ts - t0);
    out[shot.label] = await ssimAgainstLive(shot.png, frame.rgba, gif.width, frameHeight);
  }
  return out;
}

describe('fidelity against live screenshots', () => {
  it('shows every still moment as the user saw it', async () => {
    expect(recording.shots.length).toBeGreaterThanOrEqual(7);
    const s = await scores(events, [site.origin]);
    console.log('SSIM per moment', s);
    for (const [label, v] of Object.entries(s)) expect(v, label).toBeGreaterThanOrEqual(MIN_SSIM);
  });

  it('catches a replay that misses the web fonts', async () => {
    // What a replay without CORS on the font files shows: every @font-face falls back.
    const noFonts = JSON.parse(JSON.stringify(events).replace(/@font-face\s*\{[^}]*\}/g, '')) as RrwebEvent[];
    const s = await scores(noFonts, [site.origin]);
    console.log('SSIM per moment without web fonts', s);
    expect(s['scrolled-story']!).toBeLessThan(MIN_SSIM);
    expect(s['typed']!).toBeLessThan(MIN_SSIM);
  });

  it('catches a replay without the site\'s fonts and images', async () => {
    // Not allow-listing the site makes the policy refuse its loopback assets: fallback fonts, no pictures.
    const s = await scores(events, []);
    console.log('SSIM per moment without assets', s);
    expect(Math.min(...Object.values(s))).toBeLessThan(MIN_SSIM);
  });

  it('catches a replay that loses scroll positions', async () => {
    const noScroll = events.filter((e) => !(e.type === 3 && (e.data as { source?: number }).source === 3));
    const s = await scores(noScroll, [site.origin]);
    expect(s['scrolled-grid']!).toBeLessThan(MIN_SSIM);
    expect(s['scrolled-story']!).toBeLessThan(MIN_SSIM);
  });
});
