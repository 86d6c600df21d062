import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { Producer } from '../../src/producer/index.js';
import { QUEUE_NAME } from '../../src/queue/job.js';
import { startWorker, type WorkerHandle } from '../../src/queue/worker.js';
import { REDIS_URL, serviceFixture, waitFor, type ServiceFixture } from '../service/env.js';

/**
 * The default WORKER_CONCURRENCY is 2. Two renders in one begin-frame browser crash its GPU process
 * ("overlapping IssueExternalBeginFrame") or come back without a picture, so the pool gives each
 * running job a browser of its own: concurrent jobs all render at their first attempt.
 */

const TEAM = 4;
let fixture: ServiceFixture;
let dir: string;
let handle: WorkerHandle;
let producer: Producer;
let queue: Queue;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rr-concurrency-'));
  await mkdir(join(dir, String(TEAM)));
  await copyFile('examples/journey.json.gz', join(dir, String(TEAM), 'journey.jsonl.gz'));
  fixture = await serviceFixture({ RECORDINGS_DIR: dir, WORKER_CONCURRENCY: '2', JOB_BACKOFF_MS: '100', SWEEP_INTERVAL_S: '0', WORKER_METRICS_PORT: '0' });
  const config = loadConfig('worker', fixture.env);
  handle = await startWorker(config, { logger: createLogger('worker', 'silent') });
  producer = new Producer({ config, logger: createLogger('producer', 'silent') });
  queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: fixture.prefix });
});

afterAll(async () => {
  await handle?.close();
  await producer?.close();
  await queue?.close();
  await Promise.allSettled([fixture?.close(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

describe('a worker running two jobs at once', () => {
  it('renders both at their first attempt, each in a browser of its own', async () => {
    const moments = await Promise.all(
      [0, 15, 30, 45].map((s) => producer.enqueueMomentPreview({ teamId: TEAM, sessionId: 'journey', startS: s, endS: s + 12, minDurationS: 0, fps: 10, width: 320 })),
    );
    let most = 0;
    for (const m of moments) {
      await waitFor(`job ${m.jobId}`, async () => {
        most = Math.max(most, handle.browsers.size);
        const state = await queue.getJobState(m.jobId);
        return state === 'completed' || state === 'failed' ? state : undefined;
      }, 90_000, 20);
    }
    for (const m of moments) {
      const job = await queue.getJob(m.jobId);
      expect(await queue.getJobState(m.jobId), `${m.jobId}: ${job?.failedReason}`).toBe('completed');
      expect(job?.attemptsMade, `${m.jobId} at its first attempt`).toBe(1);
      expect(job?.returnvalue).toMatchObject({ skipped: false, start_offset_s: m.startS, end_offset_s: m.endS });
    }
    // Two browsers ran side by side, and both stayed warm for the next jobs.
    expect(most).toBe(2);
    expect(handle.browsers.launches).toBe(2);
  });
});
