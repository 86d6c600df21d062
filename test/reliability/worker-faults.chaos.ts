import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../service/build.js';
import {
  chromiumInGroups,
  chromiumUnder,
  isAlive,
  killAllLaunched,
  launchService,
  logLines,
  mainBrowserProcesses,
  waitHealthy,
  waitUntil,
  type ServiceProcess,
} from '../support/service-procs.js';
import { createStack, enqueueMoment, expectBucketMatchesDoneRows, expectDoneOnce, freePort, job, jobIdOf, jobState, report, row, waitSettled, type Stack } from './stack.js';

/**
 * Process faults, on the real processes: a worker SIGKILLed mid-render (its job goes to another
 * worker once the lock expires), its browser killed mid-render (the pool replaces it, the job is
 * retried), and SIGTERM during a render (the render finishes before the process exits, or, past
 * SHUTDOWN_TIMEOUT_MS, is handed back and finished elsewhere). Each asserts the whole end state:
 * the job completed once, one render logged, the row done and pointing at the one object.
 */

const REPEAT = Number(process.env.CHAOS_REPEAT ?? 3);
/** Short locks so a dead worker's job is reclaimed in seconds (production: 5 min). */
const LOCK_MS = 5000;
const STALLED_MS = 1000;
const STALL_TIMEOUT_MS = 5000;

let stack: Stack;
let base: string;
let server: ServiceProcess;
const everyWorker: ServiceProcess[] = [];

async function startWorker(name: string, extra: Record<string, string> = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const w = launchService('worker', stack.env({ WORKER_METRICS_PORT: String(port), WORKER_CONCURRENCY: '1', JOB_LOCK_DURATION_MS: String(LOCK_MS), JOB_STALLED_INTERVAL_MS: String(STALLED_MS), ...extra }), name);
  everyWorker.push(w);
  await waitHealthy(w, `http://127.0.0.1:${port}/healthz`);
  return w;
}

async function progressDone(assetId: number): Promise<number> {
  const p = (await job(stack, assetId))?.progress as { done?: number } | undefined;
  return typeof p?.done === 'number' ? p.done : 0;
}

/** The worker that logged `rendering` for the asset (its render has started). */
function renderingOn(workers: ServiceProcess[], assetId: number, after = 0): ServiceProcess | undefined {
  return workers.find((w) => logLines(w, 'rendering', assetId).length > after);
}

beforeAll(async () => {
  await ensureBuilt();
  stack = await createStack();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = launchService('server', stack.env({ PORT: String(port), PUBLIC_BASE_URL: base }));
  await waitHealthy(server, `${base}/healthz`);
});

afterEach((ctx) => {
  // What the workers last said is the only trace CI keeps of a failure here.
  if (ctx.task.result?.state === 'fail') {
    for (const w of everyWorker) {
      const tail = w.lines.slice(-30).map((l) => JSON.stringify(l)).concat(w.other.slice(-10));
      console.log(`[${w.name}] last log lines:\n${tail.join('\n')}`);
    }
  }
  // A test that failed half-way leaves its workers running, and they would take the next test's jobs.
  for (const w of everyWorker) if (w.running()) w.child.kill('SIGKILL');
});

afterAll(async () => {
  await killAllLaunched();
  await stack?.close();
});

