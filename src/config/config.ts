import { z } from 'zod';
import { RasterizerError, isRasterizerError } from '../errors.js';
import { DEFAULTS, LIMITS } from '../request/fields.js';
import type { AssetCacheOptions } from '../render/asset-cache.js';
import { normaliseOrigin } from '../util/origin.js';

/**
 * Which process reads the configuration. Each needs a different part of it; a value one role needs
 * and another ignores is only required for the first, so `migrate` runs without an API token.
 */
export type Role = 'server' | 'worker' | 'migrate' | 'producer';

/** The environment cannot run the service (`invalid_config`); the message names every bad variable. */
function configError(problems: string[]): RasterizerError {
  const fields = Object.fromEntries(problems.map((p) => [p.slice(0, p.indexOf(': ')), p.slice(p.indexOf(': ') + 2)]));
  return new RasterizerError('invalid_config', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { fields });
}

export const isConfigError = (err: unknown): err is RasterizerError => isRasterizerError(err, 'invalid_config');

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const text = () => z.preprocess(emptyToUndefined, z.string().trim().optional());

const url = (schemes: string[], what: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .refine((v) => URL.canParse(v), `must be a URL (${what})`)
      .refine((v) => schemes.includes(new URL(v).protocol), `must start with ${schemes.map((s) => `${s}//`).join(' or ')}`)
      .optional(),
  );

const int = (min: number, max: number, fallback: number) =>
  z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(fallback),
  );

const bool = (fallback: boolean) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? emptyToUndefined(v.trim().toLowerCase()) : v),
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .default(fallback),
  );

const origins = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const out: string[] = [];
      for (const item of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
        try {
          out.push(normaliseOrigin(item));
        } catch {
          ctx.addIssue({ code: 'custom', message: `${item} is not an http(s) origin such as https://cdn.example.com` });
        }
      }
      return out;
    }),
);

const envSchema = z.object({
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://host:6379'),
  QUEUE_PREFIX: z.preprocess(emptyToUndefined, z.string().regex(/^[A-Za-z0-9_.-]+$/, 'may hold letters, digits, _ . - only').default('bull')),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://user@host:5432/db'),
  DATABASE_POOL_MAX: int(1, 200, 10),
  DATABASE_QUERY_TIMEOUT_MS: int(100, 3_600_000, 30_000),
  MIGRATE_ON_START: bool(true),

  S3_ENDPOINT: url(['http:', 'https:'], 'http://minio:9000'),
  S3_REGION: z.preprocess(emptyToUndefined, z.string().default('us-east-1')),
  S3_BUCKET: text(),
  S3_PREFIX: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().replace(/^\/+|\/+$/g, '') : v),
    z.string().regex(/^[A-Za-z0-9!_.*'()/-]*$/, 'may hold letters, digits and !_.*\'()/- only').default('replay-previews'),
  ),
  S3_FORCE_PATH_STYLE: bool(false),
  S3_TIMEOUT_MS: int(100, 600_000, 30_000),

  PORT: int(0, 65535, 8080),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  RASTERIZER_API_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  PUBLIC_URL_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'must be at least 32 characters (it signs HS256 tokens)').optional()),
  PUBLIC_BASE_URL: url(['http:', 'https:'], 'https://previews.example.com'),
  PUBLIC_URL_TTL_S: int(60, 366 * 86400, 7 * 86400),

  WORKER_CONCURRENCY: int(1, 64, 2),
  WORKER_METRICS_PORT: int(0, 65535, 9464),
  BROWSER_RECYCLE_AFTER: int(1, 100_000, 50),
  JOB_ATTEMPTS: int(1, 100, 3),
  JOB_BACKOFF_MS: int(0, 3_600_000, 15_000),
  JOB_LOCK_DURATION_MS: int(1000, 3_600_000, 300_000),
  JOB_STALLED_INTERVAL_MS: int(500, 3_600_000, 30_000),
  JOB_MAX_STALLED_COUNT: int(0, 100, 1),
  SHUTDOWN_TIMEOUT_MS: int(0, 3_600_000, 600_000),
  ASSET_CACHE_MB: int(0, 16_384, 64),
  ASSET_CACHE_MAX_AGE_S: int(1, 7 * 86_400, 600),

  ALLOWED_ORIGINS: origins,
  RENDER_MAX_DURATION_S: int(1, LIMITS.maxDurationS.max, DEFAULTS.maxDurationS),
  RENDER_STALL_TIMEOUT_MS: int(1000, 3_600_000, 120_000),

  RECORDINGS_DIR: text(),
  RECORDINGS_S3_BUCKET: text(),
  RECORDINGS_S3_PREFIX: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().replace(/^\/+|\/+$/g, '') : v),
    z.string().default(''),
  ),
  RECORDINGS_URL_TEMPLATE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => v.includes('{session_id}'), 'must contain {session_id} (and usually {team_id})')
      .refine((v) => URL.canParse(v.replaceAll('{team_id}', '1').replaceAll('{session_id}', 's')), 'must be an http(s) URL once {team_id} and {session_id} are filled in')
      .refine((v) => /^https?:\/\//i.test(v), 'must start with http:// or https://')
      .optional(),
  ),
  RECORDINGS_URL_TOKEN: text(),
  RECORDINGS_FETCH_TIMEOUT_MS: int(100, 600_000, 60_000),

  ASSET_TTL_DAYS: int(1, 3650, 90),
  SWEEP_INTERVAL_S: int(0, 86_400 * 7, 300),
  FAILED_ASSET_RETENTION_S: int(0, 86_400 * 90, 3600),

  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
});

type Env = z.infer<typeof envSchema>;

export type RecordingSourceConfig =
  | { kind: 'directory'; dir: string }
  | { kind: 's3'; bucket: string; prefix: string }
  | { kind: 'url'; template: string; token?: string; timeoutMs: number };

