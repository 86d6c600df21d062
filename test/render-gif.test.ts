import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { InputError } from '../src/recording/errors.js';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from '../src/render/types.js';
import { ssimAgainstLive } from './support/compare.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { photoScroll } from './support/photo-scroll.js';
import { recordJourney, type Recording } from './support/recorder.js';
import { startSite, type SiteServer } from './support/site-server.js';
import { serveDir, type StaticSite } from './support/static-dir.js';

/** The GIF encoder through the whole engine: exact colours on real pages, and the byte budget on a real recording. */
let browser: Browser;
let colourSite: StaticSite;
let shop: SiteServer;

beforeAll(async () => {
  browser = await launchBrowser();
  colourSite = await serveDir(fileURLToPath(new URL('./fixtures/colour/', import.meta.url)));
  shop = await startSite();
});

afterAll(async () => {
  await browser?.close();
  await colourSite?.close();
  await shop?.close();
});

const parse = (rec: Recording): RrwebEvent[] => parseRecording(Buffer.from(JSON.stringify(rec.events))).events;

function render(events: RrwebEvent[], origin: string, extra: Partial<RenderOptions> = {}) {
  return renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [origin], ...extra }, { browser });
}

describe('exact colour', () => {
  // Flat areas of test/fixtures/colour/*.html in CSS pixels (x, y, w, h) and their colour. The
  // recording is 1280 px wide and the GIF 800: interiors stay flat after scaling.
  const areas: Record<string, { name: string; rect: [number, number, number, number]; rgb: [number, number, number] }[]> = {
    white: [
      { name: 'page', rect: [1080, 40, 190, 520], rgb: [255, 255, 255] },
      { name: 'black block', rect: [40, 40, 300, 160], rgb: [0, 0, 0] },
      { name: '#fafafa panel', rect: [400, 40, 300, 160], rgb: [250, 250, 250] },
      { name: '#f3f3f3 panel', rect: [760, 40, 300, 160], rgb: [243, 243, 243] },
    ],
    black: [
      { name: 'page', rect: [1080, 40, 190, 520], rgb: [0, 0, 0] },
      { name: 'white block', rect: [40, 40, 300, 160], rgb: [255, 255, 255] },
      { name: '#0b0b0b panel', rect: [400, 40, 300, 160], rgb: [11, 11, 11] },
      { name: '#101820 panel', rect: [760, 40, 300, 160], rgb: [16, 24, 32] },
    ],
    cream: [
      { name: 'page', rect: [1080, 40, 190, 520], rgb: [251, 247, 240] },
      { name: '#fffdf8 card', rect: [40, 40, 300, 160], rgb: [255, 253, 248] },
      { name: 'white block', rect: [400, 40, 300, 160], rgb: [255, 255, 255] },
      { name: '#23395d block', rect: [760, 40, 300, 160], rgb: [35, 57, 93] },
    ],
  };

  it('pages with white, black and near-white backgrounds keep their exact colours', async () => {
    const rec = await recordJourney(colourSite.origin, async ({ page, origin, shot, idle }) => {
      for (const name of Object.keys(areas)) {
        await page.goto(`${origin}/${name}.html`);
        await shot(name);
        await idle(400);
      }
    });
    const events = parse(rec);
    const r = await render(events, colourSite.origin);
    const gif = decodeGif(r.gif);
    const scale = gif.width / rec.viewport.width;
    for (const s of rec.shots) {
      const frame = frameAt(gif, s.ts - events[0]!.timestamp).rgba;
      for (const a of areas[s.label]!) {
        const [x, y, w, h] = a.rect;
        // A margin of 3 px inside the area's edges, where scaling blends it with its neighbours.
        const x0 = Math.ceil(x * scale) + 3;
        const x1 = Math.floor((x + w) * scale) - 3;
        const y0 = Math.ceil(y * scale) + 3;
        const y1 = Math.floor((y + h) * scale) - 3;
        const off = new Map<string, number>();
        for (let py = y0; py < y1; py++) {
          for (let px = x0; px < x1; px++) {
            const i = (py * gif.width + px) * 4;
            const got = [frame[i], frame[i + 1], frame[i + 2]];
            if (got[0] !== a.rgb[0] || got[1] !== a.rgb[1] || got[2] !== a.rgb[2]) off.set(got.join(','), (off.get(got.join(',')) ?? 0) + 1);
          }
        }
        expect(Object.fromEntries(off), `${s.label}: ${a.name} should be ${a.rgb.join(',')} everywhere`).toEqual({});
      }
    }
  });
});

describe('byte budget', () => {
  it('a scroll-heavy recording fits a small budget, stays close to the live page at its pauses, and a budget nothing reaches fails with over_budget', async () => {
    const rec = await recordJourney(shop.origin, photoScroll(2));
    const events = parse(rec);
    const t0 = events[0]!.timestamp;
    const free = await render(events, shop.origin);
    expect(free.budget).toBeUndefined();
    const maxBytes = Math.round(free.gif.length * 0.3);
    const tight = await render(events, shop.origin, { maxBytes });
    console.log(`budget ${maxBytes}: ${free.gif.length} -> ${tight.gif.length} bytes, steps ${tight.budget?.steps.join(' ')}, ${tight.budget?.encodes} encodes, encode ${free.timings.encodeMs} -> ${tight.timings.encodeMs} ms`);
    expect(tight.gif.length).toBeLessThanOrEqual(maxBytes);
    expect(tight.budget).toMatchObject({ maxBytes, bytesBefore: free.gif.length, bytesAfter: tight.gif.length });
    expect(tight.budget!.steps.length).toBeGreaterThan(0);
    const a = decodeGif(free.gif);
    const b = decodeGif(tight.gif);
    expect(b.durationMs).toBe(a.durationMs);
    const frameHeight = Math.round((b.width * rec.viewport.height) / rec.viewport.width);
    // A lower frame rate shows each pause for longer slots, starting up to a slot (at most 1 s at the
    // ladder's lowest rate) earlier or later: each pause must be on screen within that of its moment.
    for (const s of rec.shots) {
      let live = -1;
      for (let dt = -1000; dt <= 1000; dt += 100) live = Math.max(live, await ssimAgainstLive(s.png, frameAt(b, Math.max(0, s.ts - t0 + dt)).rgba, b.width, frameHeight));
      const unbudgeted = await ssimAgainstLive(s.png, frameAt(a, s.ts - t0).rgba, a.width, frameHeight);
      console.log(`${s.label}: SSIM against live ${live.toFixed(4)} within 1 s (unbudgeted ${unbudgeted.toFixed(4)} at the moment)`);
      expect(live).toBeGreaterThan(0.85);
    }
    const err = await render(events, shop.origin, { maxBytes: 20_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('over_budget');
    expect((err as Error).message).toMatch(/byte budget of 20000 bytes/);
  });
});
