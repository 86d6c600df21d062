import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { startServer } from '../../src/http/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { QUEUE_NAME } from '../../src/queue/job.js';
import { freePort } from '../support/private-services.js';
import { API_TOKEN, REDIS_URL, serverFixture, type ServerFixture, type ServiceFixture } from './env.js';

/**
 * Issue 9's contract for callers, against the real server code with Redis, PostgreSQL and the S3
 * server behind it (the end-to-end file adds worker processes and the Python client).
 */

const root = join(import.meta.dirname, '..', '..');
const auth = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };

let served: ServerFixture;
let fixture: ServiceFixture;
let config: Config;
let base: string;
let pool: pg.Pool;
let logLines: string[];

beforeAll(async () => {
  served = await serverFixture();
  ({ fixture, config, base, pool, logLines } = served);
});

afterAll(() => served?.close());

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: auth, body: JSON.stringify(body) });
const rows = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM exported_assets')).rows[0]!.n;

/** A server whose Redis or PostgreSQL is a port nothing listens on, from start-up. */
async function serverWithout(what: 'redis' | 'postgres'): Promise<{ base: string; close(): Promise<void> }> {
  const port = await freePort();
  const broken: Config =
    what === 'redis'
      ? { ...config, redis: { ...config.redis, url: `redis://127.0.0.1:${port}` }, database: { ...config.database, migrateOnStart: false } }
      : { ...config, database: { ...config.database, url: `postgres://postgres@127.0.0.1:${port}/test`, migrateOnStart: false, queryTimeoutMs: 2000 } };
  const handle = await startServer(broken, { logger: createLogger('server', 'info', { write: (l: string) => void logLines.push(l) }) });
  return { base: `http://127.0.0.1:${handle.port}`, close: () => handle.close() };
}

describe('OpenAPI', () => {
  it('is served at /v1/openapi.json and the committed openapi.json is current (run `npm run openapi` when this fails)', async () => {
    const served = await (await fetch(`${base}/v1/openapi.json`)).json();
    const committed = JSON.parse(readFileSync(join(root, 'openapi.json'), 'utf8')) as unknown;
    expect(served).toEqual(openApiDocument());
    expect(committed, 'openapi.json is stale: run `npm run openapi` and commit it').toEqual(served);
  });

  it('describes every route, the error codes and the job data from the same schemas the server parses with', () => {
    const doc = openApiDocument() as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> } };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/rasterize', '/v1/sessions/{session_id}/problem-previews', '/v1/assets/{id}', '/v1/assets/preview-urls', '/public/previews/{token}']));
    const rasterize = doc.components.schemas.RasterizeRequest!;
    expect(rasterize.required).toEqual(['team_id', 'session_id', 'start_offset_s', 'end_offset_s']);
    expect(rasterize.properties!.max_bytes).toMatchObject({ type: 'integer', minimum: 4096 });
    expect(rasterize.properties!.fps).toMatchObject({ minimum: 1, maximum: 50 });
    expect(doc.components.schemas.JobData!.properties!.options).toMatchObject({ properties: { max_bytes: { default: 1048576 }, playback_speed: { maximum: 16 } } });
    expect(doc.components.schemas.ProblemPreviewsRequest!.properties!.segments).toMatchObject({ maxItems: 100 });
  });
});

describe('problem previews over HTTP', () => {
  const url = (session: string) => `${base}/v1/sessions/${session}/problem-previews`;

  it('answers per segment, shares identical clips, puts the footer on and caps the segments per call', async () => {
    const segments = [
      { start_time: '00:30', end_time: '00:35', exception: 'blocking', summary: 'kept and ignored' },
      { start_time: '00:30', end_time: '00:35', confusion_detected: true },
      { start_time: '01:00', end_time: '01:10', success: true },
      { start_time: 'soon', end_time: '01:10', success: false },
    ];
    const res = await post(url('sess-http-problems'), { team_id: 41, segments, recording_duration_s: 120 });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { session_id: string; previews: Record<string, unknown>[] };
    expect(body.session_id).toBe('sess-http-problems');
    const [a, b, c, d] = body.previews;
    expect(a).toEqual({ index: 0, problem_type: 'blocking_exception', asset_id: expect.any(Number), job_id: expect.any(String), start_offset_s: 17.5, end_offset_s: 47.5, deduplicated: false });
    expect(b).toEqual({ ...a, index: 1, problem_type: 'confusion', deduplicated: true });
    expect(c).toEqual({ index: 2, problem_type: null, reason: 'no problem in this segment' });
    expect(d).toEqual({ index: 3, problem_type: 'failure', reason: 'start_time "soon" is not MM:SS or HH:MM:SS' });
    const row = await pool.query('SELECT export_context FROM exported_assets WHERE id = $1', [a!.asset_id]);
    expect(row.rows[0].export_context).toMatchObject({ show_metadata_footer: true, problem_type: 'blocking_exception', max_bytes: 1048576 });
    // Calling again with the same segments finds the same asset: one render for one clip.
    const again = (await (await post(url('sess-http-problems'), { team_id: 41, segments: [segments[0]], recording_duration_s: 120 })).json()) as { previews: Record<string, unknown>[] };
    expect(again.previews[0]).toMatchObject({ asset_id: a!.asset_id, deduplicated: true });

    const before = await rows();
    const tooMany = await post(url('sess-http-problems'), { team_id: 41, segments: Array.from({ length: 101 }, () => segments[0]) });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ error: 'invalid_request', fields: { segments: 'segments may hold at most 100 segments per call' } });
    expect((await post(url('../etc'), { team_id: 41, segments })).status).toBe(404); // not a route: the path does not match
    expect((await post(url('bad..id'), { team_id: 41, segments })).status).toBe(400);
    expect((await post(url('s'), { segments })).status).toBe(400);
    expect((await post(url('s'), { team_id: 41, segments, footer: 'yes' })).status).toBe(400);
    expect(await rows()).toBe(before);
    // A footer can still be turned off.
    const plain = (await (await post(url('sess-http-plain'), { team_id: 41, segments: [segments[0]], footer: false })).json()) as { previews: { asset_id: number }[] };
    const plainRow = await pool.query('SELECT export_context FROM exported_assets WHERE id = $1', [plain.previews[0]!.asset_id]);
    expect(plainRow.rows[0].export_context).toMatchObject({ show_metadata_footer: false });
  });
});

