// The Docker smoke test's second half (scripts/docker-smoke.sh builds the image, then runs this):
// every role of the image against real services on this machine.
//   render   the CLI in a container, as an arbitrary uid writing to a mounted folder (README's command)
//   (render, server and worker run with a read-only root file system and a tmpfs on /tmp, as the
//   Kubernetes manifests run them)
//   migrate  twice: applies the migrations, then finds none pending
//   server + worker containers against the machine's Redis and PostgreSQL (a fresh database and queue
//            prefix) and an S3 server (s3rver) on the host: a moment is posted, rendered, and its GIF
//            fetched through the signed public URL; the image's HEALTHCHECK command answers for both;
//            every log line is JSON (no Node-version warning); SIGTERM stops both with exit code 0.
// Containers use the host's network (the engine here runs with --bridge=none). Prints one line per
// step and a final `[docker-smoke] {...}` JSON summary, also appended to .tmp/docker-smoke.jsonl.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import S3rver from 's3rver';
import { startSite, type SiteServer } from '../test/support/site-server.js';

const run = promisify(execFile);
const image = process.argv[2] ?? '';
if (!image) {
  console.error('usage: tsx scripts/docker-smoke.ts <image>');
  process.exit(2);
}

const PG_ADMIN_URL = process.env.SMOKE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.SMOKE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SITE_PORT = 8765; // examples/journey.json.gz was recorded on the fixture shop at this origin
const API_TOKEN = `smoke-token-${randomBytes(8).toString('hex')}`;
const PUBLIC_URL_SECRET = randomBytes(32).toString('hex');
const RENDER_UID = 4242; // not the image's `node` user: the README's `--user "$(id -u):$(id -g)"` case
// As deploy/k8s runs the pods: a read-only root file system and a writable /tmp only.
const READ_ONLY = ['--read-only', '--tmpfs', '/tmp:rw,exec,size=1g'];

