import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../service/build.js';
import { startFaultProxy, type FaultMode, type FaultProxy } from '../support/fault-proxy.js';
import { startPrivatePostgres, type PrivateServer } from '../support/private-services.js';
import { killAllLaunched, launchService, logLines, waitHealthy, waitUntil, type ServiceProcess } from '../support/service-procs.js';
import { bucketKeys, createStack, enqueueMoment, expectBucketMatchesDoneRows, expectDoneOnce, freePort, job, jobState, keyFor, report, row, waitSettled, type Stack } from './stack.js';

/**
 * PostgreSQL unavailable at the moment a job finishes: the GIF is in S3 and the worker's statement
 * that marks the row done (and links it) meets a refused connection, a partition, or a server that
 * is really shut down and started again. A private PostgreSQL on a free port (the shared one is never
 * stopped), with the worker going through a TCP fault proxy; the fault starts when the proxy sees
 * that statement. Temporary faults must end `done` once, the row linked to the one object; a fault
 * that lasts must end `failed`, and once PostgreSQL is back the row and any object are swept.
 */

const REPEAT = Number(process.env.CHAOS_REPEAT ?? 3);
const FAULT_MS = 5000;
const QUERY_TIMEOUT_MS = 2000;

let pgServer: PrivateServer;
let proxy: FaultProxy;
let stack: Stack;
let base: string;
let baseFewAttempts: string;
let worker: ServiceProcess;
let server: ServiceProcess;

/** Fires `act` when the worker sends the statement that marks a row done. */
function atMarkDone(act: () => void): Promise<number> {
  return new Promise((resolve) => {
    proxy.onClientData = (chunk) => {
      if (!chunk.toString('latin1').includes("SET status = 'done'")) return;
      proxy.onClientData = undefined;
      act();
      resolve(Date.now());
    };
  });
}

function faultAtMarkDone(mode: FaultMode, forMs?: number): Promise<number> {
  return atMarkDone(() => {
    proxy.setMode(mode, { cut: mode === 'refuse' });
    if (forMs !== undefined) setTimeout(() => proxy.setMode('pass'), forMs);
  });
}

