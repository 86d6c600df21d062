import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../service/build.js';
import { startPrivateRedis, type PrivateServer } from '../support/private-services.js';
import { killAllLaunched, launchService, logLines, waitHealthy, waitUntil, type ServiceProcess } from '../support/service-procs.js';
import { allRows, createStack, enqueueMoment, expectBucketMatchesDoneRows, expectDoneOnce, freePort, post, report, waitSettled, TEAM, JOURNEY, type Stack } from './stack.js';

/**
 * Redis restarted under a running service: a private redis-server on a free port (the shared one is
 * never stopped), with an append-only file synced on every write, as a BullMQ Redis should run. The
 * server and two workers keep running across the restart and must reconnect by themselves: jobs
 * queued or rendering when Redis went away all end `done` once; moments posted while it is away are
 * either refused (5xx, no row left) or accepted and rendered; new ones are taken once it is back.
 */

const REPEAT = Number(process.env.CHAOS_REPEAT ?? 3);
const JOBS_PER_ROUND = 6;
const DOWN_MS = 3000;

let redis: PrivateServer;
let stack: Stack;
let base: string;
let server: ServiceProcess;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  await ensureBuilt();
  redis = await startPrivateRedis();
  stack = await createStack({ redisUrl: redis.url });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = launchService('server', stack.env({ PORT: String(port), PUBLIC_BASE_URL: base, JOB_BACKOFF_MS: '500' }));
  await waitHealthy(server, `${base}/healthz`);
  for (const name of ['w-1', 'w-2']) {
    const metrics = await freePort();
    const w = launchService('worker', stack.env({ WORKER_METRICS_PORT: String(metrics), WORKER_CONCURRENCY: '1' }), name);
    workers.push(w);
    await waitHealthy(w, `http://127.0.0.1:${metrics}/healthz`);
  }
});

afterAll(async () => {
  await killAllLaunched();
  await stack?.close();
  await redis?.close();
});

describe('Redis restarted mid-run', () => {
  it(`server and workers reconnect by themselves and lose no job (${REPEAT} restarts: clean shutdown and crash)`, async () => {
    const rounds: Record<string, unknown>[] = [];
    let accepted: number[] = [];
    let refusedDuringOutage = 0;
    for (let i = 0; i < REPEAT; i++) {
      const signal: NodeJS.Signals = i % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
      const ids: number[] = [];
      for (let k = 0; k < JOBS_PER_ROUND; k++) ids.push(await enqueueMoment(base, { start: 5 + k * 6, end: 10 + k * 6, fps: 5, width: 240 }));
      accepted.push(...ids);
      // Some rendering, some still waiting, when Redis goes.
      await waitUntil('renders to be under way with jobs still queued', async () => {
        const c = await stack.queue.getJobCounts('active', 'waiting');
        return (c.active ?? 0) >= 1 && (c.waiting ?? 0) >= 1;
      }, 30_000, 20);
      const states = await stack.queue.getJobCounts('active', 'waiting', 'completed');
      const oldPid = redis.pid;
      await redis.stop(signal);
      const downAt = Date.now();

      // While it is away: the API refuses to enqueue (and keeps no row), readiness says why.
      const duringPosts = await Promise.all(
        [0, 1].map(() => post(base, '/v1/rasterize', { team_id: TEAM, session_id: JOURNEY, start_offset_s: 1, end_offset_s: 3, min_duration_s: 0, fps: 5, width: 200 })),
      );
      const ready = await fetch(`${base}/readyz`);
      const readyBody = (await ready.json()) as { checks: Record<string, string> };
      expect(ready.status).toBe(503);
      expect(readyBody.checks.redis).not.toBe('ok');
      for (const r of duringPosts) {
        if (r.status === 202) accepted.push(r.body.asset_id as number);
        else {
          expect(r.status).toBe(503);
          expect(r.body.error).toBe('queue_unavailable');
          refusedDuringOutage++;
        }
      }
      const remaining = DOWN_MS - (Date.now() - downAt);
      if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
      await redis.start();
      const upAt = Date.now();
      expect(redis.pid).not.toBe(oldPid);

      // The server is ready again without a restart of its own, and takes new moments.
      await waitUntil('the server to be ready again', async () => (await fetch(`${base}/readyz`)).status === 200, 30_000, 100);
      const readyAfterMs = Date.now() - upAt;
      const later = await enqueueMoment(base, { start: 50, end: 53, fps: 5, width: 200 });
      accepted.push(later);

      for (const id of [...ids, later]) await waitSettled(stack, id, 120_000);
      const allDoneMs = Date.now() - upAt;
      for (const id of [...ids, later]) await expectDoneOnce(stack, id, workers);
      rounds.push({ signal, states_at_stop: states, posts_during_outage: duringPosts.map((r) => r.status), ready_after_restart_ms: readyAfterMs, all_done_after_restart_ms: allDoneMs });
    }
    // Everything accepted was rendered; nothing refused left a row.
    accepted = [...new Set(accepted)];
    for (const id of accepted) {
      await waitSettled(stack, id, 60_000);
      await expectDoneOnce(stack, id, workers);
    }
    const rows = await allRows(stack);
    expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual([...accepted].sort((a, b) => a - b));
    await expectBucketMatchesDoneRows(stack);
    // The same processes all along: they reconnected, nobody restarted them.
    for (const p of [server, ...workers]) {
      expect(p.running(), `${p.name} still running`).toBe(true);
      expect(logLines(p, /started|listening/).length, `${p.name} started once`).toBe(1);
    }
    expect(redis.stops).toBe(REPEAT);
    report('Redis restarted mid-run', {
      tried: REPEAT,
      passed: rounds.length,
      lost: 0,
      jobs: accepted.length,
      refused_while_down: refusedDuringOutage,
      down_ms: DOWN_MS,
      rounds,
    });
  });
});
