import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { AssetCache } from '../src/render/asset-cache.js';
import { prefetchUrls } from '../src/render/asset-prefetch.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { fidelityJourney } from './support/journeys.js';
import { recordJourney } from './support/recorder.js';
import { startSite, type SiteServer } from './support/site-server.js';

/** How long the shop takes to answer each request once it is "across the internet". */
const LATENCY_MS = 400;

let site: SiteServer | undefined;
let events: RrwebEvent[];
let origin: string;

beforeAll(async () => {
  const recorded = await startSite();
  origin = recorded.origin;
  const rec = await recordJourney(origin, fidelityJourney);
  events = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
  await recorded.close();
  // The same shop on the same origin, now slow to answer, with the caching headers of a CDN.
  site = await startSite({ port: recorded.port, latencyMs: LATENCY_MS, cacheControl: 'public, max-age=3600' });
});

afterAll(async () => {
  await site?.close();
});

describe('fetching a recording\'s assets before the page asks', () => {
  it('reads the web fonts and pictures a recorded page asks for at once, and stops at its bound', () => {
    const urls = prefetchUrls(events);
    expect(new Set(urls).size).toBe(urls.length);
    expect(urls.every((u) => u.startsWith(`${origin}/`))).toBe(true);
    const paths = urls.map((u) => new URL(u).pathname);
    // The shop's two faces (site.css, inlined by rrweb) and its pictures, the first page's first.
    expect(paths).toEqual(expect.arrayContaining(['/fonts/lobster.woff2', '/fonts/merriweather.woff2', '/img/hero.jpg', '/img/product-0.jpg']));
    expect(paths.indexOf('/img/hero.jpg')).toBeLessThan(paths.indexOf('/img/product-8.jpg'));
    expect(prefetchUrls(events, 2)).toEqual(urls.slice(0, 2));
  });

  it('fetches them while Chromium starts: a slow site costs the first steps less', async () => {
    // A render in a browser of its own, as the CLI's: the fetches have Chromium's start and the
    // player's load to come in (with a warm browser, as in the worker, only the load).
    const render = (prefetchAssets: boolean) => renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [origin] }, { prefetchAssets });
    const off = await render(false);
    const on = await render(true);
    expect(off.assetsPrefetched).toEqual({ urls: 0, used: 0 });
    expect(on.assetsPrefetched.urls).toBeGreaterThanOrEqual(4);
    expect(on.assetsPrefetched.used).toBeGreaterThanOrEqual(4);
    expect(on.assetFailures).toBe(0);
    // Without it the first page waits for its faces and pictures, a round trip or more each time
    // the page finds more to load; with it they are in before the page asks.
    expect(off.timings.assetWaitMs).toBeGreaterThan(LATENCY_MS);
    expect(on.timings.assetWaitMs).toBeLessThan(off.timings.assetWaitMs - LATENCY_MS / 2);
  });
});

describe("keeping a site's assets across a worker's renders", () => {
  it('answers the next render from the cache, without asking the site again, and the GIF is the same', async () => {
    const browser = await launchBrowser();
    try {
      const cache = new AssetCache({ maxBytes: 64 << 20, maxAgeMs: 600_000 });
      const render = (allowOrigins: string[], assetCache?: AssetCache) => renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins }, { browser, assetCache });
      // The same browser for every render, as a worker's: only the cache differs between them.
      const alone = await render([origin]);
      const first = await render([origin], cache);
      const asked = site!.requests.length;
      const second = await render([origin], cache);
      const assetPaths = (from: number) => site!.requests.slice(from).filter((p) => /^\/(img|fonts)\//.test(p) || p.endsWith('.css'));
      expect(first.assetsFromCache).toBe(0);
      expect(cache.counts.stored).toBeGreaterThanOrEqual(4);
      expect(second.assetsFromCache).toBeGreaterThanOrEqual(4);
      expect(assetPaths(asked)).toEqual([]);
      expect(second.assetFailures).toBe(0);
      // The steps do not wait for the site (400 ms a request). Not compared with the first render's
      // wait: the prefetch hides that behind the render's setup, wholly on a fast machine (59 ms,
      // CI of 4 Dec), so only the cache's own bound is the same everywhere.
      expect(second.timings.assetWaitMs).toBeLessThan(LATENCY_MS / 2);
      expect(second.gif.equals(alone.gif)).toBe(true);

      // A render whose rules do not let it reach this origin gets none of it from the cache.
      const strict = await render([], cache);
      expect(strict.assetsFromCache).toBe(0);
      expect(strict.assetFailures).toBeGreaterThan(0);
    } finally {
      await browser.close();
    }
  });
});

describe('the URLs read from a recording', () => {
  it('takes http(s) URLs from snapshots, added nodes and images given a source, and walks a snapshot nested deeper than the stack', () => {
    let deep: Record<string, unknown> = { type: 2, tagName: 'img', attributes: { src: 'https://cdn.example/deep.png' }, childNodes: [] };
    for (let i = 0; i < 100_000; i++) deep = { type: 2, tagName: 'div', attributes: {}, childNodes: [deep] };
    const snapshot = {
      type: 2,
      timestamp: 1,
      data: {
        node: {
          type: 0,
          childNodes: [
            { type: 2, tagName: 'img', attributes: { src: 'data:image/png;base64,AAAA' }, childNodes: [] },
            { type: 2, tagName: 'img', attributes: { src: 'javascript:alert(1)' }, childNodes: [] },
            { type: 2, tagName: 'img', attributes: { src: 'https://cdn.example/lazy.png', loading: 'lazy' }, childNodes: [] },
            { type: 2, tagName: 'IMG', attributes: { src: 'https://cdn.example/a.png', srcset: 'https://cdn.example/a2.png 2x' }, childNodes: [] },
            { type: 2, tagName: 7, attributes: 'not an object', childNodes: 'nor an array' },
            { id: 41, type: 2, tagName: 'img', attributes: {}, childNodes: [] },
            { id: 42, type: 2, tagName: 'script', attributes: {}, childNodes: [] },
            { type: 2, tagName: 'style', attributes: { _cssText: "@font-face{font-family:x;src:url(\"https://cdn.example/x.woff2\") format('woff2'),url(https://cdn.example/x.woff)} .a{background:url(https://cdn.example/bg.png)}" } },
            deep,
          ],
        },
      },
    };
    const added = { type: 3, timestamp: 2, data: { source: 0, adds: [null, { parentId: 1, node: { type: 2, tagName: 'img', attributes: { src: 'https://cdn.example/later.png' }, childNodes: [] } }], removes: [], texts: [], attributes: [] } };
    const moved = { type: 3, timestamp: 3, data: { source: 1, adds: [{ node: { type: 2, tagName: 'img', attributes: { src: 'https://cdn.example/not-a-mutation.png' } } }] } };
    // A script giving an image its source later (rrweb names the element by id), and a change to
    // something that is not an image.
    const sourced = { type: 3, timestamp: 4, data: { source: 0, adds: [], removes: [], texts: [], attributes: [{ id: 41, attributes: { src: 'https://cdn.example/set-later.png' } }, { id: 42, attributes: { src: 'https://cdn.example/a-script.js' } }, null] } };
    expect(prefetchUrls([snapshot, added, moved, sourced])).toEqual(['https://cdn.example/x.woff2', 'https://cdn.example/deep.png', 'https://cdn.example/later.png', 'https://cdn.example/set-later.png']);
  });
});
