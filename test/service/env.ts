import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import S3rver from 's3rver';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startServer, type ServerHandle } from '../../src/http/server.js';
import { createLogger } from '../../src/observability/logger.js';

/**
 * Test isolation on shared services: each test file gets its own PostgreSQL database, its own BullMQ
 * key prefix in the shared Redis, and its own in-process S3 server on a free port. Nothing here
 * flushes or stops the shared Redis/PostgreSQL.
 */

export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** s3rver checks signatures against these. */
export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

export function uniqueName(kind: string): string {
  return `rr_${kind}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName('test');
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface TestS3 {
  endpoint: string;
  bucket: string;
  recordingsBucket: string;
  close(): Promise<void>;
}

export async function startS3(): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'rr-s3-'));
  const bucket = 'previews';
  const recordingsBucket = 'recordings';
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }, { name: recordingsBucket }],
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    recordingsBucket,
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export const API_TOKEN = 'test-api-token-0123456789abcdef';
export const PUBLIC_SECRET = 'test-public-url-secret-0123456789abcdef-0123';

/** The service's environment for a test: shared Redis under a fresh prefix, the file's database and S3. */
export function serviceEnv(parts: { db: TestDatabase; s3: TestS3; queuePrefix: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    ...S3_CREDENTIALS,
    REDIS_URL,
    QUEUE_PREFIX: parts.queuePrefix,
    DATABASE_URL: parts.db.url,
    S3_ENDPOINT: parts.s3.endpoint,
    S3_REGION: 'us-east-1',
    S3_BUCKET: parts.s3.bucket,
    S3_PREFIX: 'previews/test',
    S3_FORCE_PATH_STYLE: 'true',
    RASTERIZER_API_TOKEN: API_TOKEN,
    PUBLIC_URL_SECRET: PUBLIC_SECRET,
    LOG_LEVEL: 'warn',
    ...parts.extra,
  };
}

/** Deletes every Redis key under a test's own prefix (never anything else). */
export async function dropQueuePrefix(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Polls `probe` until it returns a value (one helper for the whole suite, in test/support). */
export { waitUntil as waitFor } from '../support/service-procs.js';

/**
 * The one fixture for a service test file: its own database, S3 server and queue prefix, the
 * service's environment for them (plus `extra`), AWS credentials for the SDK in this process, and
 * one close() that removes it all.
 */
export interface ServiceFixture {
  db: TestDatabase;
  s3: TestS3;
  prefix: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function serviceFixture(extra: Record<string, string> = {}): Promise<ServiceFixture> {
  const [db, s3] = await Promise.all([createTestDatabase(), startS3()]);
  const prefix = uniqueName('bull');
  const env = serviceEnv({ db, s3, queuePrefix: prefix, extra });
  // The SDK in this process (the tests' own S3 checks, in-process servers) reads the same credentials.
  Object.assign(process.env, S3_CREDENTIALS);
  return {
    db,
    s3,
    prefix,
    env,
    close: async () => {
      await Promise.allSettled([db.drop(), s3.close(), dropQueuePrefix(prefix)]);
    },
  };
}

/**
 * The HTTP server (in this process) on a fixture of its own, with its log lines kept and a pool on
 * its database for the checks: what the HTTP test files share.
 */
export interface ServerFixture {
  fixture: ServiceFixture;
  config: Config;
  server: ServerHandle;
  base: string;
  pool: pg.Pool;
  logLines: string[];
  close(): Promise<void>;
}

export async function serverFixture(extra: Record<string, string> = {}): Promise<ServerFixture> {
  const fixture = await serviceFixture({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extra });
  const config = loadConfig('server', fixture.env);
  const logLines: string[] = [];
  const server = await startServer(config, { logger: createLogger('server', 'info', { write: (line: string) => void logLines.push(line) }) });
  const pool = new pg.Pool({ connectionString: fixture.db.url, max: 2 });
  return {
    fixture,
    config,
    server,
    base: `http://127.0.0.1:${server.port}`,
    pool,
    logLines,
    close: async () => {
      await server.close();
      await pool.end();
      await fixture.close();
    },
  };
}
