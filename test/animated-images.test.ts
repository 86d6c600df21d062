import { createRequire } from 'node:module';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseRecording } from '../src/recording/parse.js';
import { imageAnimation } from '../src/render/animated-image.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { recordJourney } from './support/recorder.js';
import { startSite } from './support/site-server.js';
import { slowToNode } from './support/slow-to-node.js';

const { GIFEncoder } = createRequire(import.meta.url)('gifenc') as {
  GIFEncoder: () => { writeFrame(i: Uint8Array, w: number, h: number, o: object): void; finish(): void; bytes(): Uint8Array };
};

/** A GIF made by gifenc: one frame per colour, `delay` ms each; `repeat` 0 loops forever, -1 plays once. */
function gif(colours: number[][], delay: number, repeat: number): Buffer {
  const enc = GIFEncoder();
  colours.forEach((c, i) => enc.writeFrame(new Uint8Array(64 * 64).fill(i), 64, 64, { palette: i === 0 ? colours : undefined, delay, repeat, first: i === 0 }));
  enc.finish();
  return Buffer.from(enc.bytes());
}

/** An APNG's chunk layout (the parser reads no CRCs or pixels): acTL, then an fcTL per frame. */
function apng(frames: number, plays: number, delayNum: number, delayDen: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length);
    head.write(type, 4, 'ascii');
    return Buffer.concat([head, data, Buffer.alloc(4)]);
  };
  const acTL = Buffer.alloc(8);
  acTL.writeUInt32BE(frames);
  acTL.writeUInt32BE(plays, 4);
  const fcTL = () => {
    const d = Buffer.alloc(26);
    d.writeUInt16BE(delayNum, 20);
    d.writeUInt16BE(delayDen, 22);
    return chunk('fcTL', d);
  };
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', Buffer.alloc(13)), chunk('acTL', acTL)];
  for (let i = 0; i < frames; i++) parts.push(fcTL(), chunk(i === 0 ? 'IDAT' : 'fdAT', Buffer.alloc(8)));
  parts.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

const RED = [255, 0, 0];
const BLUE = [0, 0, 255];
const GREEN = [0, 160, 0];

describe('animated image detection', () => {
  it('reads GIFs: frames, one pass, plays (NETSCAPE loop count; none plays once)', () => {
    expect(imageAnimation(gif([RED, BLUE], 250, 0))).toEqual({ frames: 2, loopMs: 500, plays: 0 });
    expect(imageAnimation(gif([RED, BLUE, GREEN], 250, -1))).toEqual({ frames: 3, loopMs: 750, plays: 1 });
    expect(imageAnimation(gif([RED, BLUE], 250, 2))).toEqual({ frames: 2, loopMs: 500, plays: 3 });
    // A delay of 10 ms or less plays as 100 ms, as Chromium does.
    expect(imageAnimation(gif([RED, BLUE], 0, 0))).toEqual({ frames: 2, loopMs: 200, plays: 0 });
    expect(imageAnimation(gif([RED], 250, 0))).toBeUndefined();
  });

  it('reads animated WebP (as sharp writes it) and APNG; still images are not animated', async () => {
    const webp = await sharp(gif([RED, BLUE, GREEN], 300, 0), { animated: true }).webp({ loop: 0, delay: [300, 300, 300], lossless: true }).toBuffer();
    expect(imageAnimation(webp)).toEqual({ frames: 3, loopMs: 900, plays: 0 });
    const once = await sharp(gif([RED, BLUE], 300, 0), { animated: true }).webp({ loop: 1, delay: [300, 300] }).toBuffer();
    expect(imageAnimation(once)).toEqual({ frames: 2, loopMs: 600, plays: 1 });
    expect(imageAnimation(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).webp().toBuffer())).toBeUndefined();
    expect(imageAnimation(apng(4, 0, 1, 4))).toEqual({ frames: 4, loopMs: 1000, plays: 0 });
    expect(imageAnimation(apng(1, 0, 1, 4))).toBeUndefined();
    expect(imageAnimation(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer())).toBeUndefined();
    expect(imageAnimation(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).jpeg().toBuffer())).toBeUndefined();
  });

  it('is not fooled or crashed by truncated or hostile bytes', () => {
    const whole = gif([RED, BLUE], 250, 0);
    for (let n = 0; n < whole.length; n += 7) expect(() => imageAnimation(whole.subarray(0, n))).not.toThrow();
    // A GIF header that claims blocks it does not have; chunk lengths past the end; junk.
    expect(imageAnimation(Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(7, 0xff), Buffer.alloc(20, 0x21)]))).toBeUndefined();
    const bad = apng(3, 0, 1, 10);
    bad.writeUInt32BE(0xfffffff0, 8);
    expect(imageAnimation(bad)).toBeUndefined();
    expect(imageAnimation(Buffer.from('RIFF\xff\xff\xff\xffWEBPVP8X\xff\xff\xff\xff', 'latin1'))).toBeUndefined();
    let seed = 7;
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.alloc(64, 0).map(() => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 255);
      expect(() => imageAnimation(Buffer.concat([Buffer.from('GIF89a'), junk]))).not.toThrow();
    }
  });
});