export interface S3Config {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
  /** A request whose connection stays silent (nothing sent or received) this long fails and is retried. */
  timeoutMs: number;
}

export interface Config {
  redis: { url: string; prefix: string };
  /** queryTimeoutMs: a statement with no answer for this long fails (a partitioned server must not hold a job forever). */
  database: { url: string; poolMax: number; migrateOnStart: boolean; queryTimeoutMs: number };
  s3: S3Config;
  http: { port: number; host: string; apiToken: string | undefined };
  publicUrls: { secret: string; baseUrl: string; ttlS: number };
  worker: {
    concurrency: number;
    metricsPort: number;
    browserRecycleAfter: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
    shutdownTimeoutMs: number;
    /** The recorded sites' assets kept across this worker's renders (asset-cache.ts); undefined when ASSET_CACHE_MB is 0. */
    assetCache: AssetCacheOptions | undefined;
  };
  jobs: { attempts: number; backoffMs: number };
  /** stallTimeoutMs: a call to the replay page unanswered this long gives its browser up; the render starts again in a fresh one (render.ts). */
  render: { allowOrigins: string[]; maxDurationS: number; stallTimeoutMs: number };
  recordings: RecordingSourceConfig | undefined;
  assets: { ttlDays: number; sweepIntervalS: number; failedRetentionS: number };
  logLevel: Env['LOG_LEVEL'];
}

/** What each role cannot start without (the rest has defaults or is optional). */
const REQUIRED: Record<Role, (keyof Env)[]> = {
  migrate: ['DATABASE_URL'],
  worker: ['REDIS_URL', 'DATABASE_URL', 'S3_BUCKET'],
  server: ['REDIS_URL', 'DATABASE_URL', 'S3_BUCKET', 'RASTERIZER_API_TOKEN', 'PUBLIC_URL_SECRET'],
  producer: ['REDIS_URL', 'DATABASE_URL', 'S3_BUCKET', 'PUBLIC_URL_SECRET'],
};

/**
 * Reads and checks the environment for one role. Throws ConfigError naming every missing or
 * malformed variable at once, so a deploy is fixed in one round.
 */
export function loadConfig(role: Role, env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const present = (name: keyof Env) => typeof env[name] === 'string' && env[name]!.trim() !== '';
  for (const name of REQUIRED[role]) {
    if (!present(name) && !problems.some((p) => p.startsWith(`${name}:`))) problems.push(`${name}: required for \`${role}\``);
  }
  const sources = (['RECORDINGS_DIR', 'RECORDINGS_S3_BUCKET', 'RECORDINGS_URL_TEMPLATE'] as const).filter(present);
  if (role === 'worker' && sources.length === 0) {
    problems.push('RECORDINGS_DIR, RECORDINGS_S3_BUCKET or RECORDINGS_URL_TEMPLATE: one is required for `worker` (where sessions are read from)');
  }
  if (sources.length > 1) problems.push(`${sources.join(', ')}: set only one recording source`);
  if (problems.length > 0 || !parsed.success) throw configError(problems);

  const e = parsed.data;
  const recordings: RecordingSourceConfig | undefined = e.RECORDINGS_DIR
    ? { kind: 'directory', dir: e.RECORDINGS_DIR }
    : e.RECORDINGS_S3_BUCKET
      ? { kind: 's3', bucket: e.RECORDINGS_S3_BUCKET, prefix: e.RECORDINGS_S3_PREFIX }
      : e.RECORDINGS_URL_TEMPLATE
        ? { kind: 'url', template: e.RECORDINGS_URL_TEMPLATE, token: e.RECORDINGS_URL_TOKEN, timeoutMs: e.RECORDINGS_FETCH_TIMEOUT_MS }
        : undefined;

  return {
    redis: { url: e.REDIS_URL ?? '', prefix: e.QUEUE_PREFIX },
    database: { url: e.DATABASE_URL ?? '', poolMax: e.DATABASE_POOL_MAX, migrateOnStart: e.MIGRATE_ON_START, queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS },
    s3: {
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      bucket: e.S3_BUCKET ?? '',
      prefix: e.S3_PREFIX,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
      timeoutMs: e.S3_TIMEOUT_MS,
    },
    http: { port: e.PORT, host: e.HOST, apiToken: e.RASTERIZER_API_TOKEN },
    publicUrls: {
      secret: e.PUBLIC_URL_SECRET ?? '',
      baseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
      ttlS: e.PUBLIC_URL_TTL_S,
    },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      metricsPort: e.WORKER_METRICS_PORT,
      browserRecycleAfter: e.BROWSER_RECYCLE_AFTER,
      lockDurationMs: e.JOB_LOCK_DURATION_MS,
      stalledIntervalMs: e.JOB_STALLED_INTERVAL_MS,
      maxStalledCount: e.JOB_MAX_STALLED_COUNT,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      assetCache: e.ASSET_CACHE_MB > 0 ? { maxBytes: e.ASSET_CACHE_MB * 1024 * 1024, maxAgeMs: e.ASSET_CACHE_MAX_AGE_S * 1000 } : undefined,
    },
    jobs: { attempts: e.JOB_ATTEMPTS, backoffMs: e.JOB_BACKOFF_MS },
    render: { allowOrigins: e.ALLOWED_ORIGINS, maxDurationS: e.RENDER_MAX_DURATION_S, stallTimeoutMs: e.RENDER_STALL_TIMEOUT_MS },
    recordings,
    assets: { ttlDays: e.ASSET_TTL_DAYS, sweepIntervalS: e.SWEEP_INTERVAL_S, failedRetentionS: e.FAILED_ASSET_RETENTION_S },
    logLevel: e.LOG_LEVEL,
  };
}
