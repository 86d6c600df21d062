import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.js';
import { runMigrations } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { Producer } from '../producer/producer.js';
import { createS3Client } from '../storage/s3.js';
import { createApp } from './app.js';

export interface ServerHandle {
  port: number;
  producer: Producer;
  close(): Promise<void>;
}

/** The HTTP service: the express app on PORT, with the producer, PostgreSQL pool and S3 client it uses. */
export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<ServerHandle> {
  const logger = options.logger ?? createLogger('server', config.logLevel);
  if (!config.http.apiToken) throw new Error('RASTERIZER_API_TOKEN is required for the server');
  if (config.database.migrateOnStart) await runMigrations(config.database.url, logger);

  const pool = createPool(config.database.url, config.database.poolMax, (err) => logger.warn({ err }, 'idle PostgreSQL client error'), config.database.queryTimeoutMs);
  const s3 = createS3Client(config.s3);
  const producer = new Producer({ config, logger, pool, s3 });
  const metrics = createMetrics({
    collectQueueDepth: async () => {
      return producer.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
    },
  });
  const app = createApp({
    producer,
    apiToken: config.http.apiToken,
    logger,
    metrics,
    readiness: {
      // A real round trip to the queue's keys, not just a socket that is open.
      redis: async () => {
        await producer.queue.getJobCounts('waiting');
      },
      postgres: async () => {
        await pool.query('SELECT 1');
      },
      s3: (signal) => producer.store.checkReachable(signal),
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
      await producer.close();
      await pool.end();
      s3.destroy();
      logger.info('server stopped');
    })();
    return closing;
  };
  return { port, producer, close };
}
