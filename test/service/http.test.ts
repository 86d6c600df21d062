import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startServer, type ServerHandle } from '../../src/http/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { jobIdForAsset } from '../../src/queue/job.js';
import { PreviewSigner } from '../../src/signing/public-url.js';
import { API_TOKEN, PUBLIC_SECRET, createTestDatabase, dropQueuePrefix, serviceEnv, startS3, uniqueName, type TestDatabase, type TestS3 } from './env.js';

describe('HTTP server', () => {
  let db: TestDatabase;
  let s3: TestS3;
  let prefix: string;
  let config: Config;
  let server: ServerHandle;
  let base: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    [db, s3] = await Promise.all([createTestDatabase(), startS3()]);
    prefix = uniqueName('bull');
    const env = serviceEnv({ db, s3, queuePrefix: prefix, extra: { PORT: '0', HOST: '127.0.0.1', RENDER_MAX_DURATION_S: '300', LOG_LEVEL: 'info' } });
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY });
    config = loadConfig('server', env);
    const logger = createLogger('server', 'info', { write: (line: string) => void logLines.push(line) });
    server = await startServer(config, { logger });
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close();
    await Promise.allSettled([db?.drop(), s3?.close(), prefix ? dropQueuePrefix(prefix) : undefined]);
  });

  const auth = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(base + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const get = (path: string, headers: Record<string, string> = auth) => fetch(base + path, { headers });

  it('is healthy and ready when Redis, PostgreSQL and S3 answer', async () => {
    expect((await get('/healthz', {})).status).toBe(200);
    const ready = await get('/readyz', {});
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { redis: 'ok', postgres: 'ok', s3: 'ok' } });
  });

  it('is not ready when S3 does not answer', async () => {
    const broken = await startServer({ ...config, s3: { ...config.s3, endpoint: 'http://127.0.0.1:9' }, database: { ...config.database, migrateOnStart: false } }, { logger: createLogger('server', 'silent') });
    try {
      const ready = await fetch(`http://127.0.0.1:${broken.port}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { checks: Record<string, string> };
      expect(body.checks.redis).toBe('ok');
      expect(body.checks.postgres).toBe('ok');
      expect(body.checks.s3).not.toBe('ok');
    } finally {
      await broken.close();
    }
  });

  it('wants the bearer token on /v1', async () => {
    const body = { team_id: 1, session_id: 's', start_offset_s: 0, end_offset_s: 10 };
    const none = await post('/v1/rasterize', body, { 'content-type': 'application/json' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post('/v1/rasterize', body, { ...auth, authorization: 'Bearer wrong-token' })).status).toBe(401);
    expect((await post('/v1/rasterize', body, { ...auth, authorization: API_TOKEN })).status).toBe(401);
    expect((await get('/v1/assets/1', {})).status).toBe(401);
    expect((await post('/v1/assets/preview-urls', { asset_ids: [1] }, { 'content-type': 'application/json' })).status).toBe(401);
  });

  it('enqueues a moment and answers 202 with the widened offsets', async () => {
    const res = await post('/v1/rasterize', { team_id: 21, session_id: 'sess-1', start_offset_s: 95, end_offset_s: 98, recording_duration_s: 100, fps: 8, width: 480, footer: true });
    expect(res.status).toBe(202);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ asset_id: expect.any(Number), job_id: `asset-${body.asset_id}`, status: 'queued', start_offset_s: 70, end_offset_s: 100 });
    const job = await server.producer.queue.getJob(body.job_id as string);
    expect(job?.data).toMatchObject({ team_id: 21, session_id: 'sess-1', start_offset_s: 70, end_offset_s: 100, options: { fps: 8, width: 480, footer: true, playback_speed: 1 } });

    const custom = await post('/v1/rasterize', { team_id: 21, session_id: 'sess-1', start_offset_s: 10, end_offset_s: 11, min_duration_s: 4, playback_speed: 2 });
    expect(await custom.json()).toMatchObject({ start_offset_s: 8.5, end_offset_s: 12.5 });
  });

  it('answers 400 with a message per bad field', async () => {
    const cases: [unknown, Record<string, RegExp>][] = [
      [{}, { team_id: /team_id is required/, session_id: /session_id is required/, start_offset_s: /is required/, end_offset_s: /is required/ }],
      [{ team_id: 'one', session_id: 's', start_offset_s: 0, end_offset_s: 1 }, { team_id: /team_id must be a number/ }],
      [{ team_id: 1, session_id: '../x', start_offset_s: 0, end_offset_s: 1 }, { session_id: /letters, digits/ }],
      [{ team_id: 1, session_id: 's', start_offset_s: -1, end_offset_s: 1 }, { start_offset_s: /must not be negative/ }],
      [{ team_id: 1, session_id: 's', start_offset_s: 5, end_offset_s: 1 }, { end_offset_s: /must not be before start_offset_s/ }],
      [{ team_id: 1, session_id: 's', start_offset_s: 0, end_offset_s: 1, fps: 500, width: 10, playback_speed: 0 }, { fps: /at most 50/, width: /at least 64/, playback_speed: /above 0/ }],
      [{ team_id: 1, session_id: 's', start_offset_s: 0, end_offset_s: 1, colour: 'red' }, { colour: /unknown field/ }],
      [{ team_id: 1, session_id: 's', start_offset_s: 150, end_offset_s: 160, recording_duration_s: 100 }, { start_offset_s: /past the recording's end/ }],
      [{ team_id: 1, session_id: 's', start_offset_s: 0, end_offset_s: 400 }, { end_offset_s: /over the 300 s maximum/ }],
    ];
    for (const [body, fields] of cases) {
      const res = await post('/v1/rasterize', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const json = (await res.json()) as { error: string; message: string; fields: Record<string, string> };
      expect(json.error).toBe('invalid_request');
      for (const [field, pattern] of Object.entries(fields)) expect(json.fields[field], `${field} in ${JSON.stringify(json)}`).toMatch(pattern);
      expect(json.message.length).toBeGreaterThan(0);
    }
    const bad = await post('/v1/rasterize', '{"team_id": 1,');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_json' });
  });

  async function newAsset(teamId = 22): Promise<number> {
    const res = await post('/v1/rasterize', { team_id: teamId, session_id: 'sess-2', start_offset_s: 0, end_offset_s: 30 });
    return ((await res.json()) as { asset_id: number }).asset_id;
  }

  it('reports an asset with its progress, location and public URL', async () => {
    const id = await newAsset();
    const queued = await get(`/v1/assets/${id}`);
    expect(queued.status).toBe(200);
    expect(await queued.json()).toMatchObject({ id, status: 'queued', progress: null, content_location: null, public_url: null, error: null });

    await server.producer.assets.markRendering(id);
    await (await server.producer.queue.getJob(jobIdForAsset(id)))!.updateProgress({ done: 3, total: 10, captured: 2 });
    expect(await (await get(`/v1/assets/${id}`)).json()).toMatchObject({ status: 'rendering', progress: { done: 3, total: 10 } });

    const location = `s3://${s3.bucket}/${server.producer.store.keyFor(22, id)}`;
    await server.producer.assets.markDone(id, location);
    const done = (await (await get(`/v1/assets/${id}`)).json()) as { public_url: string };
    expect(done).toMatchObject({ status: 'done', content_location: location, progress: null });
    expect(done.public_url).toMatch(new RegExp(`^${config.publicUrls.baseUrl}/public/previews/`));

    expect((await get('/v1/assets/abc')).status).toBe(400);
    expect((await get('/v1/assets/0')).status).toBe(400);
    expect((await get('/v1/assets/99999999')).status).toBe(404);
  });

  it('resolves preview URLs for many ids at once', async () => {
    const done = await newAsset();
    const pending = await newAsset();
    await server.producer.assets.markDone(done, `s3://${s3.bucket}/${server.producer.store.keyFor(22, done)}`);
    const res = await post('/v1/assets/preview-urls', { asset_ids: [done, pending, 123456789] });
    expect(res.status).toBe(200);
    const { urls } = (await res.json()) as { urls: Record<string, string | null> };
    expect(Object.keys(urls).sort()).toEqual([String(done), String(pending), '123456789'].sort());
    expect(urls[String(done)]).toMatch(/\/public\/previews\//);
    expect(urls[String(pending)]).toBeNull();
    expect(urls['123456789']).toBeNull();
    const bad = await post('/v1/assets/preview-urls', { asset_ids: ['x'] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { fields: Record<string, string> }).fields['asset_ids.0']).toMatch(/numbers/);
    expect((await post('/v1/assets/preview-urls', {})).status).toBe(400);
  });

  it('streams a GIF for a valid public token and refuses bad, expired, foreign or missing ones', async () => {
    const id = await newAsset(23);
    const key = server.producer.store.keyFor(23, id);
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(5000, 7)]);
    await server.producer.store.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: gif, ContentType: 'image/gif' }));
    const signer = server.producer.signer;

    const notDone = await signer.url({ assetId: id, teamId: 23 });
    expect((await fetch(notDone.replace(config.publicUrls.baseUrl, base))).status).toBe(404);

    await server.producer.assets.markDone(id, `s3://${s3.bucket}/${key}`);
    const res = await fetch((await signer.url({ assetId: id, teamId: 23 })).replace(config.publicUrls.baseUrl, base));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(Buffer.from(await res.arrayBuffer()).equals(gif)).toBe(true);

    const token = await signer.sign({ assetId: id, teamId: 23 });
    const tampered = token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA');
    const r1 = await fetch(`${base}/public/previews/${tampered}`);
    expect(r1.status).toBe(401);
    expect(await r1.json()).toMatchObject({ error: 'invalid_token' });
    expect((await fetch(`${base}/public/previews/not-a-jwt`)).status).toBe(401);

    const otherSecret = new PreviewSigner('another-secret-another-secret-12345', base, 3600);
    expect((await fetch(`${base}/public/previews/${await otherSecret.sign({ assetId: id, teamId: 23 })}`)).status).toBe(401);

    const expiredSigner = new PreviewSigner(PUBLIC_SECRET, base, 60);
    const expired = await fetch(`${base}/public/previews/${await expiredSigner.sign({ assetId: id, teamId: 23 }, new Date(Date.now() - 3600_000))}`);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: 'token_expired' });

    expect((await fetch(`${base}/public/previews/${await signer.sign({ assetId: id, teamId: 24 })}`)).status).toBe(403);
    expect((await fetch(`${base}/public/previews/${await signer.sign({ assetId: 99999999, teamId: 23 })}`)).status).toBe(404);

    // The row is gone: 404, even with a valid token.
    await server.producer.deleteAsset(id, { evenIfDone: true });
    expect((await fetch(`${base}/public/previews/${token}`)).status).toBe(404);

    // Tokens are credentials: no log line holds one.
    const joined = logLines.join('');
    expect(joined).toContain('/public/previews/[token]');
    expect(joined).not.toContain(token);
    expect(joined).not.toContain(API_TOKEN);
    expect(logLines.some((l) => JSON.parse(l).asset_id === id)).toBe(true);
  });

  it('serves Prometheus metrics with the queue depth and requests', async () => {
    const res = await get('/metrics', {});
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/rasterizer_queue_jobs\{state="waiting"} [1-9]\d*/);
    expect(text).toMatch(/rasterizer_http_requests_total\{method="POST",route="\/v1\/rasterize",status="202"} [1-9]/);
    expect(text).toContain('rasterizer_jobs_total');
  });
});
