import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Queue } from 'bullmq';
import { loadConfig, type Config } from '../../src/config/config.js';
import { AssetRepository } from '../../src/db/assets.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { isRasterizerError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { LIMITS, Producer, classifySegment, parseSegmentTime, widenWindow } from '../../src/producer/index.js';
import { QUEUE_NAME } from '../../src/queue/job.js';
import { startWorker, type WorkerHandle } from '../../src/queue/worker.js';
import { momentRequest } from '../../src/request/moment.js';
import { parseRequest } from '../../src/request/parse.js';
import { PreviewSigner } from '../../src/signing/public-url.js';
import { AssetStore, createS3Client, isNotFound } from '../../src/storage/s3.js';
import { REDIS_URL, serviceFixture, waitFor, type ServiceFixture } from './env.js';
import { freePort } from '../support/private-services.js';

describe('widenWindow', () => {
  it('widens a short moment symmetrically around its midpoint', () => {
    expect(widenWindow({ startS: 40, endS: 44, minDurationS: 30 })).toEqual({ startS: 27, endS: 57 });
    expect(widenWindow({ startS: 50, endS: 50, minDurationS: 10 })).toEqual({ startS: 45, endS: 55 });
  });

  it('defaults the minimum to 30 s', () => {
    expect(widenWindow({ startS: 100, endS: 110 })).toEqual({ startS: 90, endS: 120 });
  });

  it('leaves a moment at least as long as the minimum alone', () => {
    expect(widenWindow({ startS: 10, endS: 60, minDurationS: 30 })).toEqual({ startS: 10, endS: 60 });
    expect(widenWindow({ startS: 10, endS: 40, minDurationS: 30 })).toEqual({ startS: 10, endS: 40 });
  });

  it('clamps at 0 and extends the end to compensate', () => {
    expect(widenWindow({ startS: 2, endS: 4, minDurationS: 30 })).toEqual({ startS: 0, endS: 30 });
    expect(widenWindow({ startS: 0, endS: 0, minDurationS: 30 })).toEqual({ startS: 0, endS: 30 });
  });

  it("clamps at the recording's end and extends the start to compensate", () => {
    expect(widenWindow({ startS: 95, endS: 98, minDurationS: 30, recordingDurationS: 100 })).toEqual({ startS: 70, endS: 100 });
    expect(widenWindow({ startS: 99.5, endS: 120, minDurationS: 30, recordingDurationS: 100 })).toEqual({ startS: 70, endS: 100 });
  });

  it('cuts a long window at the known end without moving its start', () => {
    expect(widenWindow({ startS: 50, endS: 120, minDurationS: 30, recordingDurationS: 100 })).toEqual({ startS: 50, endS: 100 });
  });

  it('gives the whole recording when it is shorter than the minimum', () => {
    expect(widenWindow({ startS: 5, endS: 6, minDurationS: 30, recordingDurationS: 20 })).toEqual({ startS: 0, endS: 20 });
    expect(widenWindow({ startS: 5, endS: 6, minDurationS: 30, recordingDurationS: 30 })).toEqual({ startS: 0, endS: 30 });
    expect(widenWindow({ startS: 1, endS: 12.5, minDurationS: 30, recordingDurationS: 12.5 })).toEqual({ startS: 0, endS: 12.5 });
  });

  it('uses both clamps when the recording is barely longer than the minimum', () => {
    expect(widenWindow({ startS: 1, endS: 2, minDurationS: 30, recordingDurationS: 31 })).toEqual({ startS: 0, endS: 30 });
    expect(widenWindow({ startS: 29, endS: 30, minDurationS: 30, recordingDurationS: 31 })).toEqual({ startS: 1, endS: 31 });
  });

  it('is given parsed requests: the request module refuses bad windows, naming the field', () => {
    const fields = (value: unknown) => {
      try {
        parseRequest(momentRequest, value);
      } catch (err) {
        if (!isRasterizerError(err, 'invalid_request')) throw err;
        return Object.keys(err.fields ?? {});
      }
      return [];
    };
    const ok = { teamId: 1, sessionId: 's', startS: 1, endS: 4 };
    expect(fields({ ...ok, startS: -1 })).toEqual(['startS']);
    expect(fields({ ...ok, startS: Number.NaN })).toEqual(['startS']);
    expect(fields({ ...ok, startS: 10 })).toEqual(['endS']);
    expect(fields({ ...ok, minDurationS: -5 })).toEqual(['minDurationS']);
    expect(fields({ ...ok, recordingDurationS: 0 })).toEqual(['recordingDurationS']);
    expect(() => widenWindow({ startS: 120, endS: 130, recordingDurationS: 100 })).toThrow(/startS \(120 s\) is at or past the end of the recording \(100 s long\)/);
  });
});

