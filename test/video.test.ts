import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecording } from '../src/recording/parse.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from '../src/render/types.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { recordJourney, type Journey } from './support/recorder.js';
import { startSite } from './support/site-server.js';

/**
 * A 4 s VP8 video whose picture is one flat colour per half second: at media time t it shows colour
 * k = floor(2t) mod 8, with red, green and blue on by k's bits 0, 1 and 2. Made by:
 *   ffmpeg -f lavfi -i "nullsrc=s=320x180:r=25:d=4" -vf "geq=r='255*mod(floor(T*2)\,2)':g='255*mod(floor(T)\,2)':b='255*mod(floor(T/2)\,2)',format=yuv420p" -c:v libvpx -b:v 200k -g 25 -an colours.webm
 */
const VIDEO = new URL('./fixtures/video/colours.webm', import.meta.url);
const BOX = { left: 100, top: 100, width: 640, height: 360 };

function colourAt(mediaS: number): string {
  const k = Math.floor(mediaS * 2) % 8;
  return `${k & 1}${(k >> 1) & 1}${(k >> 2) & 1}`;
}

/** How far media time `mediaS` is from the nearest colour change, in s. */
function edgeDistance(mediaS: number): number {
  const f = (mediaS * 2) % 1;
  return Math.min(f, 1 - f) / 2;
}

/** Samples the page's first video's media time every 20 ms into window.samples: [ms, media s, paused]. */
const SAMPLER = `<script>
    window.samples = [];
    const v = document.querySelector('video');
    setInterval(() => window.samples.push([Date.now(), v.currentTime, v.paused]), 20);
  </script>`;

const page = (attrs: string) => `<!doctype html><html><body style="margin: 0; background: #fff">
  <video src="/colours.webm" ${attrs} style="position: absolute; left: ${BOX.left}px; top: ${BOX.top}px; width: ${BOX.width}px; height: ${BOX.height}px"></video>
  ${SAMPLER}
</body></html>`;