describe('fail fast without Redis', () => {
  it('refuses enqueues within about 2 s with 503 queue_unavailable and no row; /readyz 503; /metrics still answers', async () => {
    const offline = await serverWithout('redis');
    try {
      const before = await rows();
      for (const [path, body] of [
        ['/v1/rasterize', { team_id: 42, session_id: 's', start_offset_s: 1, end_offset_s: 2 }],
        ['/v1/sessions/s/problem-previews', { team_id: 42, segments: [{ start_time: '00:01', end_time: '00:02', exception: 'blocking' }] }],
      ] as const) {
        const started = performance.now();
        const res = await post(`${offline.base}${path}`, body);
        const took = performance.now() - started;
        expect(res.status, path).toBe(503);
        const answer = (await res.json()) as Record<string, string>;
        expect(answer).toMatchObject({ error: 'queue_unavailable', request_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
        expect(res.headers.get('x-request-id')).toBe(answer.request_id);
        expect(took, path).toBeLessThan(3000);
      }
      expect(await rows()).toBe(before);
      const ready = await fetch(`${offline.base}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks).toMatchObject({ postgres: 'ok', s3: 'ok', redis: expect.not.stringMatching(/^ok$/) });
      const metrics = await fetch(`${offline.base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/rasterizer_errors_total\{code="queue_unavailable"} 2/);
    } finally {
      await offline.close();
    }
  });
});

describe('error answers', () => {
  it('PostgreSQL down is a 500 with a generic message and a request id, never a 400 with the internal error', async () => {
    const offline = await serverWithout('postgres');
    try {
      const urls = await post(`${offline.base}/v1/assets/preview-urls`, { team_id: 1, asset_ids: [1] });
      expect(urls.status).toBe(500);
      const body = (await urls.json()) as Record<string, string>;
      expect(body).toEqual({ error: 'internal', message: 'something went wrong on our side; try again', request_id: expect.any(String) });
      expect((await fetch(`${offline.base}/v1/assets/1?team_id=1`, { headers: auth })).status).toBe(500);
      const enqueue = await post(`${offline.base}/v1/rasterize`, { team_id: 1, session_id: 's', start_offset_s: 1, end_offset_s: 2 });
      expect(enqueue.status).toBe(500);
      // The details are in the log line of that request, found by its id.
      const line = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request failed' && (l.req as { id?: string } | undefined)?.id === body.request_id);
      expect(line).toBeDefined();
      expect(JSON.stringify(line)).toMatch(/ECONNREFUSED/);
      // Bad bodies are still 400s.
      expect((await fetch(`${offline.base}/v1/rasterize`, { method: 'POST', headers: auth, body: '{"team_id":' })).status).toBe(400);
    } finally {
      await offline.close();
    }
  });
});

describe('job ids that survive a database reset', () => {
  it('new rows with recycled ids get new jobs while Redis still holds the old ones', async () => {
    const moment = { team_id: 43, session_id: 'sess-reset', start_offset_s: 5, end_offset_s: 10 };
    const first = (await (await post(`${base}/v1/rasterize`, moment)).json()) as { asset_id: number; job_id: string };
    // The database starts again from nothing; Redis keeps its jobs.
    await pool.query('TRUNCATE exported_assets RESTART IDENTITY');
    const second = (await (await post(`${base}/v1/rasterize`, moment)).json()) as { asset_id: number; job_id: string };
    expect(second.asset_id).toBe(1);
    expect(second.asset_id).toBeLessThanOrEqual(first.asset_id);
    expect(second.job_id).not.toBe(first.job_id);
    const queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: fixture.prefix });
    try {
      const job = await queue.getJob(second.job_id);
      expect(job?.data).toMatchObject({ asset_id: second.asset_id, team_id: 43 });
      expect(await queue.getJobState(second.job_id)).toBe('waiting');
    } finally {
      await queue.close();
    }
  });
});