describe('parseSegmentTime', () => {
  it.each([
    ['00:00', 0],
    ['01:05', 65],
    ['1:05', 65],
    ['75:00', 4500],
    ['01:05.5', 65.5],
    ['00:01:05', 65],
    ['1:02:03.25', 3723.25],
    [' 02:10 ', 130],
  ])('%s is %d s', (text, seconds) => {
    expect(parseSegmentTime(text)).toBe(seconds);
  });

  it.each(['', 'abc', '65', '1:60', '1:61:00', '1:2:3:4', '-1:00', '01:05s', '1h', '01:05:', ':05', '1.5:00'])('%j does not parse', (text) => {
    expect(parseSegmentTime(text)).toBeUndefined();
  });
});

describe('classifySegment', () => {
  const base = { start_time: '00:00', end_time: '00:10' };
  it('orders problems by severity', () => {
    expect(classifySegment({ ...base, exception: 'blocking', abandonment_detected: true, confusion_detected: true, success: false })).toBe('blocking_exception');
    expect(classifySegment({ ...base, exception: 'non-blocking', abandonment_detected: true, confusion_detected: true, success: false })).toBe('abandonment');
    expect(classifySegment({ ...base, exception: 'non-blocking', confusion_detected: true, success: false })).toBe('non_blocking_exception');
    expect(classifySegment({ ...base, confusion_detected: true, success: false })).toBe('confusion');
    expect(classifySegment({ ...base, success: false })).toBe('failure');
  });
  it('finds no problem in a successful or unremarkable segment', () => {
    expect(classifySegment({ ...base, success: true })).toBeUndefined();
    expect(classifySegment({ ...base, exception: null, abandonment_detected: false, confusion_detected: false, success: null })).toBeUndefined();
    expect(classifySegment(base)).toBeUndefined();
  });
});

