import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../src/errors.js';
import { parseRecording } from '../../src/recording/parse.js';
import { ensureBuilt } from '../service/build.js';
import { badMessage, loadFuzzBase } from '../support/fuzz-run.js';
import { malformedCorpus, type MalformedCase } from '../support/malformed.js';
import { killAllLaunched, launchService, logLines, rssKiB, waitHealthy, waitUntil, type ServiceProcess } from '../support/service-procs.js';
import { allRows, bucketKeys, createStack, expectBucketMatchesDoneRows, freePort, keyFor, post, report, TEAM, JOURNEY, type Stack } from './stack.js';

/**
 * The engine fuzz corpus (test/support/malformed.ts: truncated JSON, wrong types, no full snapshot,
 * events out of order, far-future timestamps, 100 MB of events, a DOM 10,000 deep, a 50,000-node
 * burst, invalid gzip, bombs...) pushed through the real service: each file is a session in the
 * workers' recordings directory and is posted to POST /v1/rasterize, with good moments interleaved.
 * Every bad one must end as a clear 4xx or a job failed once, at its first attempt, with one clean
 * line (the same InputError the parser gives, when the parser refuses it), or render; every good one
 * must be done; the two worker processes must never crash or restart.
 */

const GOOD_EVERY = 20;
const POST_CONCURRENCY = 8;

let stack: Stack;
let base: string;
let server: ServiceProcess;
const workers: ServiceProcess[] = [];
let corpus: MalformedCase[];

interface Posted {
  kind: 'bad' | 'good';
  name: string;
  session: string;
  status: number;
  assetId?: number;
  jobId?: string;
  /** What the parser in this process says of the bytes: its InputError message, or 'parses'. */
  parser?: string;
  body?: Record<string, unknown>;
}

/** A session id the service accepts, unique per case. */
function sessionFor(i: number, name: string): string {
  return `m${String(i).padStart(4, '0')}-${name.replace(/[^A-Za-z0-9._-]+/g, '_')}`.slice(0, 180).replace(/\.+$/, '');
}

beforeAll(async () => {
  await ensureBuilt();
  stack = await createStack();
  corpus = malformedCorpus(await loadFuzzBase());
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = launchService('server', stack.env({ PORT: String(port), PUBLIC_BASE_URL: base }));
  await waitHealthy(server, `${base}/healthz`);
  for (const name of ['w-1', 'w-2']) {
    const metrics = await freePort();
    const w = launchService('worker', stack.env({ WORKER_METRICS_PORT: String(metrics), WORKER_CONCURRENCY: '2' }), name);
    workers.push(w);
    await waitHealthy(w, `http://127.0.0.1:${metrics}/healthz`);
  }
});

afterAll(async () => {
  await killAllLaunched();
  await stack?.close();
});

