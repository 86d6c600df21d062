import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { ensureBuilt } from '../../test/service/build.js';
import { API_TOKEN, createTestDatabase, dropQueuePrefix, serviceEnv, startS3, uniqueName } from '../../test/service/env.js';
import { freePort } from '../../test/support/private-services.js';
import { chromiumUnder, killWithBrowsers, launchService, logLines, rssKiB, waitHealthy, waitUntil, type ServiceProcess } from '../../test/support/service-procs.js';
import { median } from '../lib/measure.js';
import type { BenchRow, RowReport } from '../lib/row.js';
import type { Session, SessionName } from '../lib/sessions.js';

/**
 * Throughput (issue 8): moments per minute per worker at WORKER_CONCURRENCY 1 and 2, through the
 * real service: the server and a worker process as the Docker image runs them, the shared Redis
 * (a queue prefix of our own), a PostgreSQL database of our own, an S3 server (s3rver) in this
 * process, and a recordings folder holding fresh recordings of a still, a motion and a heavy session.
 * A mix of 30 s moments (still, motion and heavy in turn, at the service defaults: 10 fps, 800 px)
 * is posted at once over HTTP; the clock runs from the first POST to the last row done. The worker's
 * peak resident memory is sampled every 250 ms: the worker process itself, and with its Chromium
 * processes. Each level gets a fresh worker, warmed with one short moment first.
 *
 *   npm run bench:throughput               (= npm run bench -- --row throughput)
 *   options: --moments <n> (default 9), --concurrency 1,2, --asset-cache-mb <n> (the worker's
 *   ASSET_CACHE_MB; its default otherwise); with bench's --origin-latency-ms and --cache-control,
 *   the sites answer as ones across the internet
 */
const TEAM = 7;
const KINDS: { kind: string; session: SessionName }[] = [
  { kind: 'still', session: 'fixture' },
  { kind: 'motion', session: 'motion' },
  { kind: 'heavy', session: 'rustdoc' },
];
const MOMENT_S = 30;

interface LevelResult {
  concurrency: number;
  moments: number;
  done: number;
  failed: number;
  wall_s: number;
  moments_per_minute: number;
  /** Median render wall time per kind (ms), from the worker's 'rendered' log lines. */
  render_ms_median: Record<string, number>;
  worker_peak_rss_mib: number;
  worker_and_chromium_peak_rss_mib: number;
  load_at_start: number;
  /** Assets the replay pages got from the worker's asset cache (the 'rendered' lines' assets_from_cache), over all moments. */
  assets_from_cache: number;
}

