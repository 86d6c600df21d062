import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { bundleForPage } from '../src/render/player-bundle.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from '../src/render/types.js';
import { quiet, startCanary } from './support/canary-server.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { formatScores, scoreMoments } from './support/moments.js';
import { recordJourney, type Journey, type RecordOptions, type Recording } from './support/recorder.js';
import { startSite } from './support/site-server.js';

type Files = Record<string, { body: Buffer | string; type: string }>;

/**
 * Serves `files`, records `journey` on them with this canvas recording, and hands the recording to
 * `use` with a renderer of (edited) events from it, while the site is still up for the replay's assets.
 */
async function withRecording<T>(
  browser: Browser,
  files: Files,
  canvas: RecordOptions['canvas'],
  journey: Journey,
  use: (rec: Recording, render: (events: unknown[], options?: Partial<RenderOptions>) => Promise<Rendered>, origin: string) => Promise<T>,
): Promise<T> {
  const generated = new Map(Object.entries(files).map(([path, { body, type }]) => [path, { body: Buffer.from(body), type }]));
  const site = await startSite({ generated });
  try {
    const rec = await recordJourney(site.origin, journey, { canvas });
    return await use(rec, async (events, options = {}) => {
      const evs = parseRecording(Buffer.from(JSON.stringify(events))).events;
      const allowOrigins = [site.origin, ...(options.allowOrigins ?? [])];
      const r = await renderRecording(evs, { ...DEFAULT_RENDER_OPTIONS, startS: 0, ...options, allowOrigins }, { browser });
      return { r, out: decodeGif(r.gif), evs };
    }, site.origin);
  } finally {
    await site.close();
  }
}

interface Rendered {
  r: Awaited<ReturnType<typeof renderRecording>>;
  out: ReturnType<typeof decodeGif>;
  evs: RrwebEvent[];
}

/** The colour at recorded-page point (x, y) (a 1280 px wide page) of a decoded GIF frame's pixels. */
function pixel(out: Rendered['out'], rgba: Uint8ClampedArray, x: number, y: number): number[] {
  const k = out.width / 1280;
  const p = (Math.round(y * k) * out.width + Math.round(x * k)) * 4;
  return [rgba[p]!, rgba[p + 1]!, rgba[p + 2]!];
}

/**
 * Canvases recorded by rrweb's recorder, as PostHog records them when "capture canvas" is on:
 * pictures of each canvas a few times a second (or, with rrweb's plain recordCanvas, every 2D call).
 * The page below repaints a high-DPI canvas (800x600 pixels in a 400x300 box, as charts on such
 * screens are) in the next colour of red, blue, green every 600 ms; the GIF must show the colour
 * the canvas had at each moment, over the whole canvas.
 */
const PERIOD_MS = 600;
const CYCLE = ['red', 'blue', 'green'] as const;
const PAGE = `<!doctype html><html><body style="margin: 0; background: #fff">
  <canvas id="c" width="800" height="600" style="position: absolute; left: 100px; top: 100px; width: 400px; height: 300px"></canvas>
  <script>
    const ctx = document.getElementById('c').getContext('2d');
    const colours = ['#ff0000', '#0000ff', '#00a000'];
    window.t0 = Date.now();
    let shown = -1;
    (function paint() {
      const k = Math.floor((Date.now() - window.t0) / ${PERIOD_MS}) % 3;
      if (k !== shown) {
        shown = k;
        ctx.fillStyle = colours[k];
        ctx.fillRect(0, 0, 800, 600);
      }
      requestAnimationFrame(paint);
    })();
  </script>
</body></html>`;