const id = `rr_smoke_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const t0 = Date.now();
const summary: Record<string, unknown> = { image };
const cleanups: (() => Promise<unknown>)[] = [];

function step(name: string, detail: Record<string, unknown> = {}): void {
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`[docker-smoke] +${s}s ${name}${Object.keys(detail).length ? ' ' + JSON.stringify(detail) : ''}`);
}

async function docker(args: string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> {
  return run('docker', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A probe that throws an error marked `fatal` ends the wait; other errors mean "not yet".
    const value = await probe().catch((err: unknown) => {
      if ((err as { fatal?: boolean }).fatal) throw err;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

async function serveSite(): Promise<SiteServer | undefined> {
  try {
    return await startSite(SITE_PORT);
  } catch (err) {
    // Another checkout's `npm run render:example` may be serving the same shop there right now.
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const res = await fetch(`http://127.0.0.1:${SITE_PORT}/`).catch(() => undefined);
    check(res?.ok, `port ${SITE_PORT} is taken by something that is not the fixture shop; free it`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'rr-docker-smoke-'));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  const site = await serveSite();
  if (site) cleanups.push(() => site.close());
  const origin = `http://127.0.0.1:${SITE_PORT}`;

  // render: the README's command, as a uid the image does not know, into a folder only it may write.
  const out = join(work, 'out');
  await mkdir(out);
  await copyFile('examples/journey.json.gz', join(out, 'journey.json.gz'));
  await chown(out, RENDER_UID, RENDER_UID);
  await chmod(out, 0o700);
  const renderT = Date.now();
  const rendered = await docker(
    ['run', '--rm', '--network=host', ...READ_ONLY, '--user', `${RENDER_UID}:${RENDER_UID}`, '-v', `${out}:/data`, image,
      'render', '/data/journey.json.gz', '--out', '/data/out.gif', '--start', '15', '--end', '45', '--footer', '--allow-origin', origin, '--json'],
    300_000,
  );
  const renderResult = JSON.parse(rendered.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  const gif = await readFile(join(out, 'out.gif'));
  check(gif.subarray(0, 6).toString('latin1') === 'GIF89a', 'render wrote no GIF');
  check((renderResult.frames as number) > 1, `render made ${String(renderResult.frames)} frames`);
  check((renderResult.asset_failures as number) === 0, `render could not load ${String(renderResult.asset_failures)} assets`);
  summary.render = { wall_s: (Date.now() - renderT) / 1000, bytes: gif.length, frames: renderResult.frames, width: renderResult.width, height: renderResult.height, asset_failures: renderResult.asset_failures };
  step('render', summary.render as Record<string, unknown>);

  // migrate, on a fresh database of the machine's PostgreSQL
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${id}`);
  await admin.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${id} WITH (FORCE)`).finally(() => c.end());
  });
  const dbUrl = new URL(PG_ADMIN_URL);
  dbUrl.pathname = `/${id}`;
  // Its last line on stdout says what it did (log lines come before it).
  const lastLine = (out: string) => out.trim().split('\n').at(-1) ?? '';
  const migrated = lastLine((await docker(['run', '--rm', '--network=host', '-e', `DATABASE_URL=${dbUrl}`, image, 'migrate'])).stdout);
  check(/^applied: /.test(migrated), `migrate printed: ${migrated}`);
  step('migrate', { printed: migrated });

  // S3 server on the host, recordings folder, then server and worker containers
  const s3dir = join(work, 's3');
  await mkdir(s3dir);
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: s3dir, silent: true, configureBuckets: [{ name: 'previews' }] });
  const s3addr = await s3.run();
  cleanups.push(() => s3.close());
  const recordings = join(work, 'recordings');
  await mkdir(join(recordings, '1'), { recursive: true });
  await copyFile('examples/journey.json.gz', join(recordings, '1', 'demo.json.gz'));
  await chmod(work, 0o755);

  const [port, metricsPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    REDIS_URL,
    QUEUE_PREFIX: id,
    DATABASE_URL: dbUrl.toString(),
    S3_ENDPOINT: `http://127.0.0.1:${s3addr.port}`,
    S3_BUCKET: 'previews',
    S3_PREFIX: 'smoke',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    RASTERIZER_API_TOKEN: API_TOKEN,
    PUBLIC_URL_SECRET,
    PUBLIC_BASE_URL: base,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKER_METRICS_PORT: String(metricsPort),
    RECORDINGS_DIR: '/recordings',
    ALLOWED_ORIGINS: origin,
    WORKER_CONCURRENCY: '1',
  };
  cleanups.push(async () => {
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${id}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  });
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const names = { server: `${id}_server`, worker: `${id}_worker` };
  cleanups.push(() => docker(['rm', '-f', names.server, names.worker]).catch(() => undefined));
  const startedT = Date.now();
  await docker(['run', '-d', '--name', names.server, '--network=host', ...READ_ONLY, ...envArgs, image, 'server']);
  await docker(['run', '-d', '--name', names.worker, '--network=host', ...READ_ONLY, ...envArgs,
    '-e', `HEALTHCHECK_URL=http://127.0.0.1:${metricsPort}/healthz`, '-v', `${recordings}:/recordings:ro`, image, 'worker']);
  await waitFor('the server to be ready', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 90_000);
  await waitFor('the worker to answer', async () => ((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).ok ? true : undefined), 90_000);
  for (const name of [names.server, names.worker]) {
    const hc = await docker(['exec', name, 'node', 'bin/healthcheck.js']).then(() => 0, (e: { code?: number }) => e.code ?? 1);
    check(hc === 0, `the image's HEALTHCHECK command failed in ${name}`);
  }
  // In the running server (`docker exec` makes no new container: on vfs each one copies the image).
  const again = lastLine((await docker(['exec', names.server, 'node', 'bin/replay-rasterizer.js', 'migrate'])).stdout);
  check(again === 'no pending migrations', `migrate run again printed: ${again}`);
  // The image's build stage compiled native/keep-pages.c: the worker's Chromium gets it.
  const started = (await docker(['logs', names.worker])).stdout.split('\n').find((l) => l.includes('"worker started"'));
  const keepPages = started ? (JSON.parse(started) as { keep_pages?: string; keep_pages_why?: string }) : undefined;
  check(keepPages?.keep_pages === 'on', `the worker runs Chromium without keep-pages: ${keepPages?.keep_pages_why ?? started ?? 'no "worker started" line'}`);
  const version = (await docker(['exec', names.server, 'node', '--version'])).stdout.trim();
  check(/^v24\./.test(version), `the image runs Node ${version}, not 24`);
  summary.node = version;
  summary.migrate = { first: migrated, again };
  step('server and worker ready, HEALTHCHECK command passes in both; migrate again finds nothing; keep-pages on', { ready_s: (Date.now() - startedT) / 1000, node: version, migrate: again });

  const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
  const postT = Date.now();
  const posted = await fetch(`${base}/v1/rasterize`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ team_id: 1, session_id: 'demo', start_offset_s: 20, end_offset_s: 25 }),
  });
  const postedBody = (await posted.json()) as { asset_id?: number };
  check(posted.status === 202 && typeof postedBody.asset_id === 'number', `POST /v1/rasterize answered ${posted.status} ${JSON.stringify(postedBody)}`);
  const assetId = postedBody.asset_id;
  const done = await waitFor(
    'the asset to be done',
    async () => {
      const res = await fetch(`${base}/v1/assets/${assetId}?team_id=1`, { headers });
      const body = (await res.json()) as { status?: string; public_url?: string; error?: string };
      if (body.status === 'failed') throw Object.assign(new Error(`the job failed: ${body.error}`), { fatal: true });
      return body.status === 'done' ? body : undefined;
    },
    180_000,
    500,
  ).catch(async (err: Error) => {
    const logs = await docker(['logs', '--tail', '20', names.worker]).catch(() => ({ stdout: '', stderr: '' }));
    throw new Error(`${err.message}\nworker logs:\n${logs.stdout}${logs.stderr}`);
  });
  const preview = await fetch(done.public_url!);
  const previewBytes = Buffer.from(await preview.arrayBuffer());
  check(preview.status === 200 && preview.headers.get('content-type') === 'image/gif', `the public URL answered ${preview.status} ${preview.headers.get('content-type')}`);
  check(previewBytes.subarray(0, 6).toString('latin1') === 'GIF89a', 'the public URL served no GIF');
  const workerMetrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  check(/rasterizer_jobs_total\{outcome="completed"} 1\b/.test(workerMetrics), 'the worker does not count one completed job');
  summary.moment = { asset_id: assetId, posted_to_done_s: (Date.now() - postT) / 1000, gif_bytes: previewBytes.length };
  step('moment posted, rendered, GIF fetched from its public URL', summary.moment as Record<string, unknown>);

  // SIGTERM (docker stop), then every line each process wrote
  const stops: Record<string, unknown> = {};
  for (const name of [names.worker, names.server]) {
    const t = Date.now();
    await docker(['stop', '-t', '60', name], 90_000);
    const code = (await docker(['inspect', '-f', '{{.State.ExitCode}}', name])).stdout.trim();
    check(code === '0', `${name} exited ${code} after SIGTERM`);
    stops[name.endsWith('worker') ? 'worker' : 'server'] = { exit: 0, stop_s: (Date.now() - t) / 1000 };
  }
  for (const name of [names.server, names.worker]) {
    const { stdout, stderr } = await docker(['logs', name]);
    const lines = `${stdout}${stderr}`.split('\n').filter((l) => l.trim() !== '');
    const bad = lines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== 'object';
      } catch {
        return true;
      }
    });
    check(bad.length === 0, `${name} wrote ${bad.length} lines that are not JSON, e.g.: ${bad.slice(0, 3).join(' | ')}`);
    check(!lines.some((l) => /NodeVersionSupportWarning|DeprecationWarning/.test(l)), `${name} logged a Node version or deprecation warning`);
  }
  summary.sigterm = stops;
  step('SIGTERM: both exit 0; every log line is JSON, no Node version warning', stops);
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`[docker-smoke] FAILED: ${(err as Error).message}`);
} finally {
  for (const c of cleanups.reverse()) await c().catch((e: unknown) => console.error(`[docker-smoke] cleanup: ${String(e)}`));
}
summary.ok = !failed;
summary.roles_s = (Date.now() - t0) / 1000;
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('SMOKE_REPORT_')) summary[k.slice(13).toLowerCase()] = /^[\d.]+$/.test(v ?? '') ? Number(v) : v;
const line = `[docker-smoke] ${JSON.stringify(summary)}`;
console.log(line);
await mkdir('.tmp', { recursive: true });
await appendFile('.tmp/docker-smoke.jsonl', JSON.stringify({ at: new Date().toISOString(), ...summary }) + '\n');
process.exit(failed ? 1 : 0);
