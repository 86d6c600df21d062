import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AssetProxy, PLAYER_ORIGIN } from '../src/render/asset-proxy.js';
import { launchBrowser } from '../src/render/browser.js';
import { PageLoads } from '../src/render/page-loads.js';
import { isRasterizerError } from '../src/errors.js';
import { NetworkPolicy, forbiddenAddressReason } from '../src/render/network-policy.js';

const refusal = { code: 'network_policy' };
import { playerAssets } from '../src/render/player-bundle.js';
import { startCanary, type CanaryServer } from './support/canary-server.js';

/**
 * The policy and the proxy against what a hostile recording (or the sites it points at) can do
 * that the browser-level tests cannot easily stage: odd IPv6 spellings, DNS answers, redirect
 * chains, responses that together exhaust memory, and response headers that name other URLs.
 */

// Names under .test never resolve for real; these answers stand in for a hostile DNS server.
const dnsAnswers = new Map<string, { address: string; family: number }[] | 'hang'>();
vi.mock('node:dns/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:dns/promises')>();
  const lookup = (host: string, opts: unknown) => {
    const answer = dnsAnswers.get(host);
    if (answer === 'hang') return new Promise(() => {});
    if (answer) return Promise.resolve(answer);
    return (real.lookup as (h: string, o: unknown) => Promise<unknown>)(host, opts);
  };
  return { ...real, default: { ...real, lookup }, lookup };
});