describe('producer against Redis, PostgreSQL and S3', () => {
  let fixture: ServiceFixture;
  let config: Config;
  let pool: Pool;
  let producer: Producer;
  let assets: AssetRepository;
  let store: AssetStore;
  let queue: Queue;
  let source: Server;
  let sourceHits: Map<string, number>;
  let worker: WorkerHandle | undefined;
  const done = (id: number, teamId: number) => assets.markDone(id, { contentLocation: `s3://${fixture.s3.bucket}/${store.keyFor(teamId, id)}`, startS: 0, endS: 30, budgetSteps: [] });
  const rowCount = async () => (await pool.query('SELECT count(*)::int AS n FROM exported_assets')).rows[0].n as number;

  beforeAll(async () => {
    sourceHits = new Map();
    // The recording source for the worker: 404 for a missing session, 503 for a flaky store.
    source = createServer((req, res) => {
      const path = req.url ?? '';
      sourceHits.set(path, (sourceHits.get(path) ?? 0) + 1);
      res.statusCode = path.includes('flaky') ? 503 : 404;
      res.end();
    });
    await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
    fixture = await serviceFixture({
      RECORDINGS_URL_TEMPLATE: `http://127.0.0.1:${(source.address() as AddressInfo).port}/{team_id}/{session_id}`,
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '50',
      SWEEP_INTERVAL_S: '0',
      WORKER_METRICS_PORT: '0',
      WORKER_CONCURRENCY: '2',
      PUBLIC_BASE_URL: 'https://previews.example.test',
      RENDER_MAX_DURATION_S: '120',
    });
    config = loadConfig('worker', fixture.env);
    await runMigrations(config.database.url);
    pool = createPool(config.database.url, 4, 10_000);
    producer = new Producer({ config, pool, logger: createLogger('producer-test', 'silent') });
    assets = new AssetRepository(pool, config.assets.ttlDays);
    store = new AssetStore(createS3Client(config.s3), config.s3.bucket, config.s3.prefix);
    queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: fixture.prefix });
  });

  afterAll(async () => {
    await worker?.close();
    await producer?.close();
    await queue?.close();
    await pool?.end();
    store?.client.destroy();
    await new Promise<void>((r) => (source ? source.close(() => r()) : r()));
    await fixture?.close();
  });

  async function startTestWorker(): Promise<WorkerHandle> {
    worker ??= await startWorker(config, { logger: createLogger('worker-test', 'silent') });
    return worker;
  }

  async function objectExists(key: string): Promise<boolean> {
    try {
      await store.client.send(new GetObjectCommand({ Bucket: fixture.s3.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  it('creates the row and a job named after the asset and its job key, with the widened offsets', async () => {
    const out = await producer.enqueueMomentPreview({ teamId: 7, sessionId: 'sess-a', startS: 10, endS: 12, recordingDurationS: 200, fps: 8, width: 400 });
    const row = await assets.get(out.assetId);
    expect(row!.jobKey).toMatch(/^[0-9a-f]{16}$/);
    expect(out).toMatchObject({ status: 'queued', startS: 0, endS: 30, jobId: `asset-${out.assetId}-${row!.jobKey}`, deduplicated: false });
    expect(row).toMatchObject({ teamId: 7, status: 'queued', exportFormat: 'image/gif', contentLocation: null });
    expect(row!.exportContext).toMatchObject({ session_recording_id: 'sess-a', start_offset_s: 0, end_offset_s: 30, fps: 8, width: 400, playback_speed: 1, show_metadata_footer: false, max_bytes: 1048576 });
    const ttlDays = (row!.expiresAfter.getTime() - row!.createdAt.getTime()) / 86_400_000;
    expect(ttlDays).toBeCloseTo(90, 3);

    const job = await queue.getJob(out.jobId);
    expect(job?.data).toEqual({
      asset_id: out.assetId,
      job_key: row!.jobKey,
      team_id: 7,
      session_id: 'sess-a',
      start_offset_s: 0,
      end_offset_s: 30,
      min_duration_s: 30,
      options: { fps: 8, width: 400, playback_speed: 1, footer: false, max_bytes: 1048576 },
    });
    expect(job?.opts.attempts).toBe(2);

    // The same asset enqueued again is the same job, not a second one.
    expect(await producer.requeueAsset(out.assetId)).toBe(out.jobId);
    expect(await producer.requeueAsset(out.assetId)).toBe(out.jobId);
    const waiting = await queue.getJobs(['waiting', 'prioritized']);
    expect(waiting.filter((j) => j?.data.asset_id === out.assetId)).toHaveLength(1);
  });

  it('refuses bad requests before creating anything', async () => {
    const before = await rowCount();
    await expect(producer.enqueueMomentPreview({ teamId: 7, sessionId: '../etc/passwd', startS: 1, endS: 2 })).rejects.toThrow(/sessionId/);
    await expect(producer.enqueueMomentPreview({ teamId: -1, sessionId: 's', startS: 1, endS: 2 })).rejects.toThrow(/teamId must be positive/);
    await expect(producer.enqueueMomentPreview({ teamId: 7, sessionId: 's', startS: 5, endS: 2 })).rejects.toThrow(/endS \(2 s\) must not be before startS/);
    await expect(producer.enqueueMomentPreview({ teamId: 7, sessionId: 's', startS: 0, endS: 500 })).rejects.toThrow(/over the 120 s maximum/);
    await expect(producer.enqueueMomentPreview({ teamId: 7, sessionId: 's', startS: 0, endS: 5, maxBytes: 10 })).rejects.toThrow(/maxBytes must be at least 4096/);
    expect(await rowCount()).toBe(before);
  });

  it('fails fast with queue_unavailable and leaves no row when Redis is not there from the start', async () => {
    const port = await freePort(); // nothing listens there: connections are refused
    const offline = new Producer({ config: { ...config, redis: { ...config.redis, url: `redis://127.0.0.1:${port}` } }, pool, logger: createLogger('producer-test', 'silent') });
    try {
      const before = await rowCount();
      const started = performance.now();
      const err = await offline.enqueueMomentPreview({ teamId: 7, sessionId: 'sess-b', startS: 1, endS: 40 }).then(() => undefined, (e: unknown) => e);
      const tookMs = performance.now() - started;
      expect(isRasterizerError(err, 'queue_unavailable'), String(err)).toBe(true);
      expect(tookMs).toBeLessThan(3000);
      expect(await rowCount()).toBe(before);
    } finally {
      await offline.close();
    }
  });

  it('enqueues one preview per problem segment, most severe problem first, footer on, and explains the others', async () => {
    const results = await producer.enqueueSessionProblems({
      teamId: 9,
      sessionId: 'sess-problems',
      recordingDurationS: 600,
      segments: [
        { start_time: '00:10', end_time: '00:20', exception: 'non-blocking', abandonment_detected: true },
        { start_time: '01:00', end_time: '01:40', success: true },
        { start_time: '9:99', end_time: '10:10', exception: 'blocking' },
        { start_time: '00:09:50', end_time: '00:10:00', confusion_detected: true },
        { start_time: '02:00', end_time: '02:05.5', exception: 'blocking', success: false },
        { start_time: '03:00', end_time: '03:10', success: false },
        { start_time: '04:00', end_time: '03:00', success: false },
        { start_time: '20:00', end_time: '20:10', exception: 'non-blocking' },
        { start_time: 90, end_time: '01:40', success: false },
      ],
    });
    expect(results).toHaveLength(9);
    expect(results[0]).toMatchObject({ index: 0, problemType: 'abandonment', startS: 0, endS: 30 });
    expect(results[1]).toEqual({ index: 1, problemType: null, reason: 'no problem in this segment' });
    expect(results[2]).toEqual({ index: 2, problemType: 'blocking_exception', reason: expect.stringMatching(/start_time "9:99" is not MM:SS or HH:MM:SS/) });
    expect(results[3]).toMatchObject({ index: 3, problemType: 'confusion', startS: 570, endS: 600 });
    expect(results[4]).toMatchObject({ index: 4, problemType: 'blocking_exception', startS: 107.75, endS: 137.75 });
    expect(results[5]).toMatchObject({ index: 5, problemType: 'failure', startS: 170, endS: 200 });
    expect(results[6]).toMatchObject({ index: 6, problemType: 'failure', reason: expect.stringMatching(/before start_time/) });
    expect(results[7]).toMatchObject({ index: 7, problemType: 'non_blocking_exception', reason: expect.stringMatching(/past the end of the recording \(600 s long\)/) });
    expect(results[8]).toMatchObject({ index: 8, problemType: null, reason: expect.stringMatching(/malformed: start_time must be a string/) });

    const enqueued = results.flatMap((r) => ('assetId' in r ? [r] : []));
    expect(enqueued.map((r) => r.index)).toEqual([0, 3, 4, 5]);
    const rows = await assets.getManyForTeam(enqueued.map((r) => r.assetId), 9);
    expect([...rows.values()].map((a) => a.exportContext.problem_type).sort()).toEqual(['abandonment', 'blocking_exception', 'confusion', 'failure']);
    // Problem previews carry the metadata footer unless the caller says otherwise.
    expect([...rows.values()].every((a) => a.exportContext.show_metadata_footer === true)).toBe(true);
    for (const r of enqueued) expect(await queue.getJob(r.jobId)).toBeDefined();
  });

  it('shares one asset between identical problem clips unless it failed, and caps the segments per call', async () => {
    const seg = { start_time: '00:30', end_time: '00:35', exception: 'blocking' as const };
    const first = await producer.enqueueSessionProblems({ teamId: 10, sessionId: 'sess-dupes', segments: [seg, { ...seg, confusion_detected: true }] });
    expect(first[0]).toMatchObject({ deduplicated: false });
    expect(first[1]).toMatchObject({ deduplicated: true });
    const a = first[0] as { assetId: number; jobId: string };
    expect(first[1]).toMatchObject({ assetId: a.assetId, jobId: a.jobId });
    // Another team, another clip length or other options: another asset.
    const other = await producer.enqueueSessionProblems({ teamId: 16, sessionId: 'sess-dupes', segments: [seg] });
    const wider = await producer.enqueueSessionProblems({ teamId: 10, sessionId: 'sess-dupes', segments: [seg], minDurationS: 10 });
    const smaller = await producer.enqueueSessionProblems({ teamId: 10, sessionId: 'sess-dupes', segments: [seg], width: 320 });
    for (const r of [other[0], wider[0], smaller[0]]) expect((r as { assetId: number }).assetId).not.toBe(a.assetId);
    // Once it failed, the next call makes a new one.
    await assets.markFailed(a.assetId, (await assets.get(a.assetId))!.jobKey, 'boom');
    const again = await producer.enqueueSessionProblems({ teamId: 10, sessionId: 'sess-dupes', segments: [seg] });
    expect(again[0]).toMatchObject({ deduplicated: false });
    expect((again[0] as { assetId: number }).assetId).not.toBe(a.assetId);

    const before = await rowCount();
    const tooMany = Array.from({ length: LIMITS.segmentsPerCall + 1 }, () => seg);
    await expect(producer.enqueueSessionProblems({ teamId: 10, sessionId: 'sess-dupes', segments: tooMany })).rejects.toThrow(/segments may hold at most 100 segments per call/);
    expect(await rowCount()).toBe(before);
  });

  it("resolves signed URLs for a team's done assets and null for the rest, in one query", async () => {
    const mk = async (teamId = 11) => (await producer.enqueueMomentPreview({ teamId, sessionId: 'sess-urls', startS: 0, endS: 30 })).assetId;
    const [ok, failed, queued, expired, foreign] = [await mk(), await mk(), await mk(), await mk(), await mk(17)];
    await done(ok, 11);
    await assets.markFailed(failed, (await assets.get(failed))!.jobKey, 'boom');
    await done(expired, 11);
    await done(foreign, 17);
    await pool.query(`UPDATE exported_assets SET expires_after = now() - interval '1 minute' WHERE id = $1`, [expired]);

    const spy = vi.spyOn(pool, 'query');
    const urls = await producer.resolvePreviewUrls([ok, failed, queued, expired, foreign, 987654321], { teamId: 11 });
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();

    for (const id of [failed, queued, expired, foreign, 987654321]) expect(urls.get(id), String(id)).toBeNull();
    const url = urls.get(ok)!;
    expect(url).toMatch(/^https:\/\/previews\.example\.test\/public\/previews\/[\w-]+\.[\w-]+\.[\w-]+$/);
    const signer = new PreviewSigner(config.publicUrls.secret, config.publicUrls.baseUrl, config.publicUrls.ttlS);
    expect(await signer.verify(url.split('/').pop()!)).toEqual({ assetId: ok, teamId: 11 });
    expect((await producer.resolvePreviewUrls([foreign], { teamId: 17 })).get(foreign)).toMatch(/previews/);

    // Many ids still cost one query.
    const many = Array.from({ length: 300 }, (_, i) => ok + 10_000 + i);
    const spy2 = vi.spyOn(pool, 'query');
    await producer.resolvePreviewUrls(many, { teamId: 11 });
    expect(spy2).toHaveBeenCalledTimes(1);
    spy2.mockRestore();
  });

  it('deletes the asset (row and S3 object) of a job that fails for good, as the failure happens', async () => {
    await startTestWorker();
    const cleanup = await producer.startFailureCleanup({ sweepIntervalMs: 3_600_000 });
    try {
      const { assetId, jobId } = await producer.enqueueMomentPreview({ teamId: 12, sessionId: 'missing-session', startS: 0, endS: 30 });
      // As if an earlier attempt had uploaded before failing.
      const key = store.keyFor(12, assetId);
      await store.client.send(new PutObjectCommand({ Bucket: fixture.s3.bucket, Key: key, Body: Buffer.from('GIF89a') }));
      expect(await objectExists(key)).toBe(true);

      await waitFor('the failed asset to be deleted', async () => (await assets.get(assetId)) === undefined, 30_000);
      expect(await objectExists(key)).toBe(false);
      expect(await queue.getJob(jobId)).toBeUndefined();
      // A missing session is not retried.
      expect(sourceHits.get('/12/missing-session')).toBe(1);
    } finally {
      await cleanup.close();
    }
  });

  it('retries a transient failure with backoff, then cleans up once it fails for good', async () => {
    await startTestWorker();
    const cleanup = await producer.startFailureCleanup({ sweepIntervalMs: 3_600_000 });
    try {
      const { assetId } = await producer.enqueueMomentPreview({ teamId: 13, sessionId: 'flaky-session', startS: 0, endS: 30 });
      await waitFor('the failed asset to be deleted', async () => (await assets.get(assetId)) === undefined, 30_000);
      expect(sourceHits.get('/13/flaky-session')).toBe(2);
    } finally {
      await cleanup.close();
    }
  });

  it('sweeps failures that happened while no producer listened', async () => {
    const w = await startTestWorker();
    const { assetId, jobId } = await producer.enqueueMomentPreview({ teamId: 14, sessionId: 'missing-too', startS: 0, endS: 30 });
    const key = store.keyFor(14, assetId);
    await store.client.send(new PutObjectCommand({ Bucket: fixture.s3.bucket, Key: key, Body: Buffer.from('GIF89a') }));

    await waitFor('the job to fail', async () => (await queue.getJobState(jobId)) === 'failed', 30_000);
    const failed = await queue.getJob(jobId);
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/recording not found/);
    const row = await waitFor('the row to be marked failed', async () => {
      const a = await assets.get(assetId);
      return a?.status === 'failed' ? a : undefined;
    });
    expect(row.error).toMatch(/recording not found: .*answered 404/);
    expect(await w.metrics.registry.getSingleMetricAsString('rasterizer_jobs_total')).toMatch(/outcome="failed"} [1-9]/);
    expect(await w.metrics.registry.getSingleMetricAsString('rasterizer_errors_total')).toMatch(/code="recording_not_found"} [1-9]/);

    // A job that failed a moment ago is left alone while the grace period lasts.
    expect(await producer.sweepFailedAssets({ graceMs: 3_600_000 })).toBe(0);
    expect(await assets.get(assetId)).toBeDefined();

    expect(await producer.sweepFailedAssets()).toBeGreaterThanOrEqual(1);
    expect(await assets.get(assetId)).toBeUndefined();
    expect(await objectExists(key)).toBe(false);
    expect(await queue.getJob(jobId)).toBeUndefined();
  });

  it('sweeps rows marked failed whose jobs already left Redis, and never deletes a done asset', async () => {
    // The earlier tests' worker would take these jobs before they are removed and fail them itself.
    await worker?.close();
    worker = undefined;
    const a = await producer.enqueueMomentPreview({ teamId: 15, sessionId: 'gone', startS: 0, endS: 30 });
    const b = await producer.enqueueMomentPreview({ teamId: 15, sessionId: 'fine', startS: 0, endS: 30 });
    // Take them out of the queue as if they had failed and been evicted long ago.
    await queue.remove(a.jobId);
    await queue.remove(b.jobId);
    await assets.markFailed(a.assetId, (await assets.get(a.assetId))!.jobKey, 'it went wrong');
    await done(b.assetId, 15);
    expect(await producer.deleteAsset(b.assetId)).toBe('kept');
    await producer.sweepFailedAssets();
    expect(await assets.get(a.assetId)).toBeUndefined();
    expect(await assets.get(b.assetId)).toMatchObject({ status: 'done' });
  });
});
