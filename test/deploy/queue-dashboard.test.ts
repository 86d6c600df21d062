import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_PATH, dashboardModeFromEnv, queueDashboard, type DashboardMode } from '../../src/http/admin.js';
import { QUEUE_NAME } from '../../src/queue/job.js';
import { serverFixture, type ServerFixture } from '../service/env.js';

// bull-board at /admin/queues on the real server (its own database, S3 server and queue prefix in
// the shared Redis), over its real BullMQ queue.
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = 'dashboard-test-token-0123456789';

const servers: Server[] = [];
async function listen(app: express.Express): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${DASHBOARD_PATH}`;
}

const bearer = { authorization: `Bearer ${TOKEN}` };
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}` });

let queue: Queue;
let service: ServerFixture;
let prefix: string;
let viaApp: string;
const boards: Partial<Record<DashboardMode, string>> = {};

beforeAll(async () => {
  service = await serverFixture({ RASTERIZER_API_TOKEN: TOKEN, LOG_LEVEL: 'silent' });
  prefix = service.fixture.prefix;
  queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix });
  await queue.add('rasterize', { asset_id: 1 }, { jobId: 'asset-1' });
  await queue.add('rasterize', { asset_id: 2 }, { jobId: 'asset-2' });
  viaApp = `${service.base}${DASHBOARD_PATH}`;

  for (const mode of ['read-only', 'read-write', 'off'] as const) {
    const app = express();
    app.use(DASHBOARD_PATH, queueDashboard(queue, TOKEN, mode));
    app.use((_req, res) => res.status(404).json({ error: 'not_found' }));
    boards[mode] = await listen(app);
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await queue?.close();
  await service?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('queue dashboard (bull-board) at /admin/queues', () => {
  it('refuses every request without the API token, on the app the server runs', async () => {
    for (const path of ['', '/', '/api/queues', `/queue/${QUEUE_NAME}`]) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, basic('wrong'), { authorization: `Bearer ${TOKEN}x` }, { authorization: TOKEN }]) {
        const res = await fetch(`${viaApp}${path}`, { headers });
        expect(res.status, `${path} with ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
        const text = await res.text();
        expect(text).not.toContain('asset-1');
      }
    }
    const put = await fetch(`${viaApp}/api/queues/${QUEUE_NAME}/pause`, { method: 'PUT' });
    expect(put.status).toBe(401);
  });

  it('serves the dashboard and the queue with the token, as Bearer or as the Basic password', async () => {
    for (const headers of [bearer, basic(TOKEN)]) {
      const page = await fetch(`${viaApp}/`, { headers });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const html = await page.text();
      expect(html).toContain(`<base href="${DASHBOARD_PATH}/" />`);
      // The UI's own assets, under the same path and the same credentials.
      const css = /href="(static\/css\/[^"]+\.css)"/.exec(html)?.[1];
      expect(css).toBeDefined();
      const asset = await fetch(`${viaApp}/${css}`, { headers });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/text\/css/);
      expect((await fetch(`${viaApp}/${css}`)).status).toBe(401);

      const api = await fetch(`${viaApp}/api/queues?activeQueue=${QUEUE_NAME}&status=waiting`, { headers });
      expect(api.status).toBe(200);
      const body = (await api.json()) as { queues: { name: string; readOnlyMode: boolean; counts: Record<string, number>; jobs: { id: string }[] }[] };
      const q = body.queues.find((x) => x.name === QUEUE_NAME);
      expect(q?.counts.waiting).toBe(2);
      expect(q?.readOnlyMode).toBe(true);
      expect(q?.jobs.map((j) => j.id).sort()).toEqual(['asset-1', 'asset-2']);
    }
  });

  it('is read-only unless QUEUE_DASHBOARD=read-write: changes are refused and the queue is untouched', async () => {
    for (const base of [viaApp, boards['read-only']!]) {
      const pause = await fetch(`${base}/api/queues/${QUEUE_NAME}/pause`, { method: 'PUT', headers: bearer });
      expect(pause.status).toBe(403);
      const remove = await fetch(`${base}/api/queues/${QUEUE_NAME}/asset-1/clean`, { method: 'PUT', headers: bearer });
      expect(remove.status).toBe(403);
    }
    expect(await queue.isPaused()).toBe(false);
    expect(await queue.getJob('asset-1')).toBeDefined();
  });

  it('in read-write mode, changes from the dashboard work and changes from another origin are refused', async () => {
    const base = boards['read-write']!;
    const api = (await (await fetch(`${base}/api/queues`, { headers: bearer })).json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(api.queues.find((x) => x.name === QUEUE_NAME)?.readOnlyMode).toBe(false);

    const foreign = await fetch(`${base}/api/queues/${QUEUE_NAME}/pause`, { method: 'PUT', headers: { ...basic(TOKEN), origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(foreign.status).toBe(403);
    expect(await queue.isPaused()).toBe(false);

    const pause = await fetch(`${base}/api/queues/${QUEUE_NAME}/pause`, { method: 'PUT', headers: { ...basic(TOKEN), origin: new URL(base).origin, 'sec-fetch-site': 'same-origin' } });
    expect(pause.status).toBe(200);
    expect(await queue.isPaused()).toBe(true);
    const resume = await fetch(`${base}/api/queues/${QUEUE_NAME}/resume`, { method: 'PUT', headers: bearer });
    expect(resume.status).toBe(200);
    expect(await queue.isPaused()).toBe(false);
  });

  it('QUEUE_DASHBOARD=off serves nothing there; the variable is checked', async () => {
    const res = await fetch(`${boards.off!}/`, { headers: bearer });
    expect(res.status).toBe(404);
    expect(dashboardModeFromEnv({})).toBe('read-only');
    expect(dashboardModeFromEnv({ QUEUE_DASHBOARD: ' Read-Write ' })).toBe('read-write');
    expect(() => dashboardModeFromEnv({ QUEUE_DASHBOARD: 'yes' })).toThrow(/QUEUE_DASHBOARD: must be read-only, read-write or off/);
  });
});
