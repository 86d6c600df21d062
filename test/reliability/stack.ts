import { appendFileSync, mkdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Queue, type Job } from 'bullmq';
import pg from 'pg';
import { expect } from 'vitest';
import { QUEUE_NAME, jobIdForAsset } from '../../src/queue/job.js';
import { API_TOKEN, REDIS_URL, createTestDatabase, dropQueuePrefix, serviceEnv, startS3, uniqueName, type TestDatabase, type TestS3 } from '../service/env.js';
import { freePort } from '../support/private-services.js';
import { logLines, waitUntil, type ServiceProcess } from '../support/service-procs.js';

/** How long a worker's log line may trail the job state it reports (expectDoneOnce). */
const LOG_FLUSH_MS = 5_000;

/**
 * What every reliability scenario sets up: a PostgreSQL database (the shared server's, or a private
 * one for tests that stop it), a BullMQ prefix (in the shared Redis, or a private one), an in-process
 * S3 server, and a recordings directory holding examples/journey.json.gz as `<team>/journey`. The
 * checks at the end of a scenario read these directly, never through the fault proxies.
 */

const root = join(import.meta.dirname, '..', '..');
export const TEAM = 11;
export const JOURNEY = 'journey';
/** examples/journey.json.gz lasts 72.8 s at 1280x800. */
export const JOURNEY_S = 72.8;