describe('malformed recordings through the service', () => {
  it('every bad recording ends in a clear 4xx or a clean failure at its first attempt (or renders); every good moment is done; no worker crashes', async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(500);
    const started = Date.now();
    const posted: Posted[] = [];
    const work: (() => Promise<void>)[] = [];
    let goodIndex = 0;
    for (const [i, c] of corpus.entries()) {
      const session = sessionFor(i, c.name);
      const bytes = c.bytes();
      await writeFile(join(stack.dir, String(TEAM), `${session}.json`), bytes);
      let parser: string;
      try {
        parseRecording(bytes);
        parser = 'parses';
      } catch (err) {
        if (!isInputError(err)) throw new Error(`${c.name}: the parser threw ${String(err)}`);
        parser = err.message;
      }
      const startS = c.startS ?? 0;
      const endS = c.endS ?? startS + 1;
      work.push(async () => {
        const res = await post(base, '/v1/rasterize', { team_id: TEAM, session_id: session, start_offset_s: startS, end_offset_s: endS, min_duration_s: 0, fps: 2, width: 120 });
        posted.push({ kind: 'bad', name: c.name, session, status: res.status, assetId: res.body.asset_id as number | undefined, jobId: res.body.job_id as string | undefined, parser, body: res.body });
      });
      if (i % GOOD_EVERY === 0) {
        const g = goodIndex++;
        work.push(async () => {
          const res = await post(base, '/v1/rasterize', { team_id: TEAM, session_id: JOURNEY, start_offset_s: (g * 3) % 60, end_offset_s: ((g * 3) % 60) + 2, min_duration_s: 0, fps: 5, width: 160 });
          posted.push({ kind: 'good', name: `good-${g}`, session: JOURNEY, status: res.status, assetId: res.body.asset_id as number | undefined, jobId: res.body.job_id as string | undefined });
        });
      }
    }
    const rss0 = workers.map((w) => rssKiB(w.pid) ?? 0);
    // Posted in order, a few at a time: bad and good interleaved in the queue.
    let next = 0;
    await Promise.all(Array.from({ length: POST_CONCURRENCY }, async () => {
      while (next < work.length) await work[next++]!();
    }));
    const postedMs = Date.now() - started;

    const accepted = posted.filter((p) => p.status === 202);
    const refused = posted.filter((p) => p.status !== 202);
    for (const r of refused) {
      expect(r.kind, `${r.name}: a good moment refused: ${JSON.stringify(r.body)}`).toBe('bad');
      expect(r.status, `${r.name}: ${JSON.stringify(r.body)}`).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }

    // Wait for every accepted job to finish, watching the workers' memory as they go.
    const peak = [...rss0];
    await waitUntil('every job to finish', async () => {
      workers.forEach((w, k) => (peak[k] = Math.max(peak[k]!, rssKiB(w.pid) ?? 0)));
      for (const w of workers) if (!w.running()) throw new Error(`${w.name} exited: ${w.other.slice(-20).join('\n')}`);
      const c = await stack.queue.getJobCounts('completed', 'failed');
      return (c.completed ?? 0) + (c.failed ?? 0) >= accepted.length;
    }, 280_000, 250);
    const settledMs = Date.now() - started;

    // Every case, one by one.
    const problems: string[] = [];
    const outcome = { done: 0, failed: 0, refusedHttp: refused.length, retried: 0 };
    const stateOf = new Map<string, 'completed' | 'failed'>();
    const jobs = new Map<string, Awaited<ReturnType<typeof stack.queue.getJob>>>();
    for (const st of ['completed', 'failed'] as const) {
      for (const j of await stack.queue.getJobs([st], 0, -1)) {
        if (!j?.id) continue;
        jobs.set(j.id, j);
        stateOf.set(j.id, st);
      }
    }
    const rows = new Map((await allRows(stack)).map((r) => [r.id, r]));
    const keys = new Set(await bucketKeys(stack));
    for (const p of accepted) {
      const j = p.jobId ? jobs.get(p.jobId) : undefined;
      const r = rows.get(p.assetId!);
      if (!j || !r) {
        problems.push(`${p.name}: job ${j ? 'present' : 'missing'}, row ${r ? r.status : 'missing'}`);
        continue;
      }
      const state = stateOf.get(j.id!)!;
      if (j.attemptsMade !== 1) {
        outcome.retried++;
        problems.push(`${p.name}: ${j.attemptsMade} attempts (${j.failedReason ?? 'completed'})`);
      }
      if (p.kind === 'good') {
        if (state !== 'completed' || r.status !== 'done') problems.push(`${p.name} (good): ${state}, row ${r.status}: ${j.failedReason}`);
        continue;
      }
      if (state === 'completed') {
        outcome.done++;
        if (p.parser !== 'parses') problems.push(`${p.name}: rendered, but the parser refuses it: ${p.parser}`);
        if (r.status !== 'done' || !keys.has(keyFor(p.assetId!))) problems.push(`${p.name}: completed but row ${r.status}, object ${keys.has(keyFor(p.assetId!))}`);
      } else {
        outcome.failed++;
        const reason = j.failedReason ?? '';
        const bad = badMessage(reason);
        if (bad) problems.push(`${p.name}: failure message ${bad}: ${reason.slice(0, 160)}`);
        if (p.parser !== 'parses' && !reason.includes(p.parser!)) problems.push(`${p.name}: failed with "${reason.slice(0, 120)}", the parser says "${p.parser!.slice(0, 120)}"`);
        if (r.status !== 'failed' || r.error !== reason) problems.push(`${p.name}: row ${r.status} (${r.error?.slice(0, 80)})`);
        if (keys.has(keyFor(p.assetId!))) problems.push(`${p.name}: failed but left an object`);
      }
    }
    const good = posted.filter((p) => p.kind === 'good');
    await expectBucketMatchesDoneRows(stack);
    // The same two worker processes all along.
    for (const w of workers) {
      expect(w.running(), w.name).toBe(true);
      expect(logLines(w, 'worker started'), w.name).toHaveLength(1);
      expect(w.other.filter((l) => /FATAL|Uncaught|unhandled/i.test(l)), w.name).toEqual([]);
    }
    const bad = posted.filter((p) => p.kind === 'bad');
    const byKind = new Map<string, { done: number; failed: number; refused: number }>();
    for (const p of bad) {
      const kind = p.name.split('/')[0]!;
      const k = byKind.get(kind) ?? { done: 0, failed: 0, refused: 0 };
      if (p.status !== 202) k.refused++;
      else if (rows.get(p.assetId!)?.status === 'done') k.done++;
      else k.failed++;
      byKind.set(kind, k);
    }
    report('malformed recordings through the service', {
      tried: bad.length,
      passed: bad.length - new Set(problems.map((x) => x.split(':')[0])).size,
      lost: 0,
      good_moments: good.length,
      good_done: good.filter((g) => rows.get(g.assetId!)?.status === 'done').length,
      ...outcome,
      by_kind: Object.fromEntries(byKind),
      post_ms: postedMs,
      all_settled_ms: settledMs,
      worker_rss_mib_before: rss0.map((k) => Math.round(k / 1024)),
      worker_rss_mib_peak: peak.map((k) => Math.round(k / 1024)),
      problems: problems.slice(0, 30),
    });
    expect(problems).toEqual([]);
    expect(good.every((g) => g.status === 202)).toBe(true);
  });
});
