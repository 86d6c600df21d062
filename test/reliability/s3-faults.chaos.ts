import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../service/build.js';
import { startFaultProxy, type FaultMode, type FaultProxy } from '../support/fault-proxy.js';
import { killAllLaunched, launchService, logLines, waitHealthy, waitUntil, type ServiceProcess } from '../support/service-procs.js';
import { bucketKeys, createStack, enqueueMoment, expectBucketMatchesDoneRows, expectDoneOnce, freePort, job, jobIdOf, jobState, keyFor, report, row, waitSettled, type Stack } from './stack.js';

/**
 * S3 failing under the worker's upload, through a TCP fault proxy in front of the in-process S3
 * server: refusing (connections reset), timing out (a black hole: nothing comes back), and mute
 * (the upload lands but the answer is lost, so the retry repeats a write that happened). The fault
 * starts the moment the proxy sees the GIF's PUT. Temporary faults must end `done` once with one
 * object; a fault that lasts must end `failed` with no object, the row cleaned up once S3 can
 * confirm there is nothing to delete.
 */

const REPEAT = Number(process.env.CHAOS_REPEAT ?? 3);
const FAULT_MS = 5000;
/** The worker's S3 timeout in these tests (S3_TIMEOUT_MS; production default 30 s). */
const S3_TIMEOUT_MS = 2000;

let stack: Stack;
let proxy: FaultProxy;
let base: string;
let baseFewAttempts: string;
let worker: ServiceProcess;
const processes: ServiceProcess[] = [];