/** Records `idleMs` of the page with this canvas recording, renders it from `startS`, reads the canvas's colours. */
async function renderCanvasPage(browser: Browser, canvas: RecordOptions['canvas'], startS = 0, idleMs = 4000) {
  let t0 = 0;
  const journey: Journey = async ({ page: tab, origin, idle }) => {
    await tab.goto(`${origin}/canvas.html`);
    t0 = (await tab.evaluate('window.t0')) as number;
    await idle(idleMs);
    await tab.mouse.move(640, 700);
    await idle(300);
  };
  return withRecording(browser, { '/canvas.html': { body: PAGE, type: 'text/html' } }, canvas, journey, async (rec, render) => {
    const { r, out, evs } = await render(rec.events, { startS });
    const clipStartTs = evs[0]!.timestamp + startS * 1000;
    /** The colour at recorded-page point (x, y) of the frame shown at `ms` of the GIF. */
    const colour = (ms: number, x: number, y: number) => {
      const [red, green, blue] = pixel(out, frameAt(out, ms).rgba, x, y) as [number, number, number];
      return red > 200 && green < 60 && blue < 60 ? 'red' : blue > 200 && red < 60 ? 'blue' : green > 120 && red < 60 && blue < 60 ? 'green' : `other(${red},${green},${blue})`;
    };
    /** The colour the live canvas had `lagMs` before the moment the GIF shows at `ms`. */
    const live = (ms: number, lagMs = 0) => CYCLE[Math.floor((clipStartTs + ms - lagMs - t0) / PERIOD_MS) % 3]!;
    /** Slot middles from when the canvas has its first colour to before the last mouse move. */
    const slots: number[] = [];
    for (let ms = Math.max(0, t0 - clipStartTs) + 400; ms <= Math.floor(out.durationMs) - 500; ms += 100) slots.push(ms + 50);
    return { r, colour, live, slots };
  });
}

/**
 * Each slot shows the live colour of its moment or of up to `lagMs` before (the recorder's
 * pictures come at its sampling rate, and are encoded before they are recorded), at least half show
 * the colour of their own moment, and every colour of the cycle is seen.
 */
function expectLiveColours(seen: { ms: number; colour: string }[], live: (ms: number, lagMs?: number) => string, lagMs: number, where: string): void {
  const text = seen.map((s) => `${s.ms}:${s.colour}`).join(' ');
  for (const s of seen) expect([live(s.ms), live(s.ms, lagMs)], `${where} at ${s.ms} ms: ${text}`).toContain(s.colour);
  const onTime = seen.filter((s) => s.colour === live(s.ms)).length;
  expect(onTime / seen.length, `${where}: ${text}`).toBeGreaterThanOrEqual(0.5);
  expect(new Set(seen.map((s) => s.colour)), where).toEqual(new Set(CYCLE));
}

/** Where the red block starts on the live page, in css px. */
async function livePosition(browser: Browser, url: string): Promise<number> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(url);
    return (await page.evaluate(`Math.round(document.querySelector('div[style*="ff0000"]').getBoundingClientRect().top)`)) as number;
  } finally {
    await page.close();
  }
}

