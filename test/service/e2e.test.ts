import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../src/queue/job.js';
import { freePort } from '../support/private-services.js';
import { chromiumUnder, killAllLaunched, killWithBrowsers, launchService, waitHealthy, type ServiceProcess } from '../support/service-procs.js';
import { decodeGif } from '../support/gif-frames.js';
import { ensureBuilt } from './build.js';
import { API_TOKEN, REDIS_URL, serviceFixture, waitFor, type ServiceFixture } from './env.js';

const root = join(import.meta.dirname, '..', '..');
const TEAM = 5;

describe('end to end: server and worker as processes', () => {
  let fixture: ServiceFixture;
  let db: ServiceFixture['db'];
  let s3: ServiceFixture['s3'];
  let prefix: string;
  let dir: string;
  let base: string;
  let workerHealth: string;
  let server: ServiceProcess;
  let worker: ServiceProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rr-e2e-'));
    await mkdir(join(dir, String(TEAM)));
    await copyFile(join(root, 'examples', 'journey.json.gz'), join(dir, String(TEAM), 'journey-e2e.jsonl.gz'));
    const [port, metricsPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    workerHealth = `http://127.0.0.1:${metricsPort}/healthz`;
    [fixture] = await Promise.all([
      serviceFixture({
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_BASE_URL: base,
        RECORDINGS_DIR: dir,
        WORKER_CONCURRENCY: '1',
        WORKER_METRICS_PORT: String(metricsPort),
        JOB_BACKOFF_MS: '200',
        // Every worker sharing a queue should use one interval: a check sets a Redis key that holds
        // off the next check by any worker for this long.
        JOB_STALLED_INTERVAL_MS: '1000',
        LOG_LEVEL: 'info',
      }),
      ensureBuilt(),
    ]);
    ({ db, s3, prefix, env } = fixture);
    server = launchService('server', env);
    worker = launchService('worker', env);
    await waitHealthy(server, `${base}/healthz`);
    await waitHealthy(worker, workerHealth);
  });

  afterAll(async () => {
    // Whatever a failed test left running: every process launched here, and its detached Chromium.
    await killAllLaunched();
    await Promise.allSettled([fixture?.close(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
  });

  const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
  const rasterize = async (body: Record<string, unknown>) => {
    const res = await fetch(`${base}/v1/rasterize`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(res.status).toBe(202);
    return (await res.json()) as { asset_id: number; job_id: string; status: string; start_offset_s: number; end_offset_s: number };
  };
  const asset = async (id: number, team = TEAM) => (await (await fetch(`${base}/v1/assets/${id}?team_id=${team}`, { headers })).json()) as Record<string, unknown>;
  const settled = (id: number, timeoutMs = 90_000) =>
    waitFor(`asset ${id} to be done or failed`, async () => {
      const a = await asset(id);
      return a.status === 'done' || a.status === 'failed' ? a : undefined;
    }, timeoutMs, 200);

  it('renders a posted moment and serves it through the signed public URL', async () => {
    const posted = await rasterize({
      team_id: TEAM,
      session_id: 'journey-e2e',
      start_offset_s: 21,
      end_offset_s: 23,
      min_duration_s: 6,
      recording_duration_s: 72.8,
      fps: 5,
      width: 320,
    });
    expect(posted).toMatchObject({ status: 'queued', start_offset_s: 19, end_offset_s: 25, job_id: expect.stringMatching(new RegExp(`^asset-${posted.asset_id}-[0-9a-f]{16}$`)) });

    const done = await settled(posted.asset_id);
    expect(done).toMatchObject({ id: posted.asset_id, status: 'done', error: null });
    const key = `previews/test/team-${TEAM}/asset-${posted.asset_id}.gif`;
    expect(done.content_location).toBe(`s3://${s3.bucket}/${key}`);
    expect(done.public_url).toMatch(new RegExp(`^${base}/public/previews/[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));

    const res = await fetch(done.public_url as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    const gif = Buffer.from(await res.arrayBuffer());
    const decoded = decodeGif(gif);
    expect(decoded.width).toBe(320);
    expect(decoded.height).toBe(200); // 1280x800 recorded
    expect(Math.abs(decoded.durationMs - 6000)).toBeLessThanOrEqual(200);

    // The row in PostgreSQL points at the S3 object we were served.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query('SELECT status, content_location, export_format, export_context FROM exported_assets WHERE id = $1', [posted.asset_id]);
    await client.end();
    expect(rows[0]).toMatchObject({ status: 'done', content_location: `s3://${s3.bucket}/${key}`, export_format: 'image/gif' });
    expect(rows[0].export_context).toMatchObject({ session_recording_id: 'journey-e2e', start_offset_s: 19, end_offset_s: 25, fps: 5, width: 320 });
    const s3client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const object = await s3client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(gif)).toBe(true);
    s3client.destroy();

    const urls = await fetch(`${base}/v1/assets/preview-urls`, { method: 'POST', headers, body: JSON.stringify({ team_id: TEAM, asset_ids: [posted.asset_id, 424242] }) });
    const { urls: map } = (await urls.json()) as { urls: Record<string, string | null> };
    expect(map[String(posted.asset_id)]).toMatch(/\/public\/previews\//);
    expect(map['424242']).toBeNull();

    // Structured logs name the asset and the job.
    expect(worker.lines.some((l) => l.msg === 'rendered' && l.asset_id === posted.asset_id && l.job_id === posted.job_id)).toBe(true);
    expect(server.lines.some((l) => l.asset_id === posted.asset_id)).toBe(true);
  });

  it('serves the Python example client (standard library only): problem previews in, signed URLs out', async () => {
    const segmentsFile = join(dir, 'segments.json');
    await writeFile(
      segmentsFile,
      JSON.stringify([
        { start_time: '00:20', end_time: '00:22', exception: 'blocking' },
        { start_time: '00:20', end_time: '00:22', confusion_detected: true },
        { start_time: '00:40', end_time: '00:50', success: true },
      ]),
    );
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        'python3',
        [join(root, 'examples', 'python', 'rasterizer_client.py'), segmentsFile, '--base-url', base, '--team-id', String(TEAM), '--session-id', 'journey-e2e', '--width', '160', '--fps', '4', '--timeout-s', '120'],
        { env: { PATH: process.env.PATH ?? '', RASTERIZER_API_TOKEN: API_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { previews: Record<string, unknown>[]; statuses: Record<string, string>; urls: Record<string, string | null> };
    expect(out.previews).toHaveLength(3);
    expect(out.previews[0]).toMatchObject({ index: 0, problem_type: 'blocking_exception', deduplicated: false });
    expect(out.previews[1]).toMatchObject({ index: 1, problem_type: 'confusion', asset_id: out.previews[0]!.asset_id, deduplicated: true });
    expect(out.previews[2]).toMatchObject({ index: 2, reason: 'no problem in this segment' });
    const id = String(out.previews[0]!.asset_id);
    expect(out.statuses).toEqual({ [id]: 'done' });
    const gif = await fetch(out.urls[id]!);
    expect(gif.status).toBe(200);
    const decoded = decodeGif(Buffer.from(await gif.arrayBuffer()));
    expect(decoded.width).toBe(160);
    expect(decoded.height).toBeGreaterThan(100); // 100 px of frame plus the footer problem previews carry

    // Its errors carry the API's codes: another team's asset is not found.
    const foreign = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('python3', ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(join(root, 'examples', 'python'))}); import rasterizer_client as r\ntry:\n  r.RasterizerClient(${JSON.stringify(base)}, ${JSON.stringify(API_TOKEN)}).asset(${TEAM + 1}, ${id})\nexcept r.RasterizerError as e:\n  print(e.status, e.code, file=sys.stderr); sys.exit(3)`], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(foreign).toEqual({ code: 3, stderr: '404 not_found\n' });
  });

  it('fails a missing session at once with a clear reason', async () => {
    const posted = await rasterize({ team_id: TEAM, session_id: 'no-such-session', start_offset_s: 0, end_offset_s: 10 });
    const failed = await settled(posted.asset_id, 30_000);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/recording not found: no 5\/no-such-session/);
    const queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix });
    const job = await queue.getJob(posted.job_id);
    expect(job?.attemptsMade).toBe(1);
    await queue.close();
  });

  it("is ready, passes the image's HEALTHCHECK, and exports metrics from both processes", async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    // bin/healthcheck.js is the Dockerfile's HEALTHCHECK: the server's PORT, or the worker's HEALTHCHECK_URL.
    const healthcheck = (extra: Record<string, string>) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['bin/healthcheck.js'], { cwd: root, env: { PATH: process.env.PATH ?? '', ...extra }, stdio: 'ignore' });
        child.on('exit', resolve);
      });
    expect(await healthcheck({ PORT: env.PORT! })).toBe(0);
    expect(await healthcheck({ HEALTHCHECK_URL: workerHealth })).toBe(0);
    expect(await healthcheck({ PORT: String(await freePort()) })).toBe(1);
    const serverMetrics = await (await fetch(`${base}/metrics`)).text();
    expect(serverMetrics).toMatch(/rasterizer_queue_jobs\{state="completed"} [1-9]/);
    const workerMetrics = await (await fetch(workerHealth.replace('/healthz', '/metrics'))).text();
    // Two renders so far (the posted moment, the Python client's preview) and one failure.
    expect(workerMetrics).toMatch(/rasterizer_jobs_total\{outcome="completed"} 2/);
    expect(workerMetrics).toMatch(/rasterizer_jobs_total\{outcome="failed"} 1/);
    expect(workerMetrics).toMatch(/rasterizer_render_seconds_count 2/);
    expect(workerMetrics).toMatch(/rasterizer_errors_total\{code="recording_not_found"} 1/);
  });

  it('drains the job in flight on SIGTERM, then exits 0', async () => {
    const posted = await rasterize({ team_id: TEAM, session_id: 'journey-e2e', start_offset_s: 0, end_offset_s: 40, min_duration_s: 0, fps: 10, width: 480 });
    await waitFor('the render to start', async () => (await asset(posted.asset_id)).status === 'rendering', 30_000, 50);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    expect(await asset(posted.asset_id)).toMatchObject({ status: 'done' });
    expect(worker.lines.some((l) => l.msg === 'worker stopped')).toBe(true);
  });

  it('hands the job of a SIGKILLed worker to another once its lock expires', async () => {
    // Short locks so the test takes seconds; production keeps minutes (JOB_LOCK_DURATION_MS).
    const shortLocks = { ...env, JOB_LOCK_DURATION_MS: '6000', WORKER_METRICS_PORT: '0' };
    const doomed = launchService('worker', shortLocks, 'doomed worker');
    const posted = await rasterize({ team_id: TEAM, session_id: 'journey-e2e', start_offset_s: 0, end_offset_s: 20, min_duration_s: 0, fps: 10, width: 320 });
    await waitFor('the render to start', async () => (await asset(posted.asset_id)).status === 'rendering', 30_000, 50);
    // Chromium runs in its own process group (Playwright starts it detached): kill it with its worker.
    await waitFor('the worker to launch Chromium', () => chromiumUnder(doomed.pid).length > 0, 30_000, 50);
    await killWithBrowsers(doomed);
    expect((await doomed.exited).signal).toBe('SIGKILL');
    expect((await asset(posted.asset_id)).status).toBe('rendering');

    worker = launchService('worker', shortLocks);
    const done = await settled(posted.asset_id, 60_000);
    expect(done.status, String(done.error)).toBe('done');
    expect(worker.lines.some((l) => l.msg === 'job stalled; it goes back to the queue' && l.job_id === posted.job_id)).toBe(true);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });

  it('stops the server on SIGTERM with exit code 0', async () => {
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
