import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue, Worker, type Job } from 'bullmq';
import express from 'express';
import { DASHBOARD_PATH } from '../../src/http/admin.js';
import { serveApp, type SiteServer } from './site-server.js';

export { DASHBOARD_PATH };

/**
 * A web application, not a documentation site: bull-board, the queue dashboard the service mounts at
 * /admin/queues (a React app with routes, tabs, dialogs, select popups, a sliding sidebar and a dark
 * theme, none of it written by us), over three BullMQ queues on the machine's Redis with jobs in
 * every state: completed with results, failed with stack traces, delayed and waiting. Served without
 * the service's token (a recorder's browser has no credentials to give it): the same UI and assets.
 */

/** The dashboard's version, for reports. */
export const BULL_BOARD_VERSION = (createRequire(import.meta.url)('@bull-board/ui/package.json') as { version: string }).version;

const JOBS = 24;
const PROCESS_TIMEOUT_MS = 60_000;

const defaultRedis = () => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the Redis the dashboard would use answers a connection within a second. */
export async function redisReachable(redisUrl = defaultRedis()): Promise<boolean> {
  const url = new URL(redisUrl);
  return new Promise((resolve) => {
    const s = connect({ host: url.hostname, port: Number(url.port || 6379), timeout: 1000 });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

export async function startDashboardSite(port = 0, redisUrl = defaultRedis()): Promise<SiteServer> {
  const url = new URL(redisUrl);
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
  // Its own key prefix: nothing else on the shared Redis is read or touched.
  const prefix = `rr-dashboard-site-${process.pid}-${Date.now()}`;
  const queues = ['rasterize', 'rasterize-priority', 'thumbnails'].map((n) => new Queue(n, { connection, prefix }));
  const [main, priority, thumbs] = queues as [Queue, Queue, Queue];
  const worker = new Worker(
    'rasterize',
    async (job: Job<{ sessionId: string; fail?: boolean }>) => {
      await job.log(`rendering ${job.data.sessionId}`);
      await job.updateProgress(50);
      if (job.data.fail) throw new Error(`Chromium did not draw a frame within 10 s (its compositor stalled) for ${job.data.sessionId}`);
      await job.updateProgress(100);
      return { bytes: 700_000 + Number(job.id) * 1234, frames: 114, url: `https://cdn.example/gif/${job.data.sessionId}.gif` };
    },
    { connection, prefix, concurrency: 4 },
  );
  try {
    const processed = new Promise<void>((resolve, reject) => {
      let done = 0;
      const one = () => (++done >= JOBS ? resolve() : undefined);
      worker.on('completed', one);
      worker.on('failed', one);
      // Bounded: a Redis that takes the jobs but never hands them to the worker fails the site.
      setTimeout(() => reject(new Error(`the dashboard's jobs were not processed within ${PROCESS_TIMEOUT_MS / 1000} s (Redis at ${redisUrl})`)), PROCESS_TIMEOUT_MS).unref();
    });
    for (let i = 0; i < JOBS; i++) {
      await main.add('rasterize', { sessionId: `sess-${1000 + i}`, startS: i * 3, endS: i * 3 + 30, fail: i % 5 === 2, options: { fps: 10, width: 800 } }, { attempts: 1 });
    }
    await processed;
  } finally {
    await worker.close();
  }
  for (let i = 0; i < 6; i++) await main.add('rasterize', { sessionId: `sess-2${i}`, startS: 0, endS: 30 }, { delay: 3_600_000 + i * 60_000 });
  for (let i = 0; i < 5; i++) await main.add('rasterize', { sessionId: `sess-3${i}`, startS: 0, endS: 30 });
  await priority.add('rasterize', { sessionId: 'sess-vip', startS: 0, endS: 30 });
  for (let i = 0; i < 3; i++) await thumbs.add('thumb', { assetId: i });

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter, options: { uiConfig: { boardTitle: 'replay-rasterizer' } } });
  const app = express();
  app.use(DASHBOARD_PATH, serverAdapter.getRouter() as express.RequestHandler);
  return serveApp(app, port, async () => {
    for (const q of queues) await q.obliterate({ force: true }).catch(() => {});
    await Promise.all(queues.map((q) => q.close()));
  });
}
