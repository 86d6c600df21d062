import { createServer, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetCache, type CachedResponse } from '../src/render/asset-cache.js';
import { AssetProxy } from '../src/render/asset-proxy.js';
import { NetworkPolicy } from '../src/render/network-policy.js';
import { waitUntil } from './support/service-procs.js';

const DAY_MS = 86_400_000;

/** Each path answers with the caching headers its name says, as sites do. */
const ANSWERS: Record<string, { status?: number; headers: OutgoingHttpHeaders; bytes?: number }> = {
  '/max-age': { headers: { 'cache-control': 'public, max-age=3600' } },
  '/short': { headers: { 'cache-control': 'max-age=1' } },
  '/immutable-font': { headers: { 'cache-control': 'public, max-age=31536000, immutable', 'content-type': 'font/woff2' } },
  // A plain static server: no freshness of its own, a file changed ten days ago.
  '/last-modified': { headers: { 'last-modified': new Date(Date.now() - 10 * DAY_MS).toUTCString() } },
  '/no-store': { headers: { 'cache-control': 'no-store' } },
  '/private': { headers: { 'cache-control': 'private, max-age=3600' } },
  '/no-cache': { headers: { 'cache-control': 'no-cache' } },
  '/nothing-said': { headers: {} },
  '/expired': { headers: { expires: new Date(Date.now() - DAY_MS).toUTCString() } },
  '/vary-star': { headers: { 'cache-control': 'public, max-age=3600', vary: '*' } },
  '/missing': { status: 404, headers: { 'cache-control': 'public, max-age=3600' } },
  '/big': { headers: { 'cache-control': 'public, max-age=3600' }, bytes: 300_000 },
  // A temporary redirect (to a signed URL, say) to an answer that may be kept under its own URL.
  '/redirect': { status: 302, headers: { location: '/max-age?via-redirect' } },
};

