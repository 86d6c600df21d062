import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { AssetRepository } from '../../src/db/assets.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { startServer, type ServerHandle } from '../../src/http/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { PreviewSigner } from '../../src/signing/public-url.js';
import { AssetStore, createS3Client } from '../../src/storage/s3.js';
import { API_TOKEN, PUBLIC_SECRET, serviceFixture, type ServiceFixture } from './env.js';

describe('HTTP server', () => {
  let fixture: ServiceFixture;
  let config: Config;
  let server: ServerHandle;
  let base: string;
  let pool: Pool;
  let assets: AssetRepository;
  let store: AssetStore;
  const logLines: string[] = [];
  const hours = (h: number) => new Date(Date.now() + h * 3600_000);

  beforeAll(async () => {
    fixture = await serviceFixture({ PORT: '0', HOST: '127.0.0.1', RENDER_MAX_DURATION_S: '300', LOG_LEVEL: 'info' });
    config = loadConfig('server', fixture.env);
    const logger = createLogger('server', 'info', { write: (line: string) => void logLines.push(line) });
    server = await startServer(config, { logger });
    base = `http://127.0.0.1:${server.port}`;
    pool = createPool(config.database.url, 2, 10_000);
    assets = new AssetRepository(pool, 90);
    store = new AssetStore(createS3Client(config.s3), config.s3.bucket, config.s3.prefix);
  });

  afterAll(async () => {
    await server?.close();
    await pool?.end();
    store?.client.destroy();
    await fixture?.close();
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
    expect((await get('/v1/assets/1?team_id=1', {})).status).toBe(401);
    expect((await post('/v1/assets/preview-urls', { team_id: 1, asset_ids: [1] }, { 'content-type': 'application/json' })).status).toBe(401);
  });

  it('enqueues a moment and answers 202 with the widened offsets', async () => {
    const res = await post('/v1/rasterize', { team_id: 21, session_id: 'sess-1', start_offset_s: 95, end_offset_s: 98, recording_duration_s: 100, fps: 8, width: 480, footer: true });
    expect(res.status).toBe(202);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ asset_id: expect.any(Number), job_id: expect.stringMatching(new RegExp(`^asset-${body.asset_id}-[0-9a-f]{16}$`)), status: 'queued', start_offset_s: 70, end_offset_s: 100 });
    const job = await server.jobs.queue.getJob(body.job_id as string);
    expect(job?.data).toMatchObject({ team_id: 21, session_id: 'sess-1', start_offset_s: 70, end_offset_s: 100, options: { fps: 8, width: 480, footer: true, playback_speed: 1, max_bytes: 1048576 } });

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
      [{ team_id: 1, session_id: 's', start_offset_s: 0, end_offset_s: 1, max_bytes: 100 }, { max_bytes: /max_bytes must be at least 4096/ }],
      [{ team_id: 1, session_id: 's', start_offset_s: 0, end_offset_s: 1, fps: 500, width: 10, playback_speed: 0 }, { fps: /at most 50/, width: /at least 64/, playback_speed: /above 0/ }],
      [{ team_id: 1, session_id: 's', start_offset_s: 0, end_offset_s: 1, colour: 'red' }, { colour: /colour is not a field of this request/ }],
      [{ team_id: 1, session_id: 's', start_offset_s: 150, end_offset_s: 160, recording_duration_s: 100 }, { start_offset_s: /past the end of the recording \(100 s long\)/ }],
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
    const queued = await get(`/v1/assets/${id}?team_id=22`);
    expect(queued.status).toBe(200);
    expect(await queued.json()).toMatchObject({ id, status: 'queued', progress: null, content_location: null, public_url: null, error: null, start_offset_s: 0, end_offset_s: 30, max_bytes: 1048576, budget_steps: null });

    await assets.markRendering(id);
    const asset = (await assets.get(id))!;
    await (await server.jobs.queue.getJob(`asset-${id}-${asset.jobKey}`))!.updateProgress({ done: 3, total: 10, captured: 2 });
    expect(await (await get(`/v1/assets/${id}?team_id=22`)).json()).toMatchObject({ status: 'rendering', progress: { done: 3, total: 10 } });

    // The worker writes the clip it rendered (moved back from the recording's end) and the budget steps.
    const location = `s3://${fixture.s3.bucket}/${store.keyFor(22, id)}`;
    await assets.markDone(id, { contentLocation: location, startS: 0, endS: 24.5, budgetSteps: ['lossy:40', 'colors:128'] });
    const done = (await (await get(`/v1/assets/${id}?team_id=22`)).json()) as { public_url: string };
    expect(done).toMatchObject({ status: 'done', content_location: location, progress: null, start_offset_s: 0, end_offset_s: 24.5, budget_steps: ['lossy:40', 'colors:128'] });
    expect(done.public_url).toMatch(new RegExp(`^${config.publicUrls.baseUrl}/public/previews/`));

    expect((await get('/v1/assets/abc?team_id=22')).status).toBe(400);
    expect((await get('/v1/assets/0?team_id=22')).status).toBe(400);
    expect((await get('/v1/assets/99999999?team_id=22')).status).toBe(404);
  });

  it('scopes every read to a team: team_id is required, another team\'s asset is a 404 or null', async () => {
    const mine = await newAsset(31);
    const theirs = await newAsset(32);
    for (const id of [mine, theirs]) await assets.markDone(id, { contentLocation: `s3://${fixture.s3.bucket}/${store.keyFor(31, id)}`, startS: 0, endS: 30, budgetSteps: [] });
    const missing = await get(`/v1/assets/${mine}`);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'invalid_request', fields: { team_id: 'team_id is required' } });
    expect((await get(`/v1/assets/${mine}?team_id=abc`)).status).toBe(400);
    expect((await get(`/v1/assets/${mine}?team_id=31`)).status).toBe(200);
    const foreign = await get(`/v1/assets/${theirs}?team_id=31`);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: 'not_found' });

    const urls = (await (await post('/v1/assets/preview-urls', { team_id: 31, asset_ids: [mine, theirs] })).json()) as { urls: Record<string, string | null> };
    expect(urls.urls[String(mine)]).toMatch(/\/public\/previews\//);
    expect(urls.urls[String(theirs)]).toBeNull();
    const noTeam = await post('/v1/assets/preview-urls', { asset_ids: [mine] });
    expect(noTeam.status).toBe(400);
    expect(await noTeam.json()).toMatchObject({ fields: { team_id: 'team_id is required' } });
  });

  it('signs no URL that outlives its asset, and none for an asset that has expired', async () => {
    const id = await newAsset(33);
    await assets.markDone(id, { contentLocation: `s3://${fixture.s3.bucket}/${store.keyFor(33, id)}`, startS: 0, endS: 30, budgetSteps: [] });
    await pool.query(`UPDATE exported_assets SET expires_after = now() + interval '1 hour' WHERE id = $1`, [id]);
    const { public_url } = (await (await get(`/v1/assets/${id}?team_id=33`)).json()) as { public_url: string };
    const payload = JSON.parse(Buffer.from(public_url.split('/').pop()!.split('.')[1]!, 'base64url').toString()) as { exp: number };
    expect(Math.abs(payload.exp - Math.floor(Date.now() / 1000 + 3600))).toBeLessThanOrEqual(5); // not 7 days
    await pool.query(`UPDATE exported_assets SET expires_after = now() - interval '1 second' WHERE id = $1`, [id]);
    expect(await (await get(`/v1/assets/${id}?team_id=33`)).json()).toMatchObject({ status: 'done', public_url: null });
    const urls = (await (await post('/v1/assets/preview-urls', { team_id: 33, asset_ids: [id] })).json()) as { urls: Record<string, string | null> };
    expect(urls.urls[String(id)]).toBeNull();
  });

  it('resolves preview URLs for many ids at once', async () => {
    const done = await newAsset();
    const pending = await newAsset();
    await assets.markDone(done, { contentLocation: `s3://${fixture.s3.bucket}/${store.keyFor(22, done)}`, startS: 0, endS: 30, budgetSteps: [] });
    const res = await post('/v1/assets/preview-urls', { team_id: 22, asset_ids: [done, pending, 123456789] });
    expect(res.status).toBe(200);
    const { urls } = (await res.json()) as { urls: Record<string, string | null> };
    expect(Object.keys(urls).sort()).toEqual([String(done), String(pending), '123456789'].sort());
    expect(urls[String(done)]).toMatch(/\/public\/previews\//);
    expect(urls[String(pending)]).toBeNull();
    expect(urls['123456789']).toBeNull();
    const bad = await post('/v1/assets/preview-urls', { team_id: 22, asset_ids: ['x'] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { fields: Record<string, string> }).fields['asset_ids.0']).toMatch(/asset_ids\.0 must be an asset id/);
    expect((await post('/v1/assets/preview-urls', { team_id: 22 })).status).toBe(400);
  });

  it('streams a GIF for a valid public token and refuses bad, expired, foreign or missing ones', async () => {
    const id = await newAsset(23);
    const key = store.keyFor(23, id);
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(5000, 7)]);
    await store.client.send(new PutObjectCommand({ Bucket: fixture.s3.bucket, Key: key, Body: gif, ContentType: 'image/gif' }));
    const signer = server.signer;
    const claims = (assetId: number, teamId: number) => ({ assetId, teamId, expiresAfter: hours(24) });

    const notDone = await signer.url(claims(id, 23));
    expect((await fetch(notDone.replace(config.publicUrls.baseUrl, base))).status).toBe(404);

    await assets.markDone(id, { contentLocation: `s3://${fixture.s3.bucket}/${key}`, startS: 0, endS: 30, budgetSteps: [] });
    const res = await fetch((await signer.url(claims(id, 23))).replace(config.publicUrls.baseUrl, base));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(Buffer.from(await res.arrayBuffer()).equals(gif)).toBe(true);

    const token = await signer.sign(claims(id, 23));
    const tampered = token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA');
    const r1 = await fetch(`${base}/public/previews/${tampered}`);
    expect(r1.status).toBe(401);
    expect(await r1.json()).toMatchObject({ error: 'invalid_token' });
    expect((await fetch(`${base}/public/previews/not-a-jwt`)).status).toBe(401);

    const otherSecret = new PreviewSigner('another-secret-another-secret-12345', base, 3600);
    expect((await fetch(`${base}/public/previews/${await otherSecret.sign(claims(id, 23))}`)).status).toBe(401);

    const expiredSigner = new PreviewSigner(PUBLIC_SECRET, base, 60);
    const expired = await fetch(`${base}/public/previews/${await expiredSigner.sign(claims(id, 23), new Date(Date.now() - 3600_000))}`);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: 'token_expired' });

    expect((await fetch(`${base}/public/previews/${await signer.sign(claims(id, 24))}`)).status).toBe(403);
    expect((await fetch(`${base}/public/previews/${await signer.sign(claims(99999999, 23))}`)).status).toBe(404);

    // The row is gone: 404, even with a valid token.
    await assets.delete(id);
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