beforeAll(async () => {
  await ensureBuilt();
  pgServer = await startPrivatePostgres();
  proxy = await startFaultProxy({ port: pgServer.port });
  stack = await createStack({ databaseUrl: pgServer.url });
  const [port, portFew, metricsPort] = [await freePort(), await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  baseFewAttempts = `http://127.0.0.1:${portFew}`;
  server = launchService('server', stack.env({ PORT: String(port), PUBLIC_BASE_URL: base, JOB_ATTEMPTS: '6', JOB_BACKOFF_MS: '1000' }), 'server');
  await waitHealthy(server, `${base}/healthz`);
  const serverFew = launchService('server', stack.env({ PORT: String(portFew), PUBLIC_BASE_URL: baseFewAttempts, JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '500' }), 'server-3-attempts');
  worker = launchService(
    'worker',
    stack.env({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`,
      DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      WORKER_METRICS_PORT: String(metricsPort),
      WORKER_CONCURRENCY: '1',
      SWEEP_INTERVAL_S: '1',
      FAILED_ASSET_RETENTION_S: '0',
    }),
  );
  await Promise.all([waitHealthy(serverFew, `${baseFewAttempts}/healthz`), waitHealthy(worker, `http://127.0.0.1:${metricsPort}/healthz`)]);
});

afterAll(async () => {
  await killAllLaunched();
  await proxy?.close();
  await stack?.close();
  await pgServer?.close();
});

describe('PostgreSQL unavailable when a job finishes', () => {
  const faults: { name: string; arm: () => Promise<number> }[] = [
    { name: 'refusing connections', arm: () => faultAtMarkDone('refuse', FAULT_MS) },
    { name: 'partitioned (timing out)', arm: () => faultAtMarkDone('blackhole', FAULT_MS) },
    {
      name: 'shut down and started again',
      arm: () =>
        atMarkDone(() => {
          // Hold the statement while the server shuts down under it, then let the worker find it gone.
          proxy.setMode('blackhole');
          void pgServer.stop('SIGINT').then(() => {
            proxy.setMode('pass', { cut: true });
            setTimeout(() => void pgServer.start(), FAULT_MS);
          });
        }),
    },
  ];
  for (const fault of faults) {
    it(`PostgreSQL ${fault.name} for ${FAULT_MS / 1000} s at the job's last statement: done once (${REPEAT} times)`, async () => {
      const outcomes: { asset: number; attempts: number; faultToDoneMs: number; statementRetries: number; refused: number; holds: number; pgStops: number }[] = [];
      for (let i = 0; i < REPEAT; i++) {
        const before = { ...proxy.stats, stops: pgServer.stops };
        const armed = fault.arm();
        const id = await enqueueMoment(base, { start: 10 + i, end: 14 + i, fps: 5, width: 200 });
        const at = await armed;
        await waitSettled(stack, id, 90_000);
        const doneAt = Date.now();
        const result = await expectDoneOnce(stack, id, [worker]);
        const d = { refused: proxy.stats.refused - before.refused, holds: proxy.stats.holds - before.holds, pgStops: pgServer.stops - before.stops };
        if (fault.name.startsWith('refusing')) expect(d.refused).toBeGreaterThan(0);
        if (fault.name.startsWith('partitioned')) expect(d.holds).toBeGreaterThan(0);
        if (fault.name.startsWith('shut down')) expect(d.pgStops).toBe(1);
        expect(doneAt - at).toBeGreaterThanOrEqual(FAULT_MS - 500);
        // The GIF was already uploaded: the worker retries the statement, it does not render again.
        expect(logLines(worker, 'rendering', id), 'renders started').toHaveLength(1);
        expect(result.attemptsMade).toBe(1);
        const retries = logLines(worker, 'marking the asset done failed; retrying', id).length;
        expect(retries).toBeGreaterThan(0);
        outcomes.push({ asset: id, attempts: result.attemptsMade, faultToDoneMs: doneAt - at, statementRetries: retries, ...d });
      }
      expect(worker.running()).toBe(true);
      expect(logLines(worker, 'worker started')).toHaveLength(1);
      await expectBucketMatchesDoneRows(stack);
      // The server, whose connections the restart also cut, still takes new moments.
      const extra = await enqueueMoment(base, { start: 1, end: 2 });
      expect(extra).toBeGreaterThan(0);
      // Settled here: the next test's fault is armed on the next statement that marks a row done,
      // and this moment's, still rendering, was that statement once a render got faster (stop 31).
      await waitSettled(stack, extra, 90_000);
      report(`PostgreSQL ${fault.name} for ${FAULT_MS} ms at markDone`, {
        tried: REPEAT,
        passed: outcomes.length,
        lost: 0,
        query_timeout_ms: QUERY_TIMEOUT_MS,
        attempts: outcomes.map((o) => o.attempts),
        statement_retries: outcomes.map((o) => o.statementRetries),
        fault_to_done_ms: outcomes.map((o) => o.faultToDoneMs),
        outcomes,
      });
      // The extra moment above renders too; wait so the next scenario starts from a quiet worker.
      await waitUntil('the queue to drain', async () => (await stack.queue.getJobCounts('waiting', 'active', 'delayed')).active === 0 && (await stack.queue.getJobCounts('waiting')).waiting === 0, 60_000, 100);
    });
  }

  for (const mode of ['refuse', 'blackhole'] as const) {
    it(`PostgreSQL ${mode === 'refuse' ? 'refusing' : 'partitioned'} for good from the job's last statement: failed after 3 attempts; once it is back, the row and the GIF are swept`, async () => {
      const fault = faultAtMarkDone(mode);
      const id = await enqueueMoment(baseFewAttempts, { start: 30, end: 33, fps: 5, width: 200 });
      const at = await fault;
      await waitUntil(`job of asset ${id} to fail`, async () => (await jobState(stack, id)) === 'failed', 120_000, 100);
      const failMs = Date.now() - at;
      const j = await job(stack, id);
      expect(j?.attemptsMade).toBe(3);
      expect(j?.failedReason).toMatch(/timeout|terminated|ECONNRESET|connect|Connection/i);
      // PostgreSQL is unreachable, so the row still says rendering; the GIF of the first attempt is in S3.
      const during = { row: (await row(stack, id))?.status, object: (await bucketKeys(stack)).includes(keyFor(id)) };
      expect(during.row).toBe('rendering');
      expect(logLines(worker, 'rendered', id)).toHaveLength(0);

      proxy.setMode('pass', { cut: true });
      const back = Date.now();
      await waitUntil('the sweep to delete the asset of the failed job', async () => (await row(stack, id)) === undefined, 30_000, 100);
      expect(await bucketKeys(stack)).not.toContain(keyFor(id));
      expect(await job(stack, id)).toBeUndefined();
      expect(worker.running()).toBe(true);
      await expectBucketMatchesDoneRows(stack);
      report(`PostgreSQL ${mode} for good at markDone`, {
        tried: 1,
        passed: 1,
        lost: 0,
        attempts: j?.attemptsMade,
        fault_to_failed_ms: failMs,
        during_outage: during,
        swept_after_ms: Date.now() - back,
        orphan_objects_after: 0,
      });
    });
  }
});
