import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Queue, type Job } from 'bullmq';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { AssetRepository } from '../../src/db/assets.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { createLogger } from '../../src/observability/logger.js';
import { Producer } from '../../src/producer/index.js';
import { JOB_NAME, QUEUE_NAME, type JobProgress, type JobResult } from '../../src/queue/job.js';
import { AssetStore, createS3Client } from '../../src/storage/s3.js';
import { startWorker, type WorkerHandle } from '../../src/queue/worker.js';
import { chromiumUnder, isAlive } from '../support/service-procs.js';
import { decodeGif } from '../support/gif-frames.js';
import { startSite } from '../support/site-server.js';
import { REDIS_URL, serviceFixture, waitFor, type ServiceFixture } from './env.js';

/** Where examples/journey.json.gz was recorded: the fixture shop at 127.0.0.1:8765 (scripts/record-example.ts). */
const EXAMPLE_SITE_PORT = 8765;

/** examples/journey.json.gz: 72.8 s of a session at 1280x800, stored as gzip JSON lines. */
const TEAM = 7;

describe('worker: renders queued assets with a warm browser pool', () => {
  let fixture: ServiceFixture;
  let dir: string;
  let config: Config;
  let producer: Producer;
  let handle: WorkerHandle;
  let queue: Queue;
  let pool: Pool;
  let assets: AssetRepository;
  let store: AssetStore;
  const progress = new Map<string, JobProgress[]>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rr-recordings-'));
    await mkdir(join(dir, String(TEAM)));
    await copyFile('examples/journey.json.gz', join(dir, String(TEAM), 'journey.jsonl.gz'));
    await writeFile(join(dir, String(TEAM), 'garbage.json'), 'this is not a recording');
    fixture = await serviceFixture({
      RECORDINGS_DIR: dir,
      WORKER_CONCURRENCY: '1',
      BROWSER_RECYCLE_AFTER: '2',
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '50',
      SWEEP_INTERVAL_S: '0',
      WORKER_METRICS_PORT: '0',
      // Short, so the hung-renderer test below settles quickly; ample for a step's capped asset wait.
      RENDER_STALL_TIMEOUT_MS: '8000',
      // The shop the example was recorded on; served (by the asset cache test) or not (the others).
      ALLOWED_ORIGINS: `http://127.0.0.1:${EXAMPLE_SITE_PORT}`,
    });
    config = loadConfig('worker', fixture.env);
    handle = await startWorker(config, { logger: createLogger('worker-test', 'silent') });
    handle.worker.on('progress', (job: Job, p) => {
      const list = progress.get(job.id!) ?? [];
      list.push(p as JobProgress);
      progress.set(job.id!, list);
    });
    producer = new Producer({ config, logger: createLogger('producer-test', 'silent') });
    queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: fixture.prefix });
    pool = createPool(config.database.url, 2, 10_000);
    assets = new AssetRepository(pool, config.assets.ttlDays);
    store = new AssetStore(createS3Client(config.s3), config.s3.bucket, config.s3.prefix);
  });

  afterAll(async () => {
    await handle?.close();
    await producer?.close();
    await queue?.close();
    await pool?.end();
    store?.client.destroy();
    await Promise.allSettled([fixture?.close(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
  });

  const finished = (jobId: string) =>
    waitFor(`job ${jobId} to finish`, async () => {
      const state = await queue.getJobState(jobId);
      return state === 'completed' || state === 'failed' ? state : undefined;
    }, 90_000);

  async function gifAt(location: string): Promise<Buffer> {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location)!;
    const out = await store.client.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  async function metric(name: string): Promise<string> {
    return handle.metrics.registry.getSingleMetricAsString(name);
  }

  let first: { assetId: number; jobId: string };

  it('renders a moment, uploads it to the asset key and marks the row done with its location', async () => {
    first = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 20, endS: 24, minDurationS: 4, fps: 5, width: 320 });
    expect(await finished(first.jobId)).toBe('completed');

    const row = await assets.get(first.assetId);
    expect(row).toMatchObject({ status: 'done', error: null, contentLocation: `s3://${fixture.s3.bucket}/previews/test/team-${TEAM}/asset-${first.assetId}.gif` });
    const gif = decodeGif(await gifAt(row!.contentLocation!));
    expect(gif.width).toBe(320);
    expect(gif.height).toBe(200);
    expect(gif.durationMs).toBeGreaterThan(3800);
    expect(gif.durationMs).toBeLessThan(4200);

    const job = await queue.getJob(first.jobId);
    const result = job!.returnvalue as JobResult;
    expect(result).toMatchObject({ content_location: row!.contentLocation, skipped: false, width: 320, height: 200 });
    expect(result.frames).toBeGreaterThan(0);

    const reported = progress.get(first.jobId) ?? [];
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.at(-1)).toMatchObject({ done: 20, total: 20 });
    expect(job!.progress).toMatchObject({ done: 20, total: 20 });

    expect(await metric('rasterizer_jobs_total')).toMatch(/outcome="completed"} 1\b/);
    expect(await metric('rasterizer_render_seconds')).toMatch(/rasterizer_render_seconds_count 1\b/);
    expect(await metric('rasterizer_gif_bytes')).toMatch(/rasterizer_gif_bytes_count 1\b/);
    expect(handle.browsers.launches).toBe(1);
  });

  it('renders an asset once however often it is enqueued', async () => {
    // While the finished job is still in Redis, enqueueing the asset again finds it.
    expect(await producer.requeueAsset(first.assetId)).toBe(first.jobId);
    expect((await queue.getJob(first.jobId))!.finishedOn).toBeDefined();
    expect(await queue.getJobState(first.jobId)).toBe('completed');

    // Once Redis has forgotten it, a new job runs but finds the asset done and renders nothing.
    const before = (await assets.get(first.assetId))!;
    await queue.remove(first.jobId);
    await producer.requeueAsset(first.assetId);
    expect(await finished(first.jobId)).toBe('completed');
    expect((await queue.getJob(first.jobId))!.returnvalue).toMatchObject({ skipped: true, content_location: before.contentLocation });
    expect(await metric('rasterizer_jobs_total')).toMatch(/outcome="completed"} 1\b/);
    expect(await metric('rasterizer_jobs_total')).toMatch(/outcome="skipped"} 1\b/);
    expect((await assets.get(first.assetId))!.updatedAt).toEqual(before.updatedAt);
  });

  it('recycles the browser after BROWSER_RECYCLE_AFTER jobs', async () => {
    const second = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 40, endS: 43, minDurationS: 0, fps: 5, width: 256, footer: true });
    expect(await finished(second.jobId)).toBe('completed');
    // Two renders on the first browser: it was retired and closed when the second ended.
    expect(handle.browsers.launches).toBe(1);
    expect(handle.browsers.browser).toBeUndefined();
    const gif = decodeGif(await gifAt((await assets.get(second.assetId))!.contentLocation!));
    expect(gif.width).toBe(256);
    expect(gif.height).toBeGreaterThan(160); // 160 px of frame plus the footer strip
  });

  it('retries a job whose browser crashed, on a fresh browser', async () => {
    const crash = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 0, endS: 30, minDurationS: 0, fps: 10, width: 400 });
    let killed = 0;
    const onProgress = (job: Job) => {
      if (job.id !== crash.jobId || killed > 0) return;
      // SIGKILL the Chromium this process launched, as the OOM killer would. Playwright starts it
      // detached (Debian's launcher is a shell script around the real binary), so the launcher's
      // pid is the process group of the whole browser.
      const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]).toString().split('\n');
      for (const line of children) {
        const m = /^\s*(\d+)\s+(.*)$/.exec(line);
        if (m && /chrom|headless/i.test(m[2]!)) {
          process.kill(-Number(m[1]), 'SIGKILL');
          killed++;
        }
      }
    };
    handle.worker.on('progress', onProgress);
    try {
      expect(await finished(crash.jobId)).toBe('completed');
    } finally {
      handle.worker.off('progress', onProgress);
    }
    expect(killed).toBeGreaterThan(0);
    const job = await queue.getJob(crash.jobId);
    expect(job!.attemptsMade).toBe(2);
    expect((job!.stacktrace ?? []).join('\n')).toMatch(/browser died|Target|closed/i);
    expect(await assets.get(crash.assetId)).toMatchObject({ status: 'done' });
    expect(handle.browsers.launches).toBe(3);
    expect(await metric('rasterizer_jobs_total')).toMatch(/outcome="retried"} 1\b/);
  });

  const good0 = () => first.assetId;

  it('fails bad input at once, without retrying, and keeps working', async () => {
    const past = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 100, endS: 110, minDurationS: 0 });
    const garbage = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'garbage', startS: 0, endS: 10 });
    // Data no producer would send: the worker must refuse it, not crash on it.
    const bogus = await queue.add(JOB_NAME, { asset_id: 'x', session_id: '../../etc/passwd' }, { jobId: 'asset-999999', attempts: 3 });
    // A job left in Redis from before the database was reset: its asset id now names another row.
    const stale = await queue.add(JOB_NAME, { asset_id: good0(), team_id: TEAM, session_id: 'journey', start_offset_s: 0, end_offset_s: 5 }, { jobId: `asset-${good0()}`, attempts: 3 });
    const good = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 60, endS: 62, minDurationS: 0, fps: 5, width: 200 });

    for (const { jobId, reason } of [
      { jobId: past.jobId, reason: /after the recording|past|end/i },
      { jobId: garbage.jobId, reason: /rrweb|JSON|recording/i },
      { jobId: bogus.id!, reason: /^asset_id must be an asset id .*; team_id is required; session_id may hold only/ },
      { jobId: stale.id!, reason: /a stale job/ },
    ]) {
      expect(await finished(jobId)).toBe('failed');
      const job = await queue.getJob(jobId);
      expect(job!.attemptsMade).toBe(1);
      expect(job!.failedReason).toMatch(reason);
    }
    expect(await assets.get(past.assetId)).toMatchObject({ status: 'failed', error: expect.stringMatching(/./) });
    expect(await assets.get(garbage.assetId)).toMatchObject({ status: 'failed' });
    expect(await finished(good.jobId)).toBe('completed');
    expect(await assets.get(good.assetId)).toMatchObject({ status: 'done' });
    // The stale job did not touch the row its asset id names now.
    expect(await assets.get(good0())).toMatchObject({ status: 'done', error: null });
  });

  it('closes a browser whose renderer hangs and renders the job again at once on a fresh one', async () => {
    const hung = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 0, endS: 20, minDurationS: 0, fps: 10, width: 400 });
    const launchesBefore = handle.browsers.launches;
    const frozen: number[] = [];
    let stalled: Browser | undefined;
    const onProgress = (job: Job) => {
      if (job.id !== hung.jobId || frozen.length > 0) return;
      stalled = handle.browsers.browser;
      // The renderer stops answering without dying (a hang, a machine swapping): SIGSTOP it.
      for (const p of chromiumUnder(process.pid)) {
        if (!/--type=renderer/.test(p.cmdline)) continue;
        process.kill(p.pid, 'SIGSTOP');
        frozen.push(p.pid);
      }
    };
    const restarts = async () => Number(/rasterizer_render_restarts_total (\d+)/.exec(await metric('rasterizer_render_restarts_total'))?.[1]);
    const restartsBefore = await restarts();
    handle.worker.on('progress', onProgress);
    try {
      expect(await finished(hung.jobId)).toBe('completed');
    } finally {
      handle.worker.off('progress', onProgress);
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // closed with its browser
        }
      }
    }
    expect(frozen.length).toBeGreaterThan(0);
    const job = await queue.getJob(hung.jobId);
    // Rendered again within its first attempt (render.ts), not by a retry after the job's backoff.
    expect(job!.attemptsMade).toBe(1);
    expect((await restarts()) - restartsBefore).toBe(1);
    // The stalled browser was closed, not used again: the render went on in a fresh one.
    expect(stalled).toBeDefined();
    await waitFor('the stalled browser to close', () => !stalled!.isConnected() || undefined, 15_000);
    expect(handle.browsers.launches).toBeGreaterThan(launchesBefore);
    expect(await assets.get(hung.assetId)).toMatchObject({ status: 'done' });
  });

  it('kills a browser that stopped answering while idle, and renders the next job on a fresh one', async () => {
    // A job first, so that a browser waits idle in the pool (two if the first was its browser's last: BROWSER_RECYCLE_AFTER).
    for (let i = 0; i < 2 && !handle.browsers.browser; i++) {
      const warm = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: i * 2, endS: i * 2 + 2, minDurationS: 0, fps: 5, width: 200 });
      expect(await finished(warm.jobId)).toBe('completed');
    }
    const idle = handle.browsers.browser;
    expect(idle, 'an idle browser in the pool').toBeDefined();
    // The whole browser stops (a machine swapping it out, a debugger): it answers nothing, not even its close.
    const stopped = chromiumUnder(process.pid).map((p) => p.pid);
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    try {
      const next = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 4, endS: 6, minDurationS: 0, fps: 5, width: 200 });
      expect(await finished(next.jobId)).toBe('completed');
      const job = await queue.getJob(next.jobId);
      // The render gave up on it in its setup at the page-call deadline, not never, and started
      // again at once in a fresh browser (its first attempt).
      expect(job!.attemptsMade).toBe(1);
      await waitFor('the stopped browser to be closed', () => !idle!.isConnected() || undefined, 15_000);
      // Its processes were killed, not left stopped with their memory.
      await waitFor('the stopped browser to be gone', () => stopped.every((pid) => !isAlive(pid)) || undefined, 15_000);
      expect(await assets.get(next.assetId)).toMatchObject({ status: 'done' });
    } finally {
      for (const pid of stopped) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // killed
        }
      }
    }
  });

  it('answers health checks and serves its metrics', async () => {
    const health = await fetch(`http://127.0.0.1:${handle.metricsPort}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${handle.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/rasterizer_jobs_total\{outcome="completed"} \d+/);
    expect(metrics).toMatch(/rasterizer_gif_frames_count \d+/);
  });

  it('sweeps expired assets: rows and GIFs', async () => {
    const { assetId } = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 10, endS: 11, minDurationS: 0, fps: 5, width: 128 });
    const done = await waitFor('the asset to be done', async () => {
      const a = await assets.get(assetId);
      return a?.status === 'done' ? a : undefined;
    }, 60_000);
    expect((await gifAt(done.contentLocation!)).length).toBeGreaterThan(0);
    await pool.query(`UPDATE exported_assets SET expires_after = now() - interval '1 second' WHERE id = $1`, [assetId]);
    await handle.sweep();
    expect(await assets.get(assetId)).toBeUndefined();
    await expect(gifAt(done.contentLocation!)).rejects.toThrow();
    expect(await assets.get(first.assetId)).toMatchObject({ status: 'done' });
  });

  it("keeps the recorded site's assets for the session's next moment: the site is asked for each once", async () => {
    const site = await startSite({ port: EXAMPLE_SITE_PORT, cacheControl: 'public, max-age=3600' });
    const hits = async () => Number(/rasterizer_asset_cache_hits_total (\d+)/.exec(await metric('rasterizer_asset_cache_hits_total'))?.[1]);
    try {
      const before = await hits();
      for (const startS of [30, 31]) {
        const moment = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS, endS: startS + 4, minDurationS: 4, fps: 5, width: 320 });
        expect(await finished(moment.jobId)).toBe('completed');
      }
      const assetPaths = site.requests.filter((p) => /^\/(img|fonts)\//.test(p) || p.endsWith('.css'));
      expect(assetPaths.length).toBeGreaterThanOrEqual(4);
      expect(assetPaths.length).toBe(new Set(assetPaths).size);
      expect((await hits()) - before).toBeGreaterThanOrEqual(4);
      const held = Number(/rasterizer_asset_cache_bytes (\d+)/.exec(await metric('rasterizer_asset_cache_bytes'))?.[1]);
      expect(held).toBeGreaterThan(100_000);
      expect(held).toBeLessThanOrEqual(64 * 1024 * 1024);
    } finally {
      await site.close();
    }
  });

  it("moves a clip that runs past the recording's end back inside it, and says so in the row and the job", async () => {
    // 71-73 s of a 72.8 s recording, its length unknown to the caller: enqueued as 57-87.
    const atEnd = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 71, endS: 73, fps: 2, width: 128 });
    expect(atEnd).toMatchObject({ startS: 57, endS: 87 });
    expect(await finished(atEnd.jobId)).toBe('completed');
    const result = (await queue.getJob(atEnd.jobId))!.returnvalue as JobResult;
    expect(result.end_offset_s! - result.start_offset_s!).toBeCloseTo(30, 1);
    expect(result.end_offset_s).toBeGreaterThan(72.7);
    expect(result.end_offset_s).toBeLessThan(72.9);
    const row = (await assets.get(atEnd.assetId))!;
    expect(row.exportContext).toMatchObject({ start_offset_s: result.start_offset_s, end_offset_s: result.end_offset_s });
    expect(row.budgetSteps).toEqual(result.budget_steps);
    const gif = decodeGif(await gifAt(row.contentLocation!));
    expect(Math.abs(gif.durationMs - 30_000)).toBeLessThanOrEqual(200);
    expect(result.budget_steps).toEqual(expect.any(Array));
  });

  it('fits a GIF in its byte budget, says the steps in the row and counts them by kind', async () => {
    const counts = async () => {
      const text = await metric('rasterizer_budget_steps_total');
      return Object.fromEntries(['lossy', 'colors', 'fps'].map((step) => [step, Number(new RegExp(`step="${step}"} (\\d+)`).exec(text)?.[1] ?? 0)]));
    };
    const before = await counts();
    // 93 KB as rendered here (the shop not served): over 40,000 bytes by more than lossy LZW alone saves.
    const job = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 15, endS: 45, minDurationS: 0, fps: 5, width: 320, maxBytes: 40_000 });
    expect(await finished(job.jobId)).toBe('completed');
    const row = (await assets.get(job.assetId))!;
    expect((await gifAt(row.contentLocation!)).length).toBeLessThanOrEqual(40_000);
    const kinds = new Set(row.budgetSteps!.map((step) => step.split(':')[0]));
    expect(kinds.has('lossy')).toBe(true);
    const after = await counts();
    for (const step of ['lossy', 'colors', 'fps']) expect(after[step]! - before[step]!, step).toBe(kinds.has(step) ? 1 : 0);
  });

  it("counts the asset cache's hits of a render that then fails", async () => {
    // The shop's assets are in the worker's cache from the asset cache test above (fresh for 600 s);
    // a 30 s moment cannot fit in 4,096 bytes, so the render fails (over_budget) after using them.
    const hits = async () => Number(/rasterizer_asset_cache_hits_total (\d+)/.exec(await metric('rasterizer_asset_cache_hits_total'))?.[1]);
    const before = await hits();
    const job = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 15, endS: 45, minDurationS: 0, fps: 5, width: 320, maxBytes: 4096 });
    expect(await finished(job.jobId)).toBe('failed');
    expect((await queue.getJob(job.jobId))!.failedReason).toMatch(/does not fit its byte budget of 4096 bytes/);
    expect((await hits()) - before).toBeGreaterThanOrEqual(4);
  });
});
