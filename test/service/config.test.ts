import { describe, expect, it } from 'vitest';
import { isConfigError, loadConfig } from '../../src/config/config.js';

const BASE = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  S3_BUCKET: 'previews',
  RASTERIZER_API_TOKEN: 'a-token-of-sixteen-chars',
  PUBLIC_URL_SECRET: 'x'.repeat(32),
  RECORDINGS_DIR: '/recordings',
};

function problems(role: Parameters<typeof loadConfig>[0], env: Record<string, string>): string[] {
  try {
    loadConfig(role, env);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    return Object.entries(err.fields ?? {}).map(([name, what]) => `${name}: ${what}`);
  }
  return [];
}

describe('loadConfig', () => {
  it('fills in documented defaults', () => {
    const c = loadConfig('worker', BASE);
    expect(c.redis.prefix).toBe('bull');
    expect(c.http).toMatchObject({ port: 8080, host: '0.0.0.0' });
    expect(c.s3).toEqual({ endpoint: undefined, region: 'us-east-1', bucket: 'previews', prefix: 'replay-previews', forcePathStyle: false, timeoutMs: 30_000 });
    expect(c.publicUrls).toMatchObject({ baseUrl: 'http://localhost:8080', ttlS: 7 * 86400 });
    expect(c.worker).toMatchObject({ concurrency: 2, browserRecycleAfter: 50, lockDurationMs: 300_000, stalledIntervalMs: 30_000, maxStalledCount: 1 });
    expect(c.worker.assetCache).toEqual({ maxBytes: 64 * 1024 * 1024, maxAgeMs: 600_000 });
    expect(loadConfig('worker', { ...BASE, ASSET_CACHE_MB: '0' }).worker.assetCache).toBeUndefined();
    expect(loadConfig('worker', { ...BASE, ASSET_CACHE_MB: '256', ASSET_CACHE_MAX_AGE_S: '3600' }).worker.assetCache).toEqual({ maxBytes: 256 * 1024 * 1024, maxAgeMs: 3_600_000 });
    expect(c.jobs).toEqual({ attempts: 3, backoffMs: 15_000 });
    expect(c.render).toEqual({ allowOrigins: [], maxDurationS: 600, stallTimeoutMs: 120_000 });
    expect(c.assets).toEqual({ ttlDays: 90, sweepIntervalS: 300, failedRetentionS: 3600 });
    expect(c.recordings).toEqual({ kind: 'directory', dir: '/recordings' });
  });

  it('names every missing variable the role needs', () => {
    expect(problems('server', {})).toEqual([
      'REDIS_URL: required for `server`',
      'DATABASE_URL: required for `server`',
      'S3_BUCKET: required for `server`',
      'RASTERIZER_API_TOKEN: required for `server`',
      'PUBLIC_URL_SECRET: required for `server`',
    ]);
    expect(problems('migrate', {})).toEqual(['DATABASE_URL: required for `migrate`']);
    expect(problems('migrate', { DATABASE_URL: BASE.DATABASE_URL })).toEqual([]);
    const { RECORDINGS_DIR: _, ...noSource } = BASE;
    expect(problems('worker', noSource)).toEqual([expect.stringMatching(/^RECORDINGS_DIR, RECORDINGS_S3_BUCKET or RECORDINGS_URL_TEMPLATE: one is required/)]);
    expect(problems('server', noSource)).toEqual([]);
  });

  it('names every malformed variable', () => {
    const found = problems('server', {
      ...BASE,
      REDIS_URL: 'localhost:6379',
      DATABASE_URL: 'mysql://x/y',
      PORT: '80a',
      WORKER_CONCURRENCY: '0',
      S3_FORCE_PATH_STYLE: 'sure',
      S3_ENDPOINT: 'minio:9000',
      PUBLIC_URL_SECRET: 'short',
      ALLOWED_ORIGINS: 'https://cdn.example.com,not an origin',
      RECORDINGS_URL_TEMPLATE: 'https://store.example/{team_id}',
      ASSET_CACHE_MB: '-1',
    });
    const names = found.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining(['REDIS_URL', 'DATABASE_URL', 'PORT', 'WORKER_CONCURRENCY', 'S3_FORCE_PATH_STYLE', 'S3_ENDPOINT', 'PUBLIC_URL_SECRET', 'ALLOWED_ORIGINS', 'RECORDINGS_URL_TEMPLATE']),
    );
    expect(found.find((p) => p.startsWith('WORKER_CONCURRENCY'))).toBe('WORKER_CONCURRENCY: must be at least 1');
    expect(found.find((p) => p.startsWith('ASSET_CACHE_MB'))).toBe('ASSET_CACHE_MB: must be at least 0');
    expect(found.find((p) => p.startsWith('ALLOWED_ORIGINS'))).toMatch(/not an origin is not an http\(s\) origin/);
    expect(found.find((p) => p.startsWith('RECORDINGS_URL_TEMPLATE'))).toMatch(/must contain \{session_id\}/);
    // Two sources at once is ambiguous.
    expect(found.find((p) => p.includes('set only one recording source'))).toBeDefined();
  });

  it('parses lists, booleans and the recording sources', () => {
    const c = loadConfig('worker', {
      ...BASE,
      RECORDINGS_DIR: '',
      RECORDINGS_URL_TEMPLATE: 'https://store.example/{team_id}/{session_id}.json',
      RECORDINGS_URL_TOKEN: 'tok',
      ALLOWED_ORIGINS: ' http://127.0.0.1:8765/ , https://cdn.example.com:443 ',
      S3_FORCE_PATH_STYLE: 'TRUE',
      S3_PREFIX: '/exports/gifs/',
      PUBLIC_BASE_URL: 'https://previews.example.com/',
    });
    expect(c.recordings).toEqual({ kind: 'url', template: 'https://store.example/{team_id}/{session_id}.json', token: 'tok', timeoutMs: 60_000 });
    expect(c.render.allowOrigins).toEqual(['http://127.0.0.1:8765', 'https://cdn.example.com']);
    expect(c.s3.forcePathStyle).toBe(true);
    expect(c.s3.prefix).toBe('exports/gifs');
    expect(c.publicUrls.baseUrl).toBe('https://previews.example.com');
    expect(loadConfig('worker', { ...BASE, RECORDINGS_DIR: '', RECORDINGS_S3_BUCKET: 'rec', RECORDINGS_S3_PREFIX: 'a/b/' }).recordings).toEqual({ kind: 's3', bucket: 'rec', prefix: 'a/b' });
  });
});
