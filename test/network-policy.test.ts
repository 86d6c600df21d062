import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkPolicy, forbiddenAddressReason } from '../src/render/network-policy.js';
import { normaliseOrigin } from '../src/util/origin.js';

const refusal = { code: 'network_policy' };

describe('forbiddenAddressReason', () => {
  it.each([
    '127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', 'ff02::1',
  ])('refuses %s', (ip) => {
    expect(forbiddenAddressReason(ip)).toBeDefined();
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('allows %s', (ip) => {
    expect(forbiddenAddressReason(ip)).toBeUndefined();
  });
});

describe('NetworkPolicy.fetch', () => {
  let server: Server;
  let origin: string;
  let hits: string[];

  beforeAll(async () => {
    hits = [];
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/big') {
        res.end(Buffer.alloc(64 * 1024));
      } else if (req.url === '/to-private') {
        res.writeHead(302, { location: 'http://10.0.0.1/secret' }).end();
      } else if (req.url === '/to-self') {
        res.writeHead(302, { location: '/ok' }).end();
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2000);
      } else {
        res.setHeader('content-type', 'text/plain');
        res.end('ok');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses loopback unless the origin is allow-listed', async () => {
    const before = hits.length;
    await expect(new NetworkPolicy().fetch(`${origin}/ok`)).rejects.toMatchObject(refusal);
    await expect(new NetworkPolicy().fetch(`http://localhost:${new URL(origin).port}/ok`)).rejects.toThrow(/resolves to/);
    await expect(new NetworkPolicy().fetch(`http://[::1]:${new URL(origin).port}/ok`)).rejects.toMatchObject(refusal);
    expect(hits.length).toBe(before);
    const got = await new NetworkPolicy({ allowOrigins: [origin] }).fetch(`${origin}/ok`);
    expect(got.status).toBe(200);
    expect(got.body.toString()).toBe('ok');
    expect(got.contentType).toBe('text/plain');
  });

  it('refuses schemes other than http(s)', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'data:text/plain,hi', 'javascript:alert(1)']) {
      await expect(new NetworkPolicy().fetch(url)).rejects.toThrow(/scheme/);
    }
  });

  it('checks every redirect hop against the policy', async () => {
    const policy = new NetworkPolicy({ allowOrigins: [origin] });
    await expect(policy.fetch(`${origin}/to-private`)).rejects.toThrow(/10\.0\.0\.1/);
    const ok = await policy.fetch(`${origin}/to-self`);
    expect(ok.finalUrl).toBe(`${origin}/ok`);
  });

  it('caps response size, request count and time', async () => {
    await expect(new NetworkPolicy({ allowOrigins: [origin], maxResponseBytes: 1000 }).fetch(`${origin}/big`)).rejects.toThrow(/cap/);
    const counted = new NetworkPolicy({ allowOrigins: [origin], maxRequests: 2 });
    await counted.fetch(`${origin}/ok`);
    await counted.fetch(`${origin}/ok`);
    await expect(counted.fetch(`${origin}/ok`)).rejects.toThrow(/more than 2 requests/);
    const started = Date.now();
    await expect(new NetworkPolicy({ allowOrigins: [origin], requestTimeoutMs: 300 }).fetch(`${origin}/slow`)).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('normalises origins and rejects non-http ones', () => {
    expect(normaliseOrigin('http://127.0.0.1:80/')).toBe('http://127.0.0.1');
    expect(normaliseOrigin('https://Example.com:8443/path')).toBe('https://example.com:8443');
    expect(() => normaliseOrigin('file:///tmp')).toThrow(/must be http\(s\)/);
    expect(() => normaliseOrigin('not a url')).toThrow(/not an origin/);
  });
});