describe('forbiddenAddressReason: IPv6 spellings that lead back inside', () => {
  it.each([
    ['::7f00:1', 'IPv4-compatible 127.0.0.1'],
    ['::127.0.0.1', 'IPv4-compatible, dotted'],
    ['::a9fe:a9fe', 'IPv4-compatible metadata'],
    ['::ffff:0:7f00:1', 'SIIT-translated 127.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:1', 'mapped, uncompressed'],
    ['0000:0000:0000:0000:0000:FFFF:127.0.0.1', 'mapped, upper case, dotted'],
    ['64:ff9b:1::a00:1', 'local-use NAT64 prefix'],
    ['64:ff9b::a9fe:a9fe', 'well-known NAT64 of the metadata address'],
    ['2002:7f00::1', '6to4 of 127.0.0.0/8, compressed'],
    ['2002:a00:1::5', '6to4 of 10.0.0.1'],
    ['2002:c0a8:101::', '6to4 of 192.168.1.1'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['fec0::1', 'site-local'],
    ['3fff::1', 'documentation (RFC 9637)'],
  ])('refuses %s (%s)', (ip) => {
    expect(forbiddenAddressReason(ip)).toBeDefined();
  });

  it.each(['2606:4700::1111', '2a00:1450:4001:80b::200e', '2002:808:808::1', '64:ff9b::808:808', '::ffff:1.1.1.1'])('allows public %s', (ip) => {
    expect(forbiddenAddressReason(ip)).toBeUndefined();
  });
});

describe('NetworkPolicy against hostile servers and DNS', () => {
  let site: Server;
  let origin: string;
  let canary: CanaryServer;
  let sent = 0;

  beforeAll(async () => {
    canary = await startCanary();
    site = createServer((req, res) => {
      const path = req.url ?? '/';
      const to = (location: string, status = 302) => res.writeHead(status, { location }).end();
      if (path === '/bad-location') return to('http://[::1');
      if (path === '/to-canary-localhost') return to(`http://localhost:${canary.port}/c/redirect-localhost`, 301);
      if (path === '/to-canary-v6') return to(`http://[::1]:${canary.port}/c/redirect-v6`, 307);
      if (path === '/to-canary-decimal') return to(`http://2130706433:${canary.port}/c/redirect-decimal`, 308);
      if (path === '/to-canary-mapped') return to(`http://[::ffff:7f00:1]:${canary.port}/c/redirect-mapped`, 303);
      if (path === '/to-metadata') return to('http://169.254.169.254/latest/meta-data/');
      if (path === '/to-file') return to('file:///etc/passwd');
      if (path === '/to-rebind') return to('http://rebind.test/secret');
      if (path.startsWith('/stream')) {
        // 4 MiB in 64 KiB chunks, a little at a time: a client that stops reading stops the server.
        const chunk = Buffer.alloc(64 * 1024, 1);
        let n = 0;
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const timer = setInterval(() => {
          if (n++ >= 64 || res.destroyed) {
            clearInterval(timer);
            res.end();
            return;
          }
          res.write(chunk);
          sent += chunk.length;
        }, 5);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.end('ok');
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    site.closeAllConnections();
    await new Promise<void>((r) => site.close(() => r()));
    await canary.close();
  });

  it('refuses every redirect from an allow-listed origin that leads to loopback, metadata, file: or a name resolving inside', async () => {
    dnsAnswers.set('rebind.test', [{ address: '10.0.0.7', family: 4 }]);
    const policy = new NetworkPolicy({ allowOrigins: [origin] });
    for (const path of ['/to-canary-localhost', '/to-canary-v6', '/to-canary-decimal', '/to-canary-mapped', '/to-metadata', '/to-file', '/to-rebind']) {
      await expect(policy.fetch(`${origin}${path}`), path).rejects.toMatchObject(refusal);
    }
    expect(canary.requests).toEqual([]);
    expect(canary.connections).toBe(0);
  });

  it('control: the same redirects do reach the canary when its spellings are allow-listed', async () => {
    const policy = new NetworkPolicy({
      allowOrigins: [origin, `http://localhost:${canary.port}`, `http://127.0.0.1:${canary.port}`, ...(canary.ipv6 ? [`http://[::1]:${canary.port}`] : [])],
    });
    await policy.fetch(`${origin}/to-canary-localhost`);
    await policy.fetch(`${origin}/to-canary-decimal`);
    if (canary.ipv6) await policy.fetch(`${origin}/to-canary-v6`);
    expect(canary.requests.length).toBe(canary.ipv6 ? 3 : 2);
    canary.reset();
  });

  it('refuses a host when any of its addresses is private (one public answer does not launder a private one)', async () => {
    dnsAnswers.set('mixed.test', [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
    dnsAnswers.set('mapped.test', [{ address: '::ffff:169.254.169.254', family: 6 }]);
    dnsAnswers.set('six-to-four.test', [{ address: '2002:a9fe:a9fe::1', family: 6 }]);
    for (const host of ['mixed.test', 'mapped.test', 'six-to-four.test']) {
      await expect(new NetworkPolicy().fetch(`http://${host}/x`), host).rejects.toThrow(/resolves to/);
    }
  });

  it('a DNS lookup that never answers ends at the request deadline', async () => {
    dnsAnswers.set('hang.test', 'hang');
    const started = Date.now();
    await expect(new NetworkPolicy({ requestTimeoutMs: 300 }).fetch('http://hang.test/x')).rejects.toThrow(/timed out resolving/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a redirect to something that is not a URL is a refusal, not a crash', async () => {
    await expect(new NetworkPolicy({ allowOrigins: [origin] }).fetch(`${origin}/bad-location`)).rejects.toMatchObject(refusal);
  });

  it('concurrent responses are held to the per-render total while they stream, not after', async () => {
    // Eight 4 MiB responses under an 8 MiB per-response cap and a 6 MiB total: counted only at
    // the end, all eight (32 MiB) would be in memory at once before the total was checked.
    sent = 0;
    const policy = new NetworkPolicy({ allowOrigins: [origin], maxResponseBytes: 8 * 1024 * 1024, maxTotalBytes: 6 * 1024 * 1024 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => policy.fetch(`${origin}/stream/${i}`)));
    const refused = results.filter((r) => r.status === 'rejected' && isRasterizerError(r.reason, 'network_policy') && /bytes of assets/.test(r.reason.message));
    await new Promise((r) => setTimeout(r, 100));
    console.info(`total cap: ${refused.length} of 8 refused, ${(sent / 1024 / 1024).toFixed(1)} MiB sent by the server`);
    expect(refused.length).toBeGreaterThanOrEqual(6);
    // The server stopped soon after the total was reached (some data is in flight in socket buffers).
    expect(sent).toBeLessThan(12 * 1024 * 1024);
  });
});

describe('AssetProxy', () => {
  let browser: Browser;
  let allowed: CanaryServer;
  let canary: CanaryServer;
  let slow: Server;
  let slowOrigin: string;
  let release: (() => void) | undefined;

  beforeAll(async () => {
    browser = await launchBrowser();
    allowed = await startCanary();
    canary = await startCanary();
    // Headers that name other URLs: the proxy passes on the content type only, so none of them can act.
    allowed.pages.set('/headers.html', '<!doctype html><p>headers</p>');
    slow = createServer((req, res) => {
      if (req.url === '/headers') {
        res.writeHead(200, {
          'content-type': 'text/html',
          link: `<${canary.origin}/c/link-header/x>; rel=preload; as=image, <${canary.origin}/c/link-header-css/x>; rel=stylesheet`,
          refresh: `0;url=${canary.origin}/c/refresh-header/x`,
          'set-cookie': 'hostile=1; Path=/',
        });
        res.end(`<!doctype html><p>with headers</p>`);
        return;
      }
      release = () => res.end('late');
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    slowOrigin = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser.close();
    await allowed.close();
    await canary.close();
    slow.closeAllConnections();
    await new Promise<void>((r) => slow.close(() => r()));
  });

  async function playerWithProxy(allowOrigins: string[]) {
    const context = await browser.newContext();
    const proxy = new AssetProxy(new NetworkPolicy({ allowOrigins }), playerAssets());
    await proxy.attach(context);
    const page = await context.newPage();
    await page.goto(`${PLAYER_ORIGIN}/`);
    return { context, proxy, page };
  }

  it('counts a request as loading from the moment the page makes it until it has loaded; waitIdle returns then, not at its timeout', async () => {
    const { context, proxy, page } = await playerWithProxy([slowOrigin]);
    try {
      const cdp = await context.newCDPSession(page);
      const loads = await PageLoads.follow(cdp);
      release = undefined;
      // A slow way from the page through the browser to Node, as on a loaded machine: the request
      // reaches the proxy half a second after the page made it.
      let reachedProxy = false;
      await context.route(`${slowOrigin}/**`, async (route) => {
        await new Promise((r) => setTimeout(r, 500));
        reachedProxy = true;
        await route.fallback();
      });
      const before = loads.activity;
      // The test tsconfig has no DOM types: page code goes as strings. Sent on the session the loads
      // are followed on, as the player's steps are: the request is known when the call answers.
      await cdp.send('Runtime.evaluate', { expression: `new Image().src = ${JSON.stringify(`${slowOrigin}/slow.png`)}; 0` });
      expect(reachedProxy).toBe(false);
      expect(loads.inflight).toBe(1);
      expect(loads.activity).toBeGreaterThan(before);
      await expect.poll(() => release !== undefined, { timeout: 3000 }).toBe(true);
      const waited = loads.waitIdle(5000);
      const started = Date.now();
      setTimeout(() => release?.(), 200);
      await waited;
      expect(Date.now() - started).toBeLessThan(2000);
      expect(loads.inflight).toBe(0);
      expect(proxy.failures).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('answers nothing but GET/HEAD: a POST (sendBeacon, form, fetch) never leaves the browser even to an allowed origin', async () => {
    const { context, proxy, page } = await playerWithProxy([allowed.origin]);
    try {
      allowed.reset();
      await page.evaluate(`(async (o) => {
        navigator.sendBeacon(o + '/beacon', 'x');
        await fetch(o + '/post', { method: 'POST', body: 'x', mode: 'no-cors' }).catch(() => {});
        await fetch(o + '/put', { method: 'PUT', body: 'x' }).catch(() => {});
        await fetch(o + '/get').catch(() => {});
      })(${JSON.stringify(allowed.origin)})`);
      // The beacon is sent in the background: wait until the proxy has refused all three, not a fixed time.
      await vi.waitFor(() => expect(proxy.refusals.filter((r) => /method/.test(r)).length).toBe(3), { timeout: 5000, interval: 20 });
      expect(allowed.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /get']);
    } finally {
      await context.close();
    }
  });

  it('response headers of an allowed origin (Link preload, Refresh, Set-Cookie) do not reach the browser', async () => {
    const { context, page } = await playerWithProxy([slowOrigin]);
    try {
      canary.reset();
      await page.evaluate(`new Promise((r) => {
        const f = document.createElement('iframe');
        f.src = ${JSON.stringify(`${slowOrigin}/headers`)};
        f.addEventListener('load', r, { once: true });
        document.body.appendChild(f);
      })`);
      await new Promise((r) => setTimeout(r, 1200));
      expect(canary.requests).toEqual([]);
      expect(await context.cookies()).toEqual([]);
    } finally {
      await context.close();
    }
    // Control: without the proxy the browser does act on those headers.
    const plain = await browser.newContext();
    try {
      canary.reset();
      const page2 = await plain.newPage();
      await page2.goto(`${slowOrigin}/headers`);
      // Within the same 1.2 s the proxied page above was given to act on them.
      await vi.waitFor(() => expect(canary.requests.length).toBeGreaterThan(0), { timeout: 1200, interval: 20 });
    } finally {
      await plain.close();
    }
  });
});
