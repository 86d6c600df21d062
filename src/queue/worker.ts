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
import { AssetStore, createS3Client } from '../storage/s3.js';
import { BrowserPool } from './browser-pool.js';
import { redisConnection } from './connection.js';
import { QUEUE_NAME, type JobResult } from './job.js';
import { LOST_LOCK_REASON, SHUTDOWN_REASON, createProcessor } from './processor.js';
import { sweepExpiredAssets, sweepFailedAssets } from './sweeps.js';

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

/**
 * The worker process: a BullMQ Worker rendering with a warm browser pool, the periodic sweeps, and a
 * small listener for health checks and Prometheus.
 */
export async function startWorker(config: Config, options: { logger?: Logger } = {}): Promise<WorkerHandle> {
  const logger = options.logger ?? createLogger('worker', config.logLevel);
  if (!config.recordings) throw new Error('no recording source configured');
  if (config.database.migrateOnStart) await runMigrations(config.database.url, logger);

  const db = createPool(config.database.url, config.database.poolMax, (err) => logger.warn({ err }, 'idle PostgreSQL client error'), config.database.queryTimeoutMs);
  const assets = new AssetRepository(db, config.assets.ttlDays);
  const s3 = createS3Client(config.s3);
  const store = new AssetStore(s3, config.s3.bucket, config.s3.prefix);
  const recordings = createRecordingSource(config.recordings, () => s3);
  const browsers = new BrowserPool({ recycleAfter: config.worker.browserRecycleAfter, logger });
  const metrics = createMetrics();
  const queue = new Queue(QUEUE_NAME, { connection: redisConnection(config.redis.url, 'producer'), prefix: config.redis.prefix });
  queue.on('error', (err) => logger.warn({ err }, 'queue connection error'));

  const processor = createProcessor({ assets, store, recordings, browsers, render: config.render, logger, metrics });
  const worker = new Worker<unknown, JobResult>(QUEUE_NAME, processor, {
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
    const assetId = (job?.data as { asset_id?: unknown } | undefined)?.asset_id;
    if (!job?.finishedOn || typeof assetId !== 'number') return;
    assets.markFailed(assetId, err.message).catch((e: unknown) => logger.warn({ err: e, asset_id: assetId }, 'marking the asset failed did not work'));
  });

  let sweeping: Promise<void> | undefined;
  const sweep = () => {
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
  const sweepTimer = config.assets.sweepIntervalS > 0 ? setInterval(() => void sweep(), config.assets.sweepIntervalS * 1000) : undefined;
  sweepTimer?.unref();

  let closing: Promise<void> | undefined;
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    const ok = !closing && worker.isRunning();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : closing ? 'draining' : 'not running' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  let server: Server | undefined;
  let metricsPort = 0;
  if (config.worker.metricsPort >= 0) {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.worker.metricsPort, config.http.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    metricsPort = (server.address() as AddressInfo).port;
  }

  void worker.run().catch((err: unknown) => logger.error({ err }, 'worker stopped'));
  await worker.waitUntilReady();
  logger.info(
    { concurrency: config.worker.concurrency, queue: QUEUE_NAME, prefix: config.redis.prefix, source: recordings.description, metrics_port: metricsPort },
    'worker started',
  );

  const close = () => {
    closing ??= (async () => {
      logger.info('draining: no new jobs, waiting for running ones');
      if (sweepTimer) clearInterval(sweepTimer);
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        worker.close().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), config.worker.shutdownTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!drained) {
        // The renders still running are cancelled and hand their jobs back to the queue (without
        // using an attempt) for another worker. One that does not even answer its abort within
        // CANCEL_GRACE_MS is left to its lock: it expires and the stalled check hands the job on.
        logger.warn({ timeout_ms: config.worker.shutdownTimeoutMs }, 'running jobs did not finish in time; handing them back');
        worker.cancelAllJobs(SHUTDOWN_REASON);
        const closed = await Promise.race([
          worker.close(true).then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), CANCEL_GRACE_MS);
          }),
        ]);
        clearTimeout(timer);
        if (!closed) logger.warn({ grace_ms: CANCEL_GRACE_MS }, 'a cancelled render did not stop; its lock will expire');
      }
      await sweeping;
      await browsers.close();
      await queue.close();
      await db.end();
      s3.destroy();
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      logger.info('worker stopped');
    })();
    return closing;
  };

  return { worker, browsers, metrics, metricsPort, sweep, close };
}