describe("the worker's asset cache", () => {
  let server: Server;
  let origin: string;
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const answer = ANSWERS[new URL(req.url ?? '/', 'http://x').pathname];
      if (!answer) return void res.writeHead(404).end();
      res.writeHead(answer.status ?? 200, { date: new Date().toUTCString(), ...answer.headers });
      res.end(Buffer.alloc(answer.bytes ?? 100, 7));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Fetches `path` under `policy` as the asset proxy does and offers the answer to `cache`. */
  async function fetchInto(cache: AssetCache, policy: NetworkPolicy, path: string): Promise<boolean> {
    const url = origin + path;
    const r = await policy.fetch(url);
    const answer: CachedResponse = { status: r.status, contentType: r.contentType, body: r.body };
    return cache.offer(policy.scope, url, answer, r.headers);
  }

  it('keeps what HTTP lets a shared cache reuse without asking the site, and nothing else', async () => {
    const cache = new AssetCache({ maxBytes: 8 << 20, maxAgeMs: 600_000 });
    const policy = new NetworkPolicy({ allowOrigins: [origin] });
    const kept: Record<string, boolean> = {};
    for (const path of Object.keys(ANSWERS)) kept[path] = await fetchInto(cache, policy, path);
    expect(kept).toEqual({
      '/max-age': true,
      '/short': true,
      '/immutable-font': true,
      '/last-modified': true,
      '/no-store': false,
      '/private': false,
      '/no-cache': false,
      '/nothing-said': false,
      '/expired': false,
      '/vary-star': false,
      '/missing': false,
      '/big': true,
      '/redirect': true,
    });
    for (const [path, yes] of Object.entries(kept)) expect(cache.has(policy.scope, origin + path), path).toBe(yes);
    const hit = cache.get(policy.scope, `${origin}/immutable-font`);
    expect(hit).toMatchObject({ status: 200, contentType: 'font/woff2' });
    expect(hit!.body.length).toBe(100);
    expect(cache.counts).toEqual({ hits: 1, stored: 6 });
  });

  it("is what the asset proxy asks before the site, and offers what it fetched, but not an answer it was redirected to", async () => {
    const cache = new AssetCache({ maxBytes: 8 << 20, maxAgeMs: 600_000 });
    const policy = new NetworkPolicy({ allowOrigins: [origin] });
    const proxy = () => new AssetProxy(new NetworkPolicy({ allowOrigins: [origin] }), Promise.resolve({ html: '', js: '' }), undefined, cache);
    const urls = ['/max-age', '/redirect', '/no-store'].map((p) => origin + p);
    const asked = requests.length;
    // The prefetch goes through the same fetch as the page's requests (no browser needed to drive it).
    const first = proxy();
    first.startPrefetch(urls);
    await waitUntil('the prefetch to fetch all three (one redirected)', () => requests.length - asked >= 4, 5_000, 10);
    await waitUntil('the cacheable answer to be kept', () => cache.has(policy.scope, urls[0]!), 5_000, 10);
    expect(cache.has(policy.scope, urls[1]!)).toBe(false);
    expect(cache.has(policy.scope, urls[2]!)).toBe(false);
    expect(first.prefetch.urls).toBe(3);

    // The next render fetches ahead only what the cache does not hold.
    const next = proxy();
    const before = requests.length;
    next.startPrefetch(urls);
    await waitUntil('the next prefetch to fetch what the cache lacks', () => requests.length - before >= 3, 5_000, 10);
    await new Promise((r) => setTimeout(r, 200));
    expect(requests.slice(before).sort()).toEqual(['/max-age?via-redirect', '/no-store', '/redirect']);
    expect(next.prefetch.urls).toBe(2);
  });

  it('forgets an answer when the site says it is stale, and at its own longest age whatever the site says', async () => {
    const cache = new AssetCache({ maxBytes: 8 << 20, maxAgeMs: 1_500 });
    const policy = new NetworkPolicy({ allowOrigins: [origin] });
    expect(await fetchInto(cache, policy, '/short')).toBe(true);
    expect(await fetchInto(cache, policy, '/max-age')).toBe(true);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(cache.get(policy.scope, `${origin}/short`)).toBeUndefined();
    expect(cache.get(policy.scope, `${origin}/max-age`)).toBeDefined();
    await new Promise((r) => setTimeout(r, 600));
    expect(cache.get(policy.scope, `${origin}/max-age`)).toBeUndefined();
  });

  it('never hands an answer fetched under one set of allowed origins to a render under another', async () => {
    const cache = new AssetCache({ maxBytes: 8 << 20, maxAgeMs: 600_000 });
    const allowed = new NetworkPolicy({ allowOrigins: [origin, 'https://cdn.example.com'] });
    expect(await fetchInto(cache, allowed, '/max-age')).toBe(true);
    const url = `${origin}/max-age`;
    // The same rules spelled in another order share the answer.
    expect(cache.get(new NetworkPolicy({ allowOrigins: ['https://cdn.example.com:443', `${origin}/`] }).scope, url)).toBeDefined();
    // A render that may not reach this (loopback) origin gets nothing from the cache, and its own fetch is refused.
    const strict = new NetworkPolicy({ allowOrigins: [] });
    expect(cache.get(strict.scope, url)).toBeUndefined();
    await expect(strict.fetch(url)).rejects.toThrow(/loopback/);
    // Nor does one with other origins allowed, or a smaller cap on a response.
    expect(cache.get(new NetworkPolicy({ allowOrigins: [origin] }).scope, url)).toBeUndefined();
    expect(cache.get(new NetworkPolicy({ allowOrigins: [origin, 'https://cdn.example.com'], maxResponseBytes: 50 }).scope, url)).toBeUndefined();
  });

  it('holds at most its bytes, the least recently used going first, and no one answer of more than a quarter of them', async () => {
    const cache = new AssetCache({ maxBytes: 2 << 20, maxAgeMs: 600_000 });
    const policy = new NetworkPolicy({ allowOrigins: [origin] });
    for (let i = 0; i < 10; i++) expect(await fetchInto(cache, policy, `/big?${i}`)).toBe(true);
    expect(cache.size).toBeLessThanOrEqual(2 << 20);
    expect(cache.has(policy.scope, `${origin}/big?0`)).toBe(false);
    expect(cache.has(policy.scope, `${origin}/big?9`)).toBe(true);
    // Used again, an old one outlives those not used since.
    const kept = [...Array(10).keys()].filter((i) => cache.has(policy.scope, `${origin}/big?${i}`));
    expect(cache.get(policy.scope, `${origin}/big?${kept[0]}`)).toBeDefined();
    expect(await fetchInto(cache, policy, '/big?10')).toBe(true);
    expect(cache.has(policy.scope, `${origin}/big?${kept[0]}`)).toBe(true);
    expect(cache.has(policy.scope, `${origin}/big?${kept[1]}`)).toBe(false);

    const small = new AssetCache({ maxBytes: 1 << 20, maxAgeMs: 600_000 });
    expect(await fetchInto(small, policy, '/big')).toBe(false);
    expect(small.size).toBe(0);
  });
});