/** Renders four quiet seconds of a page served here with these files, recorded by rrweb's recorder; reads colours of the GIF. */
async function renderQuietPage(browser: Browser, html: string, files: Record<string, Buffer>) {
  const site = await startSite({
    generated: new Map<string, { body: Buffer; type: string }>([
      ['/page.html', { body: Buffer.from(html), type: 'text/html' }],
      ...Object.entries(files).map(([path, body]): [string, { body: Buffer; type: string }] => [path, { body, type: 'image/gif' }]),
    ]),
  });
  try {
    const rec = await recordJourney(site.origin, async ({ page: tab, origin, idle }) => {
      await tab.goto(`${origin}/page.html`);
      // Nothing happens on the page for four seconds but the images playing.
      await idle(4000);
      await tab.mouse.move(640, 700);
      await idle(300);
    });
    const evs = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
    const r = await renderRecording(evs, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, { browser });
    const out = decodeGif(r.gif);
    const k = out.width / 1280;
    /** The colour at recorded-page point (x, 228) of the frame shown at `ms`. */
    const colour = (ms: number, x: number) => {
      const f = frameAt(out, ms);
      const p = (Math.round(228 * k) * out.width + Math.round(x * k)) * 4;
      const [red, green, blue] = [f.rgba[p]!, f.rgba[p + 1]!, f.rgba[p + 2]!];
      return red > 200 && green < 60 && blue < 60 ? 'red' : blue > 200 && red < 60 ? 'blue' : green > 120 && red < 60 ? 'green' : `other(${red},${green},${blue})`;
    };
    /** The middle of every slot of the quiet stretch (after the page's load, before the last move). */
    const quietSlots: number[] = [];
    for (let ms = 800; ms <= Math.floor(out.durationMs) - 500; ms += 100) quietSlots.push(ms + 50);
    return { r, colour, quietSlots };
  } finally {
    await site.close();
  }
}

/** Each colour of a looping red and blue GIF (250 ms frames) for 2-3 slots at a time, again and again. */
function expectBlinking(seen: string[], where: string): void {
  expect(new Set(seen), `${where}: ${seen.join(' ')}`).toEqual(new Set(['red', 'blue']));
  const runs: number[] = [];
  for (let i = 1, run = 1; i <= seen.length; i++) {
    if (i < seen.length && seen[i] === seen[i - 1]) run++;
    else {
      runs.push(run);
      run = 1;
    }
  }
  // The first and last runs are cut by the stretch's ends.
  for (const run of runs.slice(1, -1)) expect(run, `${where}: ${seen.join(' ')}`).toBeGreaterThanOrEqual(2);
  for (const run of runs.slice(1, -1)) expect(run, `${where}: ${seen.join(' ')}`).toBeLessThanOrEqual(3);
  expect(runs.length, `${where}: ${seen.join(' ')}`).toBeGreaterThanOrEqual(8);
}

