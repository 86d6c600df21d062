import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createPool } from '../../src/db/pool.js';
import { createLogger } from '../../src/observability/logger.js';
import { Producer } from '../../src/producer/index.js';
import { JOB_NAME, type JobProgress, type JobResult } from '../../src/queue/job.js';
import { startWorker, type WorkerHandle } from '../../src/queue/worker.js';
import { chromiumUnder } from '../support/service-procs.js';
import { decodeGif } from '../support/gif-frames.js';
import { createTestDatabase, dropQueuePrefix, serviceEnv, startS3, uniqueName, waitFor, type TestDatabase, type TestS3 } from './env.js';

/** examples/journey.json.gz: 72.8 s of a session at 1280x800, stored as gzip JSON lines. */
const TEAM = 7;

describe('worker: renders queued assets with a warm browser pool', () => {
  let db: TestDatabase;
  let s3: TestS3;
  let prefix: string;
  let dir: string;
  let config: Config;
  let producer: Producer;
  let handle: WorkerHandle;
  const progress = new Map<string, JobProgress[]>();

  beforeAll(async () => {
    [db, s3] = await Promise.all([createTestDatabase(), startS3()]);
    prefix = uniqueName('bull');
    dir = await mkdtemp(join(tmpdir(), 'rr-recordings-'));
    await mkdir(join(dir, String(TEAM)));
    await copyFile('examples/journey.json.gz', join(dir, String(TEAM), 'journey.jsonl.gz'));
    await writeFile(join(dir, String(TEAM), 'garbage.json'), 'this is not a recording');
    const env = serviceEnv({
      db,
      s3,
      queuePrefix: prefix,
      extra: {
        RECORDINGS_DIR: dir,
        WORKER_CONCURRENCY: '1',
        BROWSER_RECYCLE_AFTER: '2',
        JOB_ATTEMPTS: '2',
        JOB_BACKOFF_MS: '50',
        SWEEP_INTERVAL_S: '0',
        WORKER_METRICS_PORT: '0',
        // Short, so the hung-renderer test below settles quickly; ample for a step's capped asset wait.
        RENDER_STALL_TIMEOUT_MS: '8000',
      },
    });
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY });
    config = loadConfig('worker', env);
    handle = await startWorker(config, { logger: createLogger('worker-test', 'silent') });
    handle.worker.on('progress', (job: Job, p) => {
      const list = progress.get(job.id!) ?? [];
      list.push(p as JobProgress);
      progress.set(job.id!, list);
    });
    producer = new Producer({ config, logger: createLogger('producer-test', 'silent') });
  });

  afterAll(async () => {
    await handle?.close();
    await producer?.close();
    await Promise.allSettled([db?.drop(), s3?.close(), prefix ? dropQueuePrefix(prefix) : undefined, dir ? rm(dir, { recursive: true, force: true }) : undefined]);
  });

  const finished = (jobId: string) =>
    waitFor(`job ${jobId} to finish`, async () => {
      const state = await producer.queue.getJobState(jobId);
      return state === 'completed' || state === 'failed' ? state : undefined;
    }, 90_000);

  async function gifAt(location: string): Promise<Buffer> {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location)!;
    const out = await producer.store.client.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  async function metric(name: string): Promise<string> {
    return handle.metrics.registry.getSingleMetricAsString(name);
  }

  let first: { assetId: number; jobId: string };

  it('renders a moment, uploads it to the asset key and marks the row done with its location', async () => {
    first = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 20, endS: 24, minDurationS: 4, fps: 5, width: 320 });
    expect(await finished(first.jobId)).toBe('completed');

    const row = await producer.assets.get(first.assetId);
    expect(row).toMatchObject({ status: 'done', error: null, contentLocation: `s3://${s3.bucket}/previews/test/team-${TEAM}/asset-${first.assetId}.gif` });
    const gif = decodeGif(await gifAt(row!.contentLocation!));
    expect(gif.width).toBe(320);
    expect(gif.height).toBe(200);
    expect(gif.durationMs).toBeGreaterThan(3800);
    expect(gif.durationMs).toBeLessThan(4200);

    const job = await producer.queue.getJob(first.jobId);
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
    expect((await producer.queue.getJob(first.jobId))!.finishedOn).toBeDefined();
    expect(await producer.queue.getJobState(first.jobId)).toBe('completed');

    // Once Redis has forgotten it, a new job runs but finds the asset done and renders nothing.
    const before = (await producer.assets.get(first.assetId))!;
    await producer.queue.remove(first.jobId);
    await producer.requeueAsset(first.assetId);
    expect(await finished(first.jobId)).toBe('completed');
    expect((await producer.queue.getJob(first.jobId))!.returnvalue).toMatchObject({ skipped: true, content_location: before.contentLocation });
    expect(await metric('rasterizer_jobs_total')).toMatch(/outcome="completed"} 1\b/);
    expect(await metric('rasterizer_jobs_total')).toMatch(/outcome="skipped"} 1\b/);
    expect((await producer.assets.get(first.assetId))!.updatedAt).toEqual(before.updatedAt);
  });

  it('recycles the browser after BROWSER_RECYCLE_AFTER jobs', async () => {
    const second = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 40, endS: 43, minDurationS: 0, fps: 5, width: 256, footer: true });
    expect(await finished(second.jobId)).toBe('completed');
    // Two renders on the first browser: it was retired and closed when the second ended.
    expect(handle.browsers.launches).toBe(1);
    expect(handle.browsers.browser).toBeUndefined();
    const gif = decodeGif(await gifAt((await producer.assets.get(second.assetId))!.contentLocation!));
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
    const job = await producer.queue.getJob(crash.jobId);
    expect(job!.attemptsMade).toBe(2);
    expect((job!.stacktrace ?? []).join('\n')).toMatch(/BrowserCrashed|browser died|Target|closed/i);
    expect(await producer.assets.get(crash.assetId)).toMatchObject({ status: 'done' });
    expect(handle.browsers.launches).toBe(3);
    expect(await metric('rasterizer_jobs_total')).toMatch(/outcome="retried"} 1\b/);
  });

  it('fails bad input at once, without retrying, and keeps working', async () => {
    const past = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 100, endS: 110, minDurationS: 0 });
    const garbage = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'garbage', startS: 0, endS: 10 });
    // Data no producer would send: the worker must refuse it, not crash on it.
    const bogus = await producer.queue.add(JOB_NAME, { asset_id: 'x', session_id: '../../etc/passwd' }, { jobId: 'asset-999999', attempts: 3 });
    const good = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 60, endS: 62, minDurationS: 0, fps: 5, width: 200 });

    for (const { jobId, reason } of [
      { jobId: past.jobId, reason: /after the recording|past|end/i },
      { jobId: garbage.jobId, reason: /rrweb|JSON|recording/i },
      { jobId: bogus.id!, reason: /invalid job data: asset_id: .*; team_id: team_id is required; session_id/ },
    ]) {
      expect(await finished(jobId)).toBe('failed');
      const job = await producer.queue.getJob(jobId);
      expect(job!.attemptsMade).toBe(1);
      expect(job!.failedReason).toMatch(reason);
    }
    expect(await producer.assets.get(past.assetId)).toMatchObject({ status: 'failed', error: expect.stringMatching(/./) });
    expect(await producer.assets.get(garbage.assetId)).toMatchObject({ status: 'failed' });
    expect(await finished(good.jobId)).toBe('completed');
    expect(await producer.assets.get(good.assetId)).toMatchObject({ status: 'done' });
  });

  it('closes a browser whose renderer hangs and retries the job on a fresh one', async () => {
    const hung = await producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: 0, endS: 20, minDurationS: 0, fps: 10, width: 400 });
    const launchesBefore = handle.browsers.launches;
    const frozen: number[] = [];
    const onProgress = (job: Job) => {
      if (job.id !== hung.jobId || frozen.length > 0) return;
      // The renderer stops answering without dying (a hang, a machine swapping): SIGSTOP it.
      for (const p of chromiumUnder(process.pid)) {
        if (!/--type=renderer/.test(p.cmdline)) continue;
        process.kill(p.pid, 'SIGSTOP');
        frozen.push(p.pid);
      }
    };
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
    const job = await producer.queue.getJob(hung.jobId);
    expect(job!.attemptsMade).toBe(2);
    expect((job!.stacktrace ?? []).join('\n')).toMatch(/PageUnresponsive|did not finish .* within 8 s/);
    // The stalled browser was closed, not lent to the retry.
    expect(handle.browsers.launches).toBe(launchesBefore + 1);
    expect(await producer.assets.get(hung.assetId)).toMatchObject({ status: 'done' });
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
      const a = await producer.assets.get(assetId);
      return a?.status === 'done' ? a : undefined;
    }, 60_000);
    expect((await gifAt(done.contentLocation!)).length).toBeGreaterThan(0);
    const pool = createPool(config.database.url, 1);
    try {
      await pool.query(`UPDATE exported_assets SET expires_after = now() - interval '1 second' WHERE id = $1`, [assetId]);
    } finally {
      await pool.end();
    }
    await handle.sweep();
    expect(await producer.assets.get(assetId)).toBeUndefined();
    await expect(gifAt(done.contentLocation!)).rejects.toThrow();
    expect(await producer.assets.get(first.assetId)).toMatchObject({ status: 'done' });
  });
});