describe('canvas recordings', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("shows a canvas recorded as pictures (PostHog's capture canvas, 4 a second), over the whole canvas", async () => {
    const { r, colour, live, slots } = await renderCanvasPage(browser, 4);
    // The canvas's middle, and its lower right corner: rrweb draws a picture unscaled, which covers
    // only the top left quarter of a canvas with twice its box's pixels.
    expectLiveColours(slots.map((ms) => ({ ms, colour: colour(ms, 300, 250) })), live, 400, 'middle');
    expectLiveColours(slots.map((ms) => ({ ms, colour: colour(ms, 480, 385) })), live, 400, 'lower right corner');
    console.log(`canvas pictures: ${r.captured} pictures, ${r.frames} frames, ${r.gif.length} bytes, ${r.wallMs} ms`);
  });

  it('shows a canvas recorded call by call (rrweb recordCanvas)', async () => {
    const { colour, live, slots } = await renderCanvasPage(browser, 'calls');
    expectLiveColours(slots.map((ms) => ({ ms, colour: colour(ms, 300, 250) })), live, 150, 'middle');
    expectLiveColours(slots.map((ms) => ({ ms, colour: colour(ms, 480, 385) })), live, 150, 'lower right corner');
  });

  it('starts a clip late in the page with the canvas as it was then (many pictures before the clip)', async () => {
    const { colour, live, slots } = await renderCanvasPage(browser, 4, 2.5, 6000);
    // The first frame comes from the pictures recorded before the clip: the last one of them.
    expect([live(50), live(50, 400)]).toContain(colour(50, 300, 250));
    expectLiveColours(slots.map((ms) => ({ ms, colour: colour(ms, 300, 250) })), live, 400, 'middle');
  });

  it("shows images a canvas draws by URL, recorded call by call (the page's own image through the asset proxy, and a data: URL)", async () => {
    const solid = (r: number, g: number) => sharp({ create: { width: 40, height: 40, channels: 3, background: { r, g, b: 0 } } }).png().toBuffer();
    const dataUrl = `data:image/png;base64,${(await solid(255, 0)).toString('base64')}`;
    const html = `<!doctype html><html><body style="margin: 0; background: #fff">
      <canvas id="c" width="400" height="200" style="position: absolute; left: 100px; top: 100px"></canvas>
      <script>
        const x = document.getElementById('c').getContext('2d');
        const a = new Image(); a.src = '/green.png';
        const b = new Image(); b.src = '${dataUrl}';
        setTimeout(() => { x.drawImage(a, 0, 0, 200, 200); x.drawImage(b, 200, 0, 200, 200); }, 500);
      </script>
    </body></html>`;
    const files = { '/images.html': { body: html, type: 'text/html' }, '/green.png': { body: await solid(0, 160), type: 'image/png' } };
    const journey: Journey = async ({ page: tab, origin, idle }) => {
      await tab.goto(`${origin}/images.html`);
      await idle(1500);
    };
    await withRecording(browser, files, 'calls', journey, async (rec, render) => {
      const { out } = await render(rec.events);
      const last = out.frames[out.frames.length - 1]!.rgba;
      expect(pixel(out, last, 200, 200), 'the page image').toEqual([0, 160, 0]);
      expect(pixel(out, last, 400, 200), 'the data: image').toEqual([255, 0, 0]);
    });
  });

  it("shows a canvas's content from the page's snapshot (rr_dataURL) when no canvas event follows, also once the page restyles it", async () => {
    const html = `<!doctype html><html><body style="margin: 0; background: #fff">
      <canvas id="c" width="400" height="300" style="position: absolute; left: 100px; top: 100px"></canvas>
      <script>
        const c = document.getElementById('c');
        const x = c.getContext('2d');
        x.fillStyle = '#0000ff';
        x.fillRect(0, 0, 400, 300);
        // The page restyles the canvas later: its style attribute is replaced in the replay too.
        setTimeout(() => { c.style.outline = '4px solid #000'; }, 400);
      </script>
    </body></html>`;
    const journey: Journey = async ({ page: tab, origin, idle }) => {
      await tab.goto(`${origin}/once.html`);
      await idle(800);
    };
    await withRecording(browser, { '/once.html': { body: html, type: 'text/html' } }, 4, journey, async (rec, render) => {
      // Only the snapshot's picture of the canvas: its sampled pictures are left out.
      const events = (rec.events as { type: number; data: { source?: number } }[]).filter((e) => !(e.type === 3 && e.data.source === 9));
      expect(JSON.stringify(events)).toContain('rr_dataURL');
      const { out } = await render(events);
      expect(out.frames.length, 'a frame before the restyle and one after').toBeGreaterThanOrEqual(2);
      for (const f of out.frames) expect(pixel(out, f.rgba, 300, 250), `frame at ${f.startMs} ms`).toEqual([0, 0, 255]);
    });
  });

  it('lays out a canvas sized by its attributes as the user saw it, canvas recording or not', async () => {
    // A chart's canvas sized only by width and height attributes, text after it, and no canvas
    // recording (rrweb's default): the replay's canvas shows no pixels (the iframe runs no scripts),
    // and once took no room either, pulling everything after it up by its height.
    const html = `<!doctype html><html><body style="margin: 0; background: #fff; font: 16px sans-serif">
      <div style="height: 100px"></div>
      <canvas width="600" height="300"></canvas><canvas width="400" height="200" style="width: 200px"></canvas>
      <div style="width: 300px; height: 100px; background: #ff0000"></div>
    </body></html>`;
    const journey: Journey = async ({ page: tab, origin, idle }) => {
      await tab.goto(`${origin}/layout.html`);
      await idle(600);
    };
    await withRecording(browser, { '/layout.html': { body: html, type: 'text/html' } }, undefined, journey, async (rec, render, origin) => {
      const { out } = await render(rec.events);
      const last = out.frames[out.frames.length - 1]!.rgba;
      /** The first row of the recorded page (in its css px) where column x is red, in the last frame. */
      const redFrom = (x: number) => {
        for (let y = 0; y < 800; y++) {
          const [r, g, b] = pixel(out, last, x, y);
          if (r! > 200 && g! < 60 && b! < 60) return y;
        }
        return -1;
      };
      // Live: 100 px, then the line of canvases (300 px tall, on the text's baseline), then the red block.
      const top = await livePosition(browser, `${origin}/layout.html`);
      expect(Math.abs(redFrom(150) - top), `red block from ${redFrom(150)} px, live ${top} px`).toBeLessThanOrEqual(2);
    });
  });

  it('shows a Chart.js chart as the user saw it: drawn, a bar hovered (its tooltip), a series hidden from the legend', async () => {
    // A chart library we did not write, with its own load animation, hover tooltip and legend, all
    // drawn in one canvas; recorded as PostHog records canvases (pictures, 4 a second, WebP 0.4).
    const chartJs = await readFile(join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'));
    const html = `<!doctype html><html><head><script src="/chart.js"></script></head>
      <body style="margin: 0; background: #fff; font: 16px sans-serif">
        <h1 style="margin: 24px">Signups</h1>
        <div style="position: relative; width: 720px; height: 360px; margin-left: 24px"><canvas id="chart"></canvas></div>
        <script>
          new Chart(document.getElementById('chart'), {
            type: 'bar',
            data: {
              labels: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
              datasets: [
                { label: 'Visitors', data: [120, 190, 150, 220, 260, 90, 70], backgroundColor: '#3b82f6' },
                { label: 'Signups', data: [30, 45, 38, 60, 72, 20, 15], backgroundColor: '#f97316' },
              ],
            },
            options: { maintainAspectRatio: false },
          });
        </script>
      </body></html>`;
    const files = { '/chart.html': { body: html, type: 'text/html' }, '/chart.js': { body: chartJs, type: 'text/javascript' } };
    const journey: Journey = async ({ page: tab, origin, idle, shotWhenQuiet }) => {
      await tab.goto(`${origin}/chart.html`);
      await shotWhenQuiet('drawn', 700);
      const box = (await tab.locator('#chart').boundingBox())!;
      // Thursday's bars: the fourth of seven groups, low in the plot.
      await tab.mouse.move(box.x + box.width * 0.53, box.y + box.height * 0.8, { steps: 5 });
      await shotWhenQuiet('tooltip', 700);
      // The legend's second entry (Signups): clicking it hides that series, animated.
      await tab.mouse.click(box.x + box.width * 0.56, box.y + 10);
      await tab.mouse.move(box.x + box.width * 0.9, box.y + box.height + 60, { steps: 3 });
      await shotWhenQuiet('series-hidden', 700);
      await idle(300);
    };
    await withRecording(browser, files, 4, journey, async (rec, render) => {
      const framed = { width: 1280, height: 800 };
      const { r, evs } = await render(rec.events);
      const scores = await scoreMoments(r.gif, rec.shots, evs[0]!.timestamp, framed);
      // The control: the same recording without its canvas events, as every replay of it was before.
      const blank = await render((rec.events as { type: number; data: { source?: number } }[]).filter((e) => !(e.type === 3 && e.data.source === 9)));
      const blankScores = await scoreMoments(blank.r.gif, rec.shots, evs[0]!.timestamp, framed);
      console.log(`${formatScores('Chart.js, canvas replayed', scores)}\n${formatScores('Chart.js, canvas events left out', blankScores)}`);
      expect(scores.map((s) => s.label)).toEqual(['drawn', 'tooltip', 'series-hidden']);
      for (const s of scores) expect(s.ssim, formatScores('Chart.js', scores)).toBeGreaterThanOrEqual(0.95);
      // Each moment is the chart's: without its pictures the same frames miss it by far more.
      scores.forEach((s, i) => expect(s.ssim - blankScores[i]!.ssim, s.label).toBeGreaterThan(0.02));
    });
  });

  it('finds a canvas among 200,000 siblings in a serialized page (a list that long once overflowed the call stack)', async () => {
    const script = await bundleForPage({
      contents: `import { CanvasReplay } from './player/canvas.ts';
        const rows = Array.from({ length: 200000 }, (_, i) => ({ id: i + 10, tagName: 'li', attributes: {}, childNodes: [] }));
        const canvas = { id: 5, tagName: 'canvas', attributes: { rr_dataURL: 'data:image/png;base64,AAAA' }, childNodes: [] };
        const replay = new CanvasReplay(() => null);
        try {
          replay.addNodes({ id: 1, tagName: 'ul', attributes: {}, childNodes: [...rows, canvas] });
          window.found = replay.given.get(5) ?? 'none';
        } catch (e) {
          window.found = String(e);
        }`,
      resolveDir: process.cwd(),
    });
    const page = await browser.newPage();
    try {
      await page.addScriptTag({ content: script });
      expect(await page.evaluate('window.found')).toBe('data:image/png;base64,AAAA');
    } finally {
      await page.close();
    }
  });

  it('runs nothing a canvas recording names (no constructor of its choosing, no getter it defines), and renders through broken canvas data', async () => {
    const canary = await startCanary();
    const journey: Journey = async ({ page: tab, origin, idle }) => {
      await tab.goto(`${origin}/canvas.html`);
      await idle(1500);
    };
    try {
      await withRecording(browser, { '/canvas.html': { body: PAGE, type: 'text/html' } }, 'calls', journey, async (rec, render) => {
        const events = rec.events as { type: number; timestamp: number; data: { source?: number; id?: number } }[];
        const drawn = events.find((e) => e.type === 3 && e.data.source === 9)!;
        const ping = (why: string) => `fetch('${canary.origin}/script-ran?case=${why}'); new Image().src = '${canary.origin}/script-ran?case=${why}-img';`;
        const at = (k: number, data: object) => ({ type: 3, timestamp: drawn.timestamp + 5 + k, data: { source: 9, id: drawn.data.id, type: 0, ...data } });
        // rrweb's own canvas replay would build these arguments (`new window[rr_type](...args)`) and
        // call the getter on reading `fillRect`: code of the recording's choosing in the player page.
        const hostile = at(0, {
          commands: [
            { property: '__defineGetter__', args: ['fillRect', { rr_type: 'Function', args: [ping('getter')] }] },
            { property: 'fillRect', args: [0, 0, 10, 10] },
            { property: 'drawImage', args: [{ rr_type: 'Function', args: [ping('constructor')] }, 0, 0] },
            { property: 'constructor', args: [] },
            { property: 'fillStyle', args: [{ rr_type: 'Function', args: [ping('setter')] }], setter: true },
          ],
        });
        // Broken or odd shapes: the render goes on and draws what it can.
        let deep: unknown = 1;
        for (let i = 0; i < 50; i++) deep = [deep];
        const picture = (bitmapArgs: unknown) => ({ commands: [{ property: 'clearRect', args: [0, 0, 1, 1] }, { property: 'drawImage', args: [{ rr_type: 'ImageBitmap', args: bitmapArgs }, 0, 0] }] });
        const broken = [
          at(1, picture('no')),
          at(2, picture([{ rr_type: 'Blob', data: [{ rr_type: 'ArrayBuffer', base64: '%%%' }], type: 'image/webp' }])),
          at(3, { commands: [{ property: 'putImageData', args: [{ rr_type: 'ImageData', args: [{ rr_type: 'Uint8ClampedArray', args: [[1, 2, 3]] }, 1e9, 1e9] }, 0, 0] }] }),
          at(4, { commands: [{ property: 'setLineDash', args: [deep] }, { property: 'fillRect' }, null, { property: 'arc', args: [1, 2, 3, 'x', {}] }] }),
          at(5, { type: 1, commands: [{ property: 'clear', args: [16384] }] }),
          at(6, { property: 'fillRect', args: [0, 0, 5, 5] }),
        ];
        const all = [...events, hostile, ...broken].sort((a, b) => a.timestamp - b.timestamp);
        const { r } = await render(all, { width: 400, allowOrigins: [canary.origin] });
        await quiet([canary]);
        expect(r.frames).toBeGreaterThan(0);
        expect(canary.hits('/script-ran').map((q) => q.path)).toEqual([]);
      });
    } finally {
      await canary.close();
    }
  });
});

