import { hostname } from 'node:os';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import express from 'express';
import type { Config } from '../config/config.js';
import { AssetRepository } from '../db/assets.js';
import { runMigrations } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { createRecordingSource } from '../recording/sources/index.js';
import { AssetCache } from '../render/asset-cache.js';
import { BrowserPool } from '../render/browser-pool.js';
import { preparePartWorker } from '../render/gif.js';
import { keepPagesStatus } from '../render/keep-pages.js';
import { AssetStore, createS3Client } from '../storage/s3.js';
import { settlesWithin } from '../util/deadline.js';
import { redisConnection } from './connection.js';
import { QUEUE_NAME, type JobResult } from './job.js';
import { LOST_LOCK_REASON, SHUTDOWN_REASON, createProcessor } from './processor.js';
import { jobAssetRef, sweepExpiredAssets, sweepFailedAssets } from './sweeps.js';

/** After SHUTDOWN_TIMEOUT_MS, how long cancelled renders get to hand their jobs back. */
const CANCEL_GRACE_MS = 15_000;

export interface WorkerHandle {
  worker: Worker;
  browsers: BrowserPool;
  metrics: Metrics;
  /** Port of the worker's /healthz and /metrics listener (0 when it is off). */
  metricsPort: number;
  /** Runs the expiry and failed-asset sweeps once (they also run every SWEEP_INTERVAL_S). */
  sweep(): Promise<void>;
  /** Stops taking jobs, lets running ones finish (up to SHUTDOWN_TIMEOUT_MS), then closes everything. */
  close(): Promise<void>;
}

/** What a worker process holds open. */
interface Parts {
  config: Config;
  logger: Logger;
  db: ReturnType<typeof createPool>;
  /** The recorded sites' assets kept across this worker's renders (ASSET_CACHE_MB; none when 0). */
  assetCache: AssetCache | undefined;
  assets: AssetRepository;
  s3: ReturnType<typeof createS3Client>;
  store: AssetStore;
  browsers: BrowserPool;
  metrics: Metrics;
  queue: Queue;
}

/**
 * The worker process: a BullMQ Worker rendering with a warm browser pool, the periodic sweeps, and a
 * small listener for health checks and Prometheus.
 */
export async function startWorker(config: Config, options: { logger?: Logger } = {}): Promise<WorkerHandle> {
  const logger = options.logger ?? createLogger('worker', config.logLevel);
  if (!config.recordings) throw new Error('no recording source configured');
  if (config.database.migrateOnStart) await runMigrations(config.database.url, logger);

  const parts = openParts(config, logger);
  // A long-lived process: the encode's second thread is made once, here, not in a render's setup
  // (made there it slowed single renders' first frame as much as it saved: BENCHMARKS.md stop 31).
  preparePartWorker();
  const recordings = createRecordingSource(config.recordings, () => parts.s3);
  const processor = createProcessor({ ...parts, recordings, render: config.render });
  const worker = createBullWorker(config, processor);
  watchWorker(worker, parts);
  const sweeps = startSweeps(parts);
  let closing: Promise<void> | undefined;
  const listener = await listenForHealth(parts, () => !closing && worker.isRunning(), () => (closing ? 'draining' : 'not running'));

  void worker.run().catch((err: unknown) => logger.error({ err }, 'worker stopped'));
  await worker.waitUntilReady();
  // Said once here: without it, renders on hosts with slow page faults are slower (keep-pages.ts).
  const keepPages = await keepPagesStatus();
  logger.info(
    {
      concurrency: config.worker.concurrency,
      queue: QUEUE_NAME,
      prefix: config.redis.prefix,
      source: recordings.description,
      metrics_port: listener.port,
      asset_cache_mb: (config.worker.assetCache?.maxBytes ?? 0) / 1024 / 1024,
      keep_pages: keepPages.state,
      ...(keepPages.state === 'off' ? { keep_pages_why: keepPages.why } : {}),
    },
    'worker started',
  );

  const close = () => {
    closing ??= drainAndClose(worker, parts, sweeps, listener.server);
    return closing;
  };
  return { worker, browsers: parts.browsers, metrics: parts.metrics, metricsPort: listener.port, sweep: sweeps.run, close };
}

function openParts(config: Config, logger: Logger): Parts {
  const db = createPool(config.database.url, config.database.poolMax, config.database.queryTimeoutMs, (err) => logger.warn({ err }, 'idle PostgreSQL client error'));
  const s3 = createS3Client(config.s3);
  const queue = new Queue(QUEUE_NAME, { connection: redisConnection(config.redis.url, 'producer'), prefix: config.redis.prefix });
  queue.on('error', (err) => logger.warn({ err }, 'queue connection error'));
  // One for the process, shared by its concurrent renders: a session's problems render the same site.
  const assetCache = config.worker.assetCache ? new AssetCache(config.worker.assetCache) : undefined;
  return {
    config,
    logger,
    db,
    assetCache,
    assets: new AssetRepository(db, config.assets.ttlDays),
    s3,
    store: new AssetStore(s3, config.s3.bucket, config.s3.prefix),
    browsers: new BrowserPool({ recycleAfter: config.worker.browserRecycleAfter, logger }),
    metrics: createMetrics({ assetCacheBytes: assetCache ? () => assetCache.size : undefined, assetCacheHits: assetCache ? () => assetCache.counts.hits : undefined }),
    queue,
  };
}