describe('animated images in a replay', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('plays an image between events as the user saw it, and one that plays once until it has', async () => {
    // Frames of 250 ms, red and blue, looping; and red then green played once (ending on green).
    const { r, colour, quietSlots } = await renderQuietPage(
      browser,
      `<!doctype html><html><body style="margin: 0; background: #fff">
        <img src="/blink.gif" style="position: absolute; left: 100px; top: 100px; width: 256px; height: 256px">
        <img src="/once.gif" style="position: absolute; left: 900px; top: 100px; width: 256px; height: 256px">
      </body></html>`,
      { '/blink.gif': gif([RED, BLUE], 250, 0), '/once.gif': gif([RED, GREEN], 250, -1) },
    );
    expectBlinking(quietSlots.map((ms) => colour(ms, 228)), 'the looping image');
    for (const ms of quietSlots) expect(colour(ms, 1028), `the image played once, at ${ms} ms`).toBe('green');
    // Pictures only where an image changed: not one per slot of the four seconds and more.
    expect(r.captured).toBeLessThan(r.frames + 5);
    console.log(`animated images: ${r.captured} pictures, ${r.frames} frames, ${r.gif.length} bytes, ${r.wallMs} ms`);
  });

  it('plays an animated CSS background, alone on its page (its style rule names it)', async () => {
    const { colour, quietSlots } = await renderQuietPage(
      browser,
      `<!doctype html><html><head><style>
        body { margin: 0; background: #fff; }
        .busy::before { content: ''; position: absolute; left: 100px; top: 100px; width: 256px; height: 256px; background: url(/blink-bg.gif) 0 0 / 256px 256px; }
      </style></head><body><div class="busy"></div></body></html>`,
      { '/blink-bg.gif': gif([RED, BLUE], 250, 0) },
    );
    expectBlinking(quietSlots.map((ms) => colour(ms, 228)), 'the CSS background');
  });

  it('shows a CSS background whose request is slow to reach Node (as on a loaded machine), and plays it', async () => {
    // The page asks for the image while a step lays it out; the request then takes a while through
    // the browser and Playwright to the asset proxy. Nothing else happens for four seconds: a render
    // that counted only what the proxy had seen skipped them all before the request arrived, and the
    // GIF never showed the image (seen in CI: white at every slot).
    const { colour, quietSlots } = await slowToNode(browser, '.gif', 400, () =>
      renderQuietPage(
        browser,
        `<!doctype html><html><body style="margin: 0; background: #fff">
          <div style="position: absolute; left: 100px; top: 100px; width: 256px; height: 256px; background: url('/blink-late.gif') 0 0 / 256px 256px"></div>
        </body></html>`,
        { '/blink-late.gif': gif([RED, BLUE], 250, 0) },
      ),
    );
    expectBlinking(quietSlots.map((ms) => colour(ms, 228)), 'the late background');
  });

  it('plays an animated image in a render that fell behind real time (its player came 5 s late)', async () => {
    // The player's script comes 5 s late (a slow start on a loaded machine): the render's first
    // frame is drawn well after the clock has passed its frame time.
    const { colour, quietSlots } = await slowToNode(browser, '/player.js', 5000, () =>
      renderQuietPage(
        browser,
        `<!doctype html><html><body style="margin: 0; background: #fff">
          <img src="/blink-slow.gif" style="position: absolute; left: 100px; top: 100px; width: 256px; height: 256px">
        </body></html>`,
        { '/blink-slow.gif': gif([RED, BLUE], 250, 0) },
      ),
    );
    expectBlinking(quietSlots.map((ms) => colour(ms, 228)), 'the image of a render behind the clock');
  });

  it('plays an animated background set in a style attribute, alone on its page', async () => {
    const { colour, quietSlots } = await renderQuietPage(
      browser,
      `<!doctype html><html><body style="margin: 0; background: #fff">
        <div style="position: absolute; left: 100px; top: 100px; width: 256px; height: 256px; background: url('/blink-inline.gif') 0 0 / 256px 256px"></div>
      </body></html>`,
      { '/blink-inline.gif': gif([RED, BLUE], 250, 0) },
    );
    expectBlinking(quietSlots.map((ms) => colour(ms, 228)), 'the inline background');
  });
});
