import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.js';
import { AssetRepository } from '../db/assets.js';
import { runMigrations } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { PreviewEnqueuer } from '../producer/enqueue.js';
import { JobQueue } from '../queue/job-queue.js';
import { PreviewSigner } from '../signing/public-url.js';
import { AssetStore, createS3Client } from '../storage/s3.js';
import { createApp } from './app.js';

export interface ServerHandle {
  port: number;
  /** The server's side of the queue (tests count its jobs). */
  jobs: JobQueue;
  signer: PreviewSigner;
  close(): Promise<void>;
}

/** The HTTP service: the express app on PORT, and the pool, S3 client and queue its routes use. */
export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<ServerHandle> {
  const logger = options.logger ?? createLogger('server', config.logLevel);
  if (!config.http.apiToken) throw new Error('RASTERIZER_API_TOKEN is required for the server');
  if (config.database.migrateOnStart) await runMigrations(config.database.url, logger);

  const pool = createPool(config.database.url, config.database.poolMax, config.database.queryTimeoutMs, (err) => logger.warn({ err }, 'idle PostgreSQL client error'));
  const s3 = createS3Client(config.s3);
  const assets = new AssetRepository(pool, config.assets.ttlDays);
  const store = new AssetStore(s3, config.s3.bucket, config.s3.prefix);
  const jobs = new JobQueue(config.redis, config.jobs, logger);
  const signer = new PreviewSigner(config.publicUrls.secret, config.publicUrls.baseUrl, config.publicUrls.ttlS);
  const metrics = createMetrics({ collectQueueDepth: () => jobs.counts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed') });
  const app = createApp({
    enqueuer: new PreviewEnqueuer({ assets, queue: jobs, maxDurationS: config.render.maxDurationS, logger }),
    assets,
    progress: jobs,
    signer,
    gifs: store,
    queue: jobs.queue,
    apiToken: config.http.apiToken,
    logger,
    metrics,
    readiness: {
      // A real round trip to the queue's keys, not just a socket that is open.
      redis: async () => {
        await jobs.counts('waiting');
      },
      postgres: async () => {
        await pool.query('SELECT 1');
      },
      s3: (signal) => store.checkReachable(signal),
    },
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.http.port, config.http.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  // Behind a load balancer with keep-alive, idle sockets must outlive the balancer's own timeout.
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, host: config.http.host }, 'server listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      logger.info('server stopping');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await jobs.close();
      await pool.end();
      s3.destroy();
      logger.info('server stopped');
    })();
    return closing;
  };
  return { port, jobs, signer, close };
}