/** Puts the proxy into `mode` when the worker's PUT of a GIF arrives; back to pass after `forMs` (never if undefined). */
function faultAtUpload(mode: FaultMode, forMs?: number): Promise<number> {
  return new Promise((resolve) => {
    proxy.onClientData = (chunk) => {
      if (!/^PUT \/previews\/previews\//.test(chunk.subarray(0, 64).toString('latin1'))) return;
      proxy.onClientData = undefined;
      proxy.setMode(mode, { cut: mode === 'refuse' });
      if (forMs !== undefined) setTimeout(() => proxy.setMode('pass'), forMs);
      resolve(Date.now());
    };
  });
}

beforeAll(async () => {
  await ensureBuilt();
  stack = await createStack();
  proxy = await startFaultProxy({ port: Number(new URL(stack.s3.endpoint).port) });
  const [port, portFew, metricsPort] = [await freePort(), await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  baseFewAttempts = `http://127.0.0.1:${portFew}`;
  // Attempts are set when a job is added: one server for the temporary faults, one with 3 attempts for the lasting ones.
  const server = launchService('server', stack.env({ PORT: String(port), PUBLIC_BASE_URL: base, JOB_ATTEMPTS: '6', JOB_BACKOFF_MS: '1000' }), 'server');
  const serverFew = launchService('server', stack.env({ PORT: String(portFew), PUBLIC_BASE_URL: baseFewAttempts, JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '500' }), 'server-3-attempts');
  worker = launchService(
    'worker',
    stack.env({
      S3_ENDPOINT: `http://127.0.0.1:${proxy.port}`,
      S3_TIMEOUT_MS: String(S3_TIMEOUT_MS),
      WORKER_METRICS_PORT: String(metricsPort),
      WORKER_CONCURRENCY: '1',
      // The failed-asset sweep every second, with no grace: it must still never delete what S3 cannot confirm.
      SWEEP_INTERVAL_S: '1',
      FAILED_ASSET_RETENTION_S: '0',
    }),
  );
  processes.push(server, serverFew, worker);
  await Promise.all([waitHealthy(server, `${base}/healthz`), waitHealthy(serverFew, `${baseFewAttempts}/healthz`), waitHealthy(worker, `http://127.0.0.1:${metricsPort}/healthz`)]);
});

afterAll(async () => {
  await killAllLaunched();
  await proxy?.close();
  await stack?.close();
});

describe('S3 faults during the upload', () => {
  for (const mode of ['refuse', 'blackhole', 'mute'] as const) {
    it(`S3 ${mode === 'refuse' ? 'refusing' : mode === 'blackhole' ? 'timing out' : 'losing its answers'} for ${FAULT_MS / 1000} s from the upload, then recovering: done once (${REPEAT} times)`, async () => {
      const outcomes: { asset: number; attempts: number; faultToDoneMs: number; refused: number; blackholed: number; holds: number }[] = [];
      for (let i = 0; i < REPEAT; i++) {
        const before = { ...proxy.stats };
        const fault = faultAtUpload(mode, FAULT_MS);
        const id = await enqueueMoment(base, { start: 10 + i, end: 14 + i, fps: 5, width: 200 });
        const at = await fault;
        await waitSettled(stack, id, 90_000);
        const done = Date.now();
        const result = await expectDoneOnce(stack, id, [worker]);
        const d = {
          refused: proxy.stats.refused - before.refused,
          blackholed: proxy.stats.blackholed - before.blackholed,
          holds: proxy.stats.holds - before.holds,
        };
        // The fault happened: S3 was really unreachable in the way named.
        if (mode === 'refuse') expect(d.refused).toBeGreaterThan(0);
        if (mode === 'blackhole') expect(d.holds).toBeGreaterThan(0);
        if (mode === 'mute') expect(d.holds).toBeGreaterThan(0);
        // Done once after the fault ended, not before.
        expect(done - at).toBeGreaterThanOrEqual(FAULT_MS - 500);
        outcomes.push({ asset: id, attempts: result.attemptsMade, faultToDoneMs: done - at, ...d });
      }
      expect(worker.running()).toBe(true);
      await expectBucketMatchesDoneRows(stack);
      report(`S3 ${mode} for ${FAULT_MS} ms at upload`, {
        tried: REPEAT,
        passed: outcomes.length,
        lost: 0,
        s3_timeout_ms: S3_TIMEOUT_MS,
        attempts: outcomes.map((o) => o.attempts),
        fault_to_done_ms: outcomes.map((o) => o.faultToDoneMs),
        outcomes,
      });
    });
  }

  for (const mode of ['refuse', 'blackhole'] as const) {
    it(`S3 ${mode === 'refuse' ? 'refusing' : 'timing out'} for good: the job fails after its attempts, no object, the row deleted once S3 can confirm (${Math.max(1, REPEAT - 1)} times)`, async () => {
      const outcomes: { asset: number; attempts: number; failMs: number; error: string; sweepRetries: number; cleanupMs: number }[] = [];
      for (let i = 0; i < Math.max(1, REPEAT - 1); i++) {
        const before = { ...proxy.stats };
        const fault = faultAtUpload(mode);
        const id = await enqueueMoment(baseFewAttempts, { start: 20 + i, end: 23 + i, fps: 5, width: 200 });
        const at = await fault;
        await waitUntil(`job of asset ${id} to fail`, async () => (await jobState(stack, id)) === 'failed', 120_000, 100);
        const failMs = Date.now() - at;
        const j = await job(stack, id);
        expect(j?.attemptsMade).toBe(3);
        if (mode === 'refuse') expect(proxy.stats.refused - before.refused).toBeGreaterThanOrEqual(3);
        // One stalled request per attempt at least: on a reused connection (held) or a new one (black-holed).
        else expect(proxy.stats.holds - before.holds).toBeGreaterThanOrEqual(3);
        expect(j?.failedReason).toMatch(/ECONNRESET|socket|connect|timed out|Timeout|hang up/i);
        // While S3 is down: the row says why it failed; the sweep cannot confirm there is no object, so it keeps the row.
        const failedRow = await waitUntil('the row to be marked failed', async () => {
          const r = await row(stack, id);
          return r?.status === 'failed' ? r : undefined;
        }, 20_000);
        const jobId = await jobIdOf(stack, id);
        const sweepsBefore = logLines(worker, /did not work; next sweep retries/).filter((l) => l.asset_id === id || l.job_id === jobId).length;
        await waitUntil('a sweep to try and fail', () => logLines(worker, /did not work; next sweep retries/).filter((l) => l.asset_id === id || l.job_id === jobId).length > sweepsBefore, 30_000, 100);
        expect((await row(stack, id))?.status).toBe('failed');
        expect(logLines(worker, 'rendered', id)).toHaveLength(0);

        // S3 back (someone fixed it): the next sweep deletes the row; there never was an object.
        proxy.setMode('pass', { cut: true });
        const back = Date.now();
        await waitUntil('the sweep to delete the failed asset', async () => (await row(stack, id)) === undefined, 30_000, 100);
        expect(await bucketKeys(stack)).not.toContain(keyFor(id));
        expect(await job(stack, id)).toBeUndefined();
        outcomes.push({
          asset: id,
          attempts: j?.attemptsMade ?? 0,
          failMs,
          error: failedRow.error ?? '',
          sweepRetries: logLines(worker, /did not work; next sweep retries/).filter((l) => l.asset_id === id || l.job_id === jobId).length,
          cleanupMs: Date.now() - back,
        });
      }
      expect(worker.running()).toBe(true);
      await expectBucketMatchesDoneRows(stack);
      report(`S3 ${mode} for good`, {
        tried: outcomes.length,
        passed: outcomes.length,
        lost: 0,
        orphan_objects: 0,
        attempts_per_job: 3,
        fault_to_failed_ms: outcomes.map((o) => o.failMs),
        outcomes,
      });
    });
  }
});