export const throughputRow: BenchRow = {
  name: 'throughput',
  about: 'moments per minute per worker at WORKER_CONCURRENCY 1 and 2 through the real service (server + worker, Redis, PostgreSQL, s3rver), mix of still, motion and heavy moments, peak RSS',
  onlyWhenAsked: true,
  async run(ctx): Promise<RowReport> {
    const count = Number(ctx.options.moments ?? 9);
    const levels = String(ctx.options.concurrency ?? '1,2').split(',').map(Number);
    const sessions = new Map<SessionName, Session>();
    for (const k of KINDS) sessions.set(k.session, await ctx.sessions.get(k.session));
    ctx.log('throughput row: building dist/ for the service processes...');
    await ensureBuilt();

    const db = await createTestDatabase();
    const s3 = await startS3();
    const prefix = uniqueName('bench');
    const dir = await mkdtemp(join(tmpdir(), 'rr-bench-'));
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const launched: ServiceProcess[] = [];
    try {
      await mkdir(join(dir, String(TEAM)));
      for (const [name, s] of sessions) await writeFile(join(dir, String(TEAM), `${name}.jsonl.gz`), gzipSync(s.raw.map((e) => JSON.stringify(e)).join('\n') + '\n'));
      const origins = [...new Set([...sessions.values()].map((s) => s.origin))];
      const env = (extra: Record<string, string>) => ({
        ...serviceEnv({ db, s3, queuePrefix: prefix }),
        HOST: '127.0.0.1',
        RECORDINGS_DIR: dir,
        ALLOWED_ORIGINS: origins.join(','),
        SWEEP_INTERVAL_S: '0',
        LOG_LEVEL: 'info',
        ...(ctx.options['asset-cache-mb'] !== undefined ? { ASSET_CACHE_MB: String(ctx.options['asset-cache-mb']) } : {}),
        ...extra,
      });
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const server = launchService('server', env({ PORT: String(port), PUBLIC_BASE_URL: base, LOG_LEVEL: 'warn' }));
      launched.push(server);
      await waitHealthy(server, `${base}/healthz`);

      const post = async (session: string, start: number, end: number): Promise<number> => {
        const r = await fetch(`${base}/v1/rasterize`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ team_id: TEAM, session_id: session, start_offset_s: start, end_offset_s: end, min_duration_s: 0 }),
        });
        const body = (await r.json()) as { asset_id?: number };
        if (r.status !== 202 || typeof body.asset_id !== 'number') throw new Error(`POST /v1/rasterize answered ${r.status}: ${JSON.stringify(body)}`);
        return body.asset_id;
      };
      const statuses = async (ids: number[]) => {
        const { rows } = await pool.query<{ id: number; status: string; error: string | null }>('SELECT id::int AS id, status, error FROM exported_assets WHERE id = ANY($1)', [ids]);
        return rows;
      };
      const settled = async (ids: number[], timeoutMs: number) =>
        waitUntil(`${ids.length} moments to be done`, async () => {
          const rows = await statuses(ids);
          return rows.length === ids.length && rows.every((r) => r.status === 'done' || r.status === 'failed') ? rows : undefined;
        }, timeoutMs, 250);

      // The mix: still, motion, heavy in turn; each kind's 30 s windows spread evenly along its recording.
      const perKind = Math.ceil(count / KINDS.length);
      const mix = Array.from({ length: count }, (_, i) => {
        const k = KINDS[i % KINDS.length]!;
        const s = sessions.get(k.session)!;
        const room = Math.max(0, Math.floor(s.lengthS - MOMENT_S - 0.5));
        const start = perKind > 1 ? Math.round((room * Math.floor(i / KINDS.length)) / (perKind - 1)) : 0;
        return { kind: k.kind, session: k.session, start, end: Math.min(start + MOMENT_S, Math.floor(s.lengthS * 10) / 10) };
      });

      const results: LevelResult[] = [];
      for (const c of levels) {
        const metrics = await freePort();
        const worker = launchService('worker', env({ WORKER_CONCURRENCY: String(c), WORKER_METRICS_PORT: String(metrics) }), `worker-c${c}`);
        launched.push(worker);
        await waitHealthy(worker, `http://127.0.0.1:${metrics}/healthz`);
        // The worker's own word: the bench's header speaks for this process, not for the worker's Chromium.
        const startLine = await waitUntil('the worker\'s start line', () => logLines(worker, 'worker started')[0]);
        ctx.log(`  concurrency ${c}: the worker's Chromium runs with keep-pages ${String(startLine.keep_pages)}${startLine.keep_pages_why ? ` (${String(startLine.keep_pages_why)})` : ''}`);
        ctx.log(`  concurrency ${c}: warming the worker with one short moment...`);
        await settled([await post('fixture', 16, 19)], 180_000);

        let peakWorker = 0;
        let peakAll = 0;
        const sample = () => {
          const own = rssKiB(worker.pid) ?? 0;
          const all = own + chromiumUnder(worker.pid).reduce((a, p) => a + (rssKiB(p.pid) ?? 0), 0);
          peakWorker = Math.max(peakWorker, own);
          peakAll = Math.max(peakAll, all);
        };
        const sampler = setInterval(sample, 250);
        const load = loadavg()[0]!;
        const started = Date.now();
        const ids = await Promise.all(mix.map((m) => post(m.session, m.start, m.end)));
        ctx.log(`  concurrency ${c}: ${ids.length} moments posted (${mix.map((m) => `${m.kind} ${m.start}-${m.end}`).join(', ')})`);
        const rows = await settled(ids, 30 * 60_000);
        const wallMs = Date.now() - started;
        clearInterval(sampler);
        sample();
        const byKind: Record<string, number[]> = {};
        let fromCache = 0;
        ids.forEach((id, i) => {
          const line = logLines(worker, 'rendered', id)[0];
          if (line && typeof line.wall_ms === 'number') (byKind[mix[i]!.kind] ??= []).push(line.wall_ms);
          if (line && typeof line.assets_from_cache === 'number') fromCache += line.assets_from_cache;
        });
        const failed = rows.filter((r) => r.status === 'failed');
        for (const f of failed) ctx.log(`  concurrency ${c}: asset ${f.id} failed: ${f.error}`);
        const r: LevelResult = {
          concurrency: c,
          moments: ids.length,
          done: rows.length - failed.length,
          failed: failed.length,
          wall_s: +(wallMs / 1000).toFixed(1),
          moments_per_minute: +((ids.length / wallMs) * 60_000).toFixed(2),
          render_ms_median: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, Math.round(median(v))])),
          worker_peak_rss_mib: Math.round(peakWorker / 1024),
          worker_and_chromium_peak_rss_mib: Math.round(peakAll / 1024),
          load_at_start: +load.toFixed(1),
          assets_from_cache: fromCache,
        };
        ctx.log(`  concurrency ${c}: ${r.moments_per_minute} moments/min, ${r.wall_s} s, peak RSS ${r.worker_peak_rss_mib} MiB (with Chromium ${r.worker_and_chromium_peak_rss_mib} MiB)`);
        results.push(r);
        worker.child.kill('SIGTERM');
        await worker.exited;
      }

      const lines = [
        `one worker process at a time; server, Redis, PostgreSQL and s3rver on the same 2 cores; ${count} moments of ${MOMENT_S} s (${KINDS.map((k) => `${k.kind}: ${sessions.get(k.session)!.what}`).join('; ')}), posted at once, 10 fps, 800 px`,
        `sites answering ${Number(ctx.options['origin-latency-ms'] ?? 0)} ms late with Cache-Control ${String(ctx.options['cache-control'] ?? 'no-cache')}; ASSET_CACHE_MB ${String(ctx.options['asset-cache-mb'] ?? 'default (64)')}`,
        '',
        '| WORKER_CONCURRENCY | moments | done | failed | wall (s) | moments / min / worker | median render (ms) still / motion / heavy | assets from the worker\'s cache | worker peak RSS (MiB) | with Chromium (MiB) | load at start |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        ...results.map((r) => `| ${r.concurrency} | ${r.moments} | ${r.done} | ${r.failed} | ${r.wall_s} | ${r.moments_per_minute} | ${r.render_ms_median.still ?? '-'} / ${r.render_ms_median.motion ?? '-'} / ${r.render_ms_median.heavy ?? '-'} | ${r.assets_from_cache} | ${r.worker_peak_rss_mib} | ${r.worker_and_chromium_peak_rss_mib} | ${r.load_at_start} |`),
      ];
      if (results.length === 2) lines.push('', `concurrency ${results[1]!.concurrency} vs ${results[0]!.concurrency}: ${(results[1]!.moments_per_minute / results[0]!.moments_per_minute).toFixed(2)}x the moments per minute`);
      return { row: 'throughput', lines, figures: { moments: mix, levels: results } };
    } finally {
      for (const p of launched) await killWithBrowsers(p).catch(() => {});
      await pool.end().catch(() => {});
      await Promise.allSettled([db.drop(), s3.close(), dropQueuePrefix(prefix), rm(dir, { recursive: true, force: true })]);
    }
  },
};