describe('worker processes under faults', () => {
  it(`a worker SIGKILLed mid-render: another worker finishes the job after the stall interval (${REPEAT} times)`, async () => {
    const workers = [await startWorker('w-a'), await startWorker('w-b')];
    const outcomes: { asset: number; killedAfterFrames: number; reclaimMs: number; orphanBrowserMs: number | null; attempts: number; stalled: number }[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const id = await enqueueMoment(base, { start: 0, end: 30, fps: 10, width: 320 });
      const victim = await waitUntil(`a worker to start asset ${id}`, () => renderingOn(workers, id), 30_000);
      const frames = await waitUntil('frames to be rendered', async () => ((await progressDone(id)) > 0 ? progressDone(id) : undefined), 30_000, 50);
      const browsers = chromiumUnder(victim.pid);
      expect(browsers.length, 'the victim runs Chromium').toBeGreaterThan(0);
      const groups = [...new Set(browsers.map((p) => p.pgid))];
      victim.child.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(isAlive(victim.pid)).toBe(false);
      expect((await row(stack, id))?.status).toBe('rendering');

      // Chromium talks to the worker over a pipe: with its worker gone, it must go too.
      let orphanBrowserMs: number | null = null;
      try {
        await waitUntil('the dead worker\'s Chromium to exit', () => chromiumInGroups(groups).length === 0, 15_000, 50);
        orphanBrowserMs = Date.now() - killedAt;
      } catch {
        for (const g of groups) {
          try {
            process.kill(-g, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }

      const survivor = workers.find((w) => w !== victim)!;
      await waitSettled(stack, id, 90_000);
      const reclaimMs = Date.now() - killedAt;
      const j = await job(stack, id);
      const result = await expectDoneOnce(stack, id, everyWorker);
      expect(logLines(victim, 'rendered', id)).toHaveLength(0);
      const jobId = await jobIdOf(stack, id);
      expect(logLines(survivor, 'job stalled; it goes back to the queue').some((l) => l.job_id === jobId) ||
        logLines(everyWorker, 'job stalled; it goes back to the queue').some((l) => l.job_id === jobId)).toBe(true);
      outcomes.push({ asset: id, killedAfterFrames: frames, reclaimMs, orphanBrowserMs, attempts: result.attemptsMade, stalled: (j as unknown as { stalledCounter?: number }).stalledCounter ?? -1 });
      // Two workers again for the next round.
      workers.splice(workers.indexOf(victim), 1, await startWorker(`w-${i}-replacement`));
    }
    await expectBucketMatchesDoneRows(stack);
    for (const w of workers) expect(w.running()).toBe(true);
    report('worker SIGKILL mid-render', {
      tried: REPEAT,
      passed: outcomes.length,
      lost: 0,
      lock_ms: LOCK_MS,
      stalled_interval_ms: STALLED_MS,
      kill_to_done_ms: outcomes.map((o) => o.reclaimMs),
      orphan_browser_exit_ms: outcomes.map((o) => o.orphanBrowserMs),
      outcomes,
    });
    expect(outcomes.every((o) => o.orphanBrowserMs !== null), 'Chromium outlived its SIGKILLed worker').toBe(true);
    await Promise.all(workers.map(async (w) => {
      w.child.kill('SIGTERM');
      expect((await w.exited).code).toBe(0);
    }));
  });

  it(`the browser killed mid-render: the pool replaces it, the job is retried and completes (${REPEAT} kills of each kind)`, async () => {
    // A killed browser disconnects; a renderer killed under the page makes the page crash, which the
    // engine turns into a failed render at once. Either way the job is retried on a working browser.
    // (RENDER_STALL_TIMEOUT_MS, the page-call deadline, is for renderers that hang without a crash.)
    const worker = await startWorker('w-browser', { RENDER_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS) });
    const kinds = ['process group', 'browser binary', 'renderer'] as const;
    const outcomes: { kind: string; asset: number; killed: number; attempts: number; ms: number }[] = [];
    for (let i = 0; i < REPEAT * kinds.length; i++) {
      const kind = kinds[i % kinds.length]!;
      const id = await enqueueMoment(base, { start: 0, end: 30, fps: 10, width: 320 });
      await waitUntil(`asset ${id} to render`, async () => renderingOn([worker], id) && (await progressDone(id)) > 0, 30_000, 50);
      const started = Date.now();
      const browser = mainBrowserProcesses(worker.pid);
      expect(browser, 'one browser under the worker').toHaveLength(1);
      let victims: number[];
      if (kind === 'process group') {
        victims = chromiumUnder(worker.pid).filter((p) => p.pgid === browser[0]!.pgid).map((p) => p.pid);
        process.kill(-browser[0]!.pgid, 'SIGKILL');
      } else if (kind === 'browser binary') {
        victims = [browser[0]!.pid];
        process.kill(browser[0]!.pid, 'SIGKILL');
      } else {
        victims = chromiumUnder(worker.pid).filter((p) => /--type=renderer/.test(p.cmdline)).map((p) => p.pid);
        expect(victims.length, 'a renderer process').toBeGreaterThan(0);
        for (const pid of victims) process.kill(pid, 'SIGKILL');
      }
      await waitUntil('the killed processes to be gone', () => victims.every((pid) => !isAlive(pid)), 10_000, 20);
      await waitSettled(stack, id, 90_000);
      const result = await expectDoneOnce(stack, id, everyWorker);
      expect(result.attemptsMade, `${kind}: one failed attempt, then the one that rendered`).toBe(2);
      const j = await job(stack, id);
      expect((j?.stacktrace ?? []).join('\n'), kind).toMatch(kind === 'renderer' ? /the replay page crashed/ : /browser|Target|crash|closed/i);
      outcomes.push({ kind, asset: id, killed: victims.length, attempts: result.attemptsMade, ms: Date.now() - started });
    }
    expect(worker.running(), 'the worker process survived every browser kill').toBe(true);
    expect(logLines(worker, 'worker started')).toHaveLength(1);
    // What is left is one browser: the killed ones left no processes behind.
    const left = mainBrowserProcesses(worker.pid);
    expect(left.length).toBeLessThanOrEqual(1);
    expect(logLines(worker, 'browser disconnected; the next job starts a new one').length).toBeGreaterThanOrEqual(2 * REPEAT);
    // No kill had to wait for the watchdog.
    expect(logLines(worker, 'render stalled; closing its browser')).toHaveLength(0);
    await expectBucketMatchesDoneRows(stack);
    report('browser killed mid-render', {
      tried: outcomes.length,
      passed: outcomes.length,
      lost: 0,
      render_stall_timeout_ms: STALL_TIMEOUT_MS,
      kinds: Object.fromEntries(kinds.map((k) => [k, outcomes.filter((o) => o.kind === k).length])),
      kill_to_done_ms: outcomes.map((o) => o.ms),
      outcomes,
    });
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });

  it(`SIGTERM during renders: the renders finish, then the worker exits 0 (${REPEAT} times)`, async () => {
    const outcomes: { assets: number[]; exitMs: number; leftWaiting: boolean }[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const worker = await startWorker(`w-term-${i}`, { WORKER_CONCURRENCY: '2' });
      const ids = [await enqueueMoment(base, { start: 0, end: 30, fps: 10, width: 320 }), await enqueueMoment(base, { start: 30, end: 60, fps: 10, width: 320 })];
      await waitUntil('both renders to start', async () => {
        for (const id of ids) if (!renderingOn([worker], id) || (await progressDone(id)) === 0) return false;
        return true;
      }, 30_000, 50);
      worker.child.kill('SIGTERM');
      const signalled = Date.now();
      // Posted after the signal: a draining worker must not take it.
      const later = await enqueueMoment(base, { start: 5, end: 8 });
      const { code } = await worker.exited;
      const exitMs = Date.now() - signalled;
      expect(code).toBe(0);
      const stopIndex = worker.lines.findIndex((l) => l.msg === 'worker stopped');
      expect(stopIndex).toBeGreaterThan(0);
      for (const id of ids) {
        const j = await job(stack, id);
        expect(await jobState(stack, id), `asset ${id}: ${j?.failedReason} ${(j?.stacktrace ?? []).join(' | ')}`).toBe('completed');
        const renderedIndex = worker.lines.findIndex((l) => l.msg === 'rendered' && l.asset_id === id);
        expect(renderedIndex, `asset ${id} rendered before the worker stopped`).toBeGreaterThanOrEqual(0);
        expect(renderedIndex).toBeLessThan(stopIndex);
        await expectDoneOnce(stack, id, everyWorker);
      }
      expect(logLines(worker, 'rendering', later)).toHaveLength(0);
      const leftWaiting = (await jobState(stack, later)) === 'waiting';
      expect(leftWaiting).toBe(true);
      outcomes.push({ assets: [...ids, later], exitMs, leftWaiting });
    }
    // Someone else renders what the draining workers left.
    const finisher = await startWorker('w-term-finisher');
    for (const o of outcomes) {
      await waitSettled(stack, o.assets[2]!, 60_000);
      await expectDoneOnce(stack, o.assets[2]!, everyWorker);
    }
    finisher.child.kill('SIGTERM');
    expect((await finisher.exited).code).toBe(0);
    await expectBucketMatchesDoneRows(stack);
    report('SIGTERM during render (finish)', { tried: REPEAT, passed: outcomes.length, lost: 0, renders_in_flight_each: 2, signal_to_exit_ms: outcomes.map((o) => o.exitMs) });
  });

  it(`SIGTERM past SHUTDOWN_TIMEOUT_MS hands the render back without using an attempt; another worker finishes it (${REPEAT} hand-backs of one job)`, async () => {
    // A long render; each worker is stopped while it renders, with a shutdown timeout far shorter than
    // the render. (At 480 px and a 1 s timeout, stop 27's faster engine on a fast machine finished the
    // 70 s moment 969 ms after the signal, and nothing was handed back.)
    const id = await enqueueMoment(base, { start: 0, end: 70, fps: 10, width: 800 });
    const handedBack: { worker: string; exitMs: number; attemptsMade: number; state: string }[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const seen = logLines(everyWorker, 'rendering', id).length;
      const worker = await startWorker(`w-handback-${i}`, { SHUTDOWN_TIMEOUT_MS: '150' });
      await waitUntil('the render to start here', async () => logLines(worker, 'rendering', id).length > 0 && (await progressDone(id)) > 0, 30_000, 50);
      expect(logLines(everyWorker, 'rendering', id).length).toBe(seen + 1);
      worker.child.kill('SIGTERM');
      const signalled = Date.now();
      const { code } = await worker.exited;
      const exitMs = Date.now() - signalled;
      expect(code).toBe(0);
      expect(logLines(worker, 'rendered', id)).toHaveLength(0);
      const j = await job(stack, id);
      const state = await jobState(stack, id);
      handedBack.push({ worker: worker.name, exitMs, attemptsMade: j?.attemptsMade ?? -1, state });
      expect(['waiting', 'delayed', 'prioritized'], `job state after hand-back ${i + 1}`).toContain(state);
      expect(j?.attemptsMade, 'a hand-back uses no attempt').toBe(0);
      expect((await row(stack, id))?.status).not.toBe('failed');
      expect(exitMs).toBeLessThan(15_000);
    }
    const finisher = await startWorker('w-handback-finisher');
    await waitSettled(stack, id, 90_000);
    await expectDoneOnce(stack, id, everyWorker);
    expect(logLines(finisher, 'rendered', id)).toHaveLength(1);
    finisher.child.kill('SIGTERM');
    expect((await finisher.exited).code).toBe(0);
    await expectBucketMatchesDoneRows(stack);
    report('SIGTERM past the shutdown timeout (hand back)', { tried: REPEAT, passed: REPEAT, lost: 0, shutdown_timeout_ms: 150, handedBack });
  });
});
