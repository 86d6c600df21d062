import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import S3rver from 's3rver';

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