function createBullWorker(config: Config, processor: ReturnType<typeof createProcessor>): Worker<unknown, JobResult> {
  return new Worker<unknown, JobResult>(QUEUE_NAME, processor, {
    connection: redisConnection(config.redis.url, 'worker'),
    prefix: config.redis.prefix,
    name: `${hostname()}:${process.pid}`,
    concurrency: config.worker.concurrency,
    // Renders block the event loop in bursts (parsing, encoding); the lock is renewed every
    // lockDuration/2 by a timer on that loop, so it must outlast the longest burst by far.
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
    autorun: false,
  });
}

function watchWorker(worker: Worker, { logger, assets }: Parts): void {
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  worker.on('stalled', (jobId) => logger.warn({ job_id: jobId }, 'job stalled; it goes back to the queue'));
  worker.on('lockRenewalFailed', (jobIds) => {
    // Without its lock the job may already be running elsewhere: stop rendering it here.
    logger.warn({ job_ids: jobIds }, 'lock renewal failed; cancelling the render');
    for (const id of jobIds) worker.cancelJob(id, LOST_LOCK_REASON);
  });
  // The processor marks the rows it fails for good; a job failed without running (stalled too many
  // times) reaches only this event. finishedOn is set only once a job has left for the failed set.
  worker.on('failed', (job, err) => {
    const ref = job?.finishedOn ? jobAssetRef(job.data, job.id) : undefined;
    if (!ref) return;
    assets.markFailed(ref.assetId, ref.jobKey, err.message).catch((e: unknown) => logger.warn({ err: e, asset_id: ref.assetId }, 'marking the asset failed did not work'));
  });
}

/** The expiry and failed-asset sweeps, every SWEEP_INTERVAL_S; one at a time. */
function startSweeps({ config, assets, store, queue, logger }: Parts) {
  let sweeping: Promise<void> | undefined;
  const run = () => {
    sweeping ??= (async () => {
      try {
        await sweepExpiredAssets({ assets, store, logger });
        await sweepFailedAssets({ assets, store, queue, logger }, { graceMs: config.assets.failedRetentionS * 1000 });
      } catch (err) {
        logger.warn({ err }, 'sweep failed; it runs again next interval');
      } finally {
        sweeping = undefined;
      }
    })();
    return sweeping;
  };
  const timer = config.assets.sweepIntervalS > 0 ? setInterval(() => void run(), config.assets.sweepIntervalS * 1000) : undefined;
  timer?.unref();
  return {
    run,
    stop: async () => {
      if (timer) clearInterval(timer);
      await sweeping;
    },
  };
}

/** /healthz and /metrics on WORKER_METRICS_PORT (negative: none). */
async function listenForHealth({ config, metrics }: Parts, healthy: () => boolean, why: () => string): Promise<{ server: Server | undefined; port: number }> {
  if (config.worker.metricsPort < 0) return { server: undefined, port: 0 };
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    const ok = healthy();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : why() });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.worker.metricsPort, config.http.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * Shutdown: no new jobs; running renders get SHUTDOWN_TIMEOUT_MS to finish. Past it they are
 * cancelled and hand their jobs back to the queue (without using an attempt) for another worker;
 * one that does not even answer its abort within CANCEL_GRACE_MS is left to its lock, which
 * expires so that the stalled check hands the job on.
 */
async function drainAndClose(worker: Worker, parts: Parts, sweeps: { stop(): Promise<void> }, server: Server | undefined): Promise<void> {
  const { config, logger } = parts;
  logger.info('draining: no new jobs, waiting for running ones');
  const sweepsStopped = sweeps.stop();
  if (!(await settlesWithin(worker.close(), config.worker.shutdownTimeoutMs))) {
    logger.warn({ timeout_ms: config.worker.shutdownTimeoutMs }, 'running jobs did not finish in time; handing them back');
    worker.cancelAllJobs(SHUTDOWN_REASON);
    if (!(await settlesWithin(worker.close(true), CANCEL_GRACE_MS))) logger.warn({ grace_ms: CANCEL_GRACE_MS }, 'a cancelled render did not stop; its lock will expire');
  }
  await sweepsStopped;
  await parts.browsers.close();
  await parts.queue.close();
  await parts.db.end();
  parts.s3.destroy();
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  logger.info('worker stopped');
}