export interface Stack {
  db: { url: string; drop(): Promise<void> };
  s3: TestS3;
  prefix: string;
  redisUrl: string;
  dir: string;
  s3client: S3Client;
  queue: Queue;
  pool: pg.Pool;
  /** Environment for server and worker processes; `overrides` point them elsewhere (e.g. at proxies). */
  env(overrides?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function createStack(options: { databaseUrl?: string; redisUrl?: string } = {}): Promise<Stack> {
  let db: TestDatabase | { url: string; drop(): Promise<void> };
  if (options.databaseUrl) db = { url: options.databaseUrl, drop: async () => {} };
  else db = await createTestDatabase();
  const s3 = await startS3();
  const prefix = uniqueName('bull');
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const dir = await mkdtemp(join(tmpdir(), 'rr-reliability-'));
  await mkdir(join(dir, String(TEAM)));
  await copyFile(join(root, 'examples', 'journey.json.gz'), join(dir, String(TEAM), `${JOURNEY}.jsonl.gz`));
  const s3client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  // maxRetriesPerRequest: null so that the checks ride out a Redis restart instead of failing.
  const queue = new Queue(QUEUE_NAME, { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix });
  queue.on('error', () => {});
  const pool = new pg.Pool({ connectionString: db.url, max: 3 });
  pool.on('error', () => {});
  return {
    db,
    s3,
    prefix,
    redisUrl,
    dir,
    s3client,
    queue,
    pool,
    env(overrides = {}) {
      const base = serviceEnv({ db: db as TestDatabase, s3, queuePrefix: prefix });
      return {
        ...base,
        REDIS_URL: redisUrl,
        HOST: '127.0.0.1',
        RECORDINGS_DIR: dir,
        LOG_LEVEL: 'info',
        SWEEP_INTERVAL_S: '0',
        WORKER_METRICS_PORT: '0',
        JOB_BACKOFF_MS: '200',
        ...overrides,
      };
    },
    async close() {
      await queue.close().catch(() => {});
      await pool.end().catch(() => {});
      s3client.destroy();
      await Promise.allSettled([db.drop(), s3.close(), options.redisUrl ? undefined : dropQueuePrefix(prefix), rm(dir, { recursive: true, force: true })]);
    },
  };
}

export { API_TOKEN, freePort };

export interface RowState {
  id: number;
  team_id: number;
  status: string;
  content_location: string | null;
  error: string | null;
  updated_at: Date;
}

export async function row(stack: Stack, id: number): Promise<RowState | undefined> {
  const { rows } = await stack.pool.query<RowState>('SELECT id::int AS id, team_id::int AS team_id, status, content_location, error, updated_at FROM exported_assets WHERE id = $1', [id]);
  return rows[0];
}

export async function allRows(stack: Stack): Promise<RowState[]> {
  const { rows } = await stack.pool.query<RowState>('SELECT id::int AS id, team_id::int AS team_id, status, content_location, error, updated_at FROM exported_assets ORDER BY id');
  return rows;
}

/** Every key in the previews bucket. */
export async function bucketKeys(stack: Stack): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await stack.s3client.send(new ListObjectsV2Command({ Bucket: stack.s3.bucket, ContinuationToken: token }));
    for (const o of out.Contents ?? []) keys.push(o.Key!);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export function keyFor(assetId: number, team = TEAM): string {
  return `previews/test/team-${team}/asset-${assetId}.gif`;
}

export function locationFor(stack: Stack, assetId: number, team = TEAM): string {
  return `s3://${stack.s3.bucket}/${keyFor(assetId, team)}`;
}

/** Job ids seen per asset (from POST answers and rows), for assets whose row is gone by the time a check asks. */
const knownJobIds = new Map<number, string>();

/** An asset's job id: `asset-<id>-<job key>`, the key read from its row. */
export async function jobIdOf(stack: Stack, assetId: number): Promise<string> {
  const { rows } = await stack.pool.query<{ job_key: string | null }>('SELECT job_key FROM exported_assets WHERE id = $1', [assetId]).catch(() => ({ rows: [] as { job_key: string | null }[] }));
  if (rows[0]) knownJobIds.set(assetId, jobIdForAsset(assetId, rows[0].job_key));
  return knownJobIds.get(assetId) ?? jobIdForAsset(assetId);
}

export async function job(stack: Stack, assetId: number): Promise<Job | undefined> {
  return stack.queue.getJob(await jobIdOf(stack, assetId));
}

export async function jobState(stack: Stack, assetId: number): Promise<string> {
  return stack.queue.getJobState(await jobIdOf(stack, assetId));
}

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

export async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<PostResult> {
  const started = performance.now();
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, body: json, ms: performance.now() - started };
}

/** POST /v1/rasterize of a short moment of the journey (no widening); returns the asset id. */
export async function enqueueMoment(base: string, window: { start: number; end: number; fps?: number; width?: number; session?: string; team?: number }): Promise<number> {
  const res = await post(base, '/v1/rasterize', {
    team_id: window.team ?? TEAM,
    session_id: window.session ?? JOURNEY,
    start_offset_s: window.start,
    end_offset_s: window.end,
    min_duration_s: 0,
    fps: window.fps ?? 5,
    width: window.width ?? 240,
  });
  if (res.status !== 202) throw new Error(`POST /v1/rasterize answered ${res.status}: ${JSON.stringify(res.body)}`);
  knownJobIds.set(res.body.asset_id as number, res.body.job_id as string);
  return res.body.asset_id as number;
}

export async function waitSettled(stack: Stack, assetId: number, timeoutMs = 120_000): Promise<RowState | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await row(stack, assetId).catch(() => undefined);
    const state = await jobState(stack, assetId).catch(() => 'unknown');
    if ((state === 'completed' || state === 'failed') && r?.status !== 'rendering') return r;
    if (state === 'unknown' && r === undefined) return undefined;
    if (Date.now() > deadline) throw new Error(`asset ${assetId} did not settle in ${timeoutMs} ms (job ${state}, row ${r?.status})`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * The end state every fault scenario wants: the job completed, the row done and pointing at the
 * asset's key, that object in the bucket, and one render logged for it across all workers.
 */
export async function expectDoneOnce(stack: Stack, assetId: number, workers: ServiceProcess[]): Promise<{ attemptsMade: number; renders: number }> {
  const j = await job(stack, assetId);
  expect(await jobState(stack, assetId), `job of asset ${assetId}: ${j?.failedReason ?? ''}`).toBe('completed');
  const r = await row(stack, assetId);
  expect(r, `row of asset ${assetId}`).toMatchObject({ status: 'done', content_location: locationFor(stack, assetId), error: null });
  expect(await bucketKeys(stack)).toContain(keyFor(assetId));
  // pino writes through sonic-boom asynchronously: under load the line can reach the pipe after the
  // job completed in Redis (CI once read none, stop 40). Waited for, then counted exactly.
  await waitUntil(`the render of asset ${assetId} logged`, () => logLines(workers, 'rendered', assetId).length > 0 || undefined, LOG_FLUSH_MS, 20).catch(() => {});
  const renders = logLines(workers, 'rendered', assetId).length;
  expect(renders, `renders logged for asset ${assetId}`).toBe(1);
  return { attemptsMade: j?.attemptsMade ?? 0, renders };
}

/** The bucket holds exactly the GIFs of the rows that are done, nothing else. */
export async function expectBucketMatchesDoneRows(stack: Stack): Promise<void> {
  const done = (await allRows(stack)).filter((r) => r.status === 'done').map((r) => keyFor(r.id, r.team_id)).sort();
  expect(await bucketKeys(stack)).toEqual(done);
}

/**
 * One line per scenario for RELIABILITY.md: printed, and appended to .tmp/reliability-results.jsonl
 * so a run's figures can be read back.
 */
export function report(scenario: string, figures: Record<string, unknown>): void {
  const line = { scenario, at: new Date().toISOString(), ...figures };
  console.info(`[reliability] ${JSON.stringify(line)}`);
  mkdirSync(join(root, '.tmp'), { recursive: true });
  appendFileSync(join(root, '.tmp', 'reliability-results.jsonl'), JSON.stringify(line) + '\n');
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