describe('video', () => {
  let browser: Browser;
  let bytes: Buffer;
  beforeAll(async () => {
    browser = await launchBrowser();
    bytes = await readFile(VIDEO);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function recordAndRender(html: string, journey: (tab: import('playwright-core').Page, idle: (ms: number) => Promise<void>) => Promise<void>, options: Partial<RenderOptions> = {}) {
    const generated = new Map([
      ['/video.html', { body: Buffer.from(html), type: 'text/html' }],
      ['/colours.webm', { body: bytes, type: 'video/webm' }],
    ]);
    const site = await startSite({ generated });
    try {
      let samples: [number, number, boolean][] = [];
      const j: Journey = async ({ page: tab, origin, idle }) => {
        await tab.goto(`${origin}/video.html`);
        await journey(tab, idle);
        samples = (await tab.evaluate('window.samples')) as [number, number, boolean][];
      };
      const rec = await recordJourney(site.origin, j);
      const evs = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
      const r = await renderRecording(evs, { ...DEFAULT_RENDER_OPTIONS, startS: 0, ...options, allowOrigins: [site.origin] }, { browser });
      return { r, out: decodeGif(r.gif), evs, samples };
    } finally {
      await site.close();
    }
  }

  /**
   * Reads the video's colour in every 100 ms slot of the GIF and compares it with the colour the live
   * video showed then (its sampled media time, run on to the slot; held while paused). Slots of a
   * playing video within 60 ms of a colour change are not judged: the live samples are 20 ms apart
   * and the recorder's clock is not the video's.
   */
  function compare(rendered: Awaited<ReturnType<typeof recordAndRender>>, fromMs: number, box = BOX, at = { x: box.left + box.width / 2, y: box.top + box.height / 2 }) {
    const { out, evs, samples } = rendered;
    const live = (ts: number): { t: number; paused: boolean } | undefined => {
      let s: [number, number, boolean] | undefined;
      for (const x of samples) if (x[0] <= ts) s = x;
      if (!s) return undefined;
      return { t: s[2] ? s[1] : (s[1] + (ts - s[0]) / 1000) % 4, paused: s[2] };
    };
    const k = out.width / 1280;
    const seen: { got: string; want?: string; judged: boolean }[] = [];
    const clipStartTs = evs[0]!.timestamp + fromMs;
    for (let ms = 300; ms < out.durationMs - 400; ms += 100) {
      const f = frameAt(out, ms + 50);
      const p = (Math.round(at.y * k) * out.width + Math.round(at.x * k)) * 4;
      const got = [f.rgba[p]!, f.rgba[p + 1]!, f.rgba[p + 2]!].map((c) => (c > 127 ? 1 : 0)).join('');
      const l = live(clipStartTs + ms);
      // A paused video's media time is exact (the recorder took it at the pause): only a playing one's is run on from a sample.
      seen.push({ got, want: l && colourAt(l.t), judged: l !== undefined && edgeDistance(l.t) >= (l.paused ? 0.01 : 0.06) });
    }
    const text = seen.map((s) => `${s.got}/${s.want ?? '?'}`).join(' ');
    return { seen, text, wrong: seen.filter((s) => s.judged && s.got !== s.want).length, judged: seen.filter((s) => s.judged).length };
  }

  it('plays a video at its recorded times, across its loop', async () => {
    const rendered = await recordAndRender(page('autoplay muted loop playsinline'), async (tab, idle) => {
      await idle(4500);
      await tab.mouse.move(900, 700);
      await idle(300);
    });
    const { seen, text, wrong, judged } = compare(rendered, 0);
    expect(judged, text).toBeGreaterThan(18);
    expect(wrong, text).toBe(0);
    expect(new Set(seen.map((s) => s.got)).size, text).toBe(8);
    // Every slot of a playing video is a picture of its own.
    expect(rendered.r.captured, text).toBeGreaterThanOrEqual(seen.length);
  }, 120_000);

  it('holds a paused video, plays it on from there, and starts a late clip at the right picture', async () => {
    const html = page('autoplay muted loop playsinline').replace(
      '<script>',
      '<button id="pp" style="position: absolute; left: 900px; top: 100px" onclick="v.paused ? v.play() : v.pause()">play/pause</button><script>',
    );
    const journey = async (tab: import('playwright-core').Page, idle: (ms: number) => Promise<void>) => {
      await idle(1700);
      await tab.click('#pp');
      await idle(1300);
      await tab.click('#pp');
      await idle(1800);
      // An event at the end: the recording (and the clip) ends with its last event.
      await tab.mouse.move(900, 700);
      await idle(300);
    };
    const whole = await recordAndRender(html, journey);
    const a = compare(whole, 0);
    expect(a.judged, a.text).toBeGreaterThan(18);
    expect(a.wrong, a.text).toBe(0);
    // The pause holds one colour for over a second: ten slots in a row or more.
    let run = 1;
    let longest = 1;
    for (let i = 1; i < a.seen.length; i++) longest = Math.max(longest, (run = a.seen[i]!.got === a.seen[i - 1]!.got ? run + 1 : 1));
    expect(longest, a.text).toBeGreaterThanOrEqual(10);

    const late = await recordAndRender(html, journey, { startS: 2.2 });
    const b = compare(late, 2200);
    expect(b.judged, b.text).toBeGreaterThan(12);
    expect(b.wrong, b.text).toBe(0);
  }, 180_000);

  it('places the picture as object-fit places the video, and leaves a video it cannot load as it is', async () => {
    // A square box: contain letterboxes the 16:9 picture (white bands above and below), cover fills it.
    const square = { left: 100, top: 100, width: 360, height: 360 };
    const html = `<!doctype html><html><body style="margin: 0; background: #fff">
      <video src="/colours.webm" autoplay muted loop playsinline style="position: absolute; left: 100px; top: 100px; width: 360px; height: 360px; object-fit: contain"></video>
      <video src="/colours.webm" autoplay muted loop playsinline style="position: absolute; left: 600px; top: 100px; width: 360px; height: 360px; object-fit: cover"></video>
      <video src="/missing.webm" autoplay muted loop playsinline style="position: absolute; left: 100px; top: 500px; width: 320px; height: 180px; background: #0000ff"></video>
      ${SAMPLER}
    </body></html>`;
    const rendered = await recordAndRender(html, async (tab, idle) => {
      await idle(3000);
      await tab.mouse.move(1100, 700);
      await idle(300);
    });
    const middle = compare(rendered, 0, square);
    expect(middle.wrong, middle.text).toBe(0);
    // Near the top of the box: a white band with contain, the picture with cover.
    const contain = compare(rendered, 0, square, { x: 280, y: 110 });
    expect(new Set(contain.seen.map((s) => s.got)), contain.text).toEqual(new Set(['111']));
    const cover = compare(rendered, 0, { ...square, left: 600 }, { x: 780, y: 110 });
    expect(cover.wrong, cover.text).toBe(0);
    // The video that never loads shows its own background, as it did live.
    const { out } = rendered;
    const k = out.width / 1280;
    const p = (Math.round(590 * k) * out.width + Math.round(260 * k)) * 4;
    const last = out.frames.at(-1)!.rgba;
    expect([last[p], last[p + 1], last[p + 2]].map((c) => (c! > 127 ? 1 : 0)).join('')).toBe('001');
  }, 120_000);
});
