import type { S3Client } from '@aws-sdk/client-s3';
import { Job, QueueEvents } from 'bullmq';
import type { z } from 'zod';
import { loadConfig, type Config } from '../config/config.js';
import { AssetRepository } from '../db/assets.js';
import { createPool, type Pool } from '../db/pool.js';
import { RasterizerError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { redisConnection } from '../queue/connection.js';
import { QUEUE_NAME, assetIdFromJobId, jobIdForAsset } from '../queue/job.js';
import { JobQueue } from '../queue/job-queue.js';
import { deleteAsset, jobAssetRef, sweepFailedAssets } from '../queue/sweeps.js';
import { momentRequest, problemsRequest } from '../request/moment.js';
import { parseRequest } from '../request/parse.js';
import { resolvePreviewUrls } from '../signing/preview-urls.js';
import { PreviewSigner } from '../signing/public-url.js';
import { AssetStore, createS3Client } from '../storage/s3.js';
import { PreviewEnqueuer, type EnqueuedPreview, type SegmentPreview } from './enqueue.js';

export type { EnqueuedPreview, SegmentPreview };

/** A moment to preview (see request/moment.ts for every field and its limits). */
export type MomentPreviewRequest = z.input<typeof momentRequest> & {
  /** Extra keys stored in the asset's export_context. */
  context?: Record<string, unknown>;
};

/** One session's problem segments (at most LIMITS.segmentsPerCall). */
export type SessionProblemsRequest = z.input<typeof problemsRequest>;

export interface FailureCleanup {
  close(): Promise<void>;
}

export interface ProducerOptions {
  /** Defaults to the environment read for the `producer` role (REDIS_URL, DATABASE_URL, S3_*, PUBLIC_*). */
  config?: Config;
  logger?: Logger;
  /** Share a pool with the caller (it stays open on close()). */
  pool?: Pool;
  /** Share an S3 client with the caller (it stays open on close()). */
  s3?: S3Client;
}

/**
 * What a Node service imports to ask for previews (`replay-rasterizer/producer`): enqueue moments
 * and session problems, resolve signed preview URLs, and clean up after jobs that fail for good.
 * Requests are checked by the request module; bad input throws RasterizerError `invalid_request`
 * naming each field, a Redis that does not answer `queue_unavailable` (within about 2 s).
 */
export class Producer {
  private readonly config: Config;
  private readonly pool: Pool;
  private readonly s3: S3Client;
  private readonly owned: { pool: boolean; s3: boolean };
  private readonly logger: Logger | undefined;
  private readonly assets: AssetRepository;
  private readonly store: AssetStore;
  private readonly signer: PreviewSigner;
  private readonly jobs: JobQueue;
  private readonly enqueuer: PreviewEnqueuer;
  private readonly cleanups = new Set<FailureCleanup>();

  constructor(options: ProducerOptions = {}) {
    this.config = options.config ?? loadConfig('producer');
    this.logger = options.logger;
    const { database, s3, publicUrls, redis, jobs, assets, render } = this.config;
    this.pool = options.pool ?? createPool(database.url, database.poolMax, database.queryTimeoutMs, (err) => this.logger?.warn({ err }, 'idle PostgreSQL client error'));
    this.s3 = options.s3 ?? createS3Client(s3);
    this.owned = { pool: !options.pool, s3: !options.s3 };
    this.assets = new AssetRepository(this.pool, assets.ttlDays);
    this.store = new AssetStore(this.s3, s3.bucket, s3.prefix);
    this.signer = new PreviewSigner(publicUrls.secret, publicUrls.baseUrl, publicUrls.ttlS);
    this.jobs = new JobQueue(redis, jobs, this.logger);
    this.enqueuer = new PreviewEnqueuer({ assets: this.assets, queue: this.jobs, maxDurationS: render.maxDurationS, logger: this.logger });
  }

  /**
   * Widens the moment to the minimum duration (see widenWindow), creates the asset row and enqueues
   * its render; every call is its own asset.
   */
  async enqueueMomentPreview(request: MomentPreviewRequest): Promise<EnqueuedPreview> {
    const { context, ...moment } = request;
    return this.enqueuer.enqueueMoment(parseRequest(momentRequest, moment), { context });
  }

  /**
   * One preview per segment that shows a problem, footer on by default; the same team, session, clip
   * and options share one asset unless it failed (see PreviewEnqueuer.enqueueProblems).
   */
  async enqueueSessionProblems(request: SessionProblemsRequest): Promise<SegmentPreview[]> {
    return this.enqueuer.enqueueProblems(parseRequest(problemsRequest, request));
  }

  /** Enqueues the render of an existing asset again, from its row (its job id is the row's). */
  async requeueAsset(assetId: number): Promise<string> {
    const asset = await this.assets.get(assetId);
    if (!asset) throw new RasterizerError('not_found', `asset ${assetId} does not exist`);
    return this.enqueuer.requeue(asset);
  }

  /** A signed public URL per asset id of the team, or null (missing, another team's, failed, not done, expired). */
  async resolvePreviewUrls(assetIds: readonly number[], scope: { teamId: number }): Promise<Map<number, string | null>> {
    return resolvePreviewUrls({ assets: this.assets, signer: this.signer }, scope.teamId, assetIds);
  }

  /** Deletes one asset's row and GIF (unless it is done and `evenIfDone` is not set). */
  async deleteAsset(assetId: number, options: { evenIfDone?: boolean } = {}): Promise<'deleted' | 'missing' | 'kept'> {
    const asset = await this.assets.get(assetId);
    const result = await deleteAsset({ assets: this.assets, store: this.store }, assetId, options);
    if (result === 'deleted' && asset) await this.jobs.remove(jobIdForAsset(assetId, asset.jobKey)).catch(() => undefined);
    return result;
  }

  /** Deletes the assets of jobs that failed for good at least `graceMs` ago (default: all of them). */
  sweepFailedAssets(options: { graceMs?: number } = {}): Promise<number> {
    return sweepFailedAssets({ assets: this.assets, store: this.store, queue: this.jobs.queue, logger: this.logger }, options);
  }

  /**
   * Deletes the asset (row and any S3 object) of every job that fails for good, as it happens (a
   * QueueEvents listener), plus a sweep every `sweepIntervalMs` (and once at start) for failures
   * that happened while nobody listened.
   */
  async startFailureCleanup(options: { sweepIntervalMs?: number; graceMs?: number } = {}): Promise<FailureCleanup> {
    const events = new QueueEvents(QUEUE_NAME, { connection: redisConnection(this.config.redis.url, 'worker'), prefix: this.config.redis.prefix });
    events.on('error', (err) => this.logger?.warn({ err }, 'queue events connection error'));
    const inFlight = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    events.on('failed', ({ jobId, failedReason }) => {
      track(
        this.cleanUpFailedJob(jobId).then(
          (result) => this.logger?.info({ job_id: jobId, asset_id: assetIdFromJobId(jobId), failed_reason: failedReason, result }, 'failed job cleaned up'),
          (err: unknown) => this.logger?.warn({ err, job_id: jobId }, 'cleaning up a failed job did not work; the sweep retries'),
        ),
      );
    });
    await events.waitUntilReady();

    const sweep = () =>
      track(
        this.sweepFailedAssets({ graceMs: options.graceMs ?? 0 }).then(
          () => undefined,
          (err: unknown) => this.logger?.warn({ err }, 'failed-asset sweep did not work'),
        ),
      );
    sweep();
    const timer = setInterval(sweep, options.sweepIntervalMs ?? 60_000);
    timer.unref();

    const handle: FailureCleanup = {
      close: async () => {
        clearInterval(timer);
        await events.close();
        await Promise.allSettled([...inFlight]);
        this.cleanups.delete(handle);
      },
    };
    this.cleanups.add(handle);
    return handle;
  }

  private async cleanUpFailedJob(jobId: string): Promise<'deleted' | 'missing' | 'kept' | 'not failed'> {
    const job = await Job.fromId(this.jobs.queue, jobId);
    // 'failed' is only published when a job is done retrying; the state check guards against a
    // job that was retried by hand since.
    if (job && (await job.getState()) !== 'failed') return 'not failed';
    const ref = jobAssetRef(job?.data, jobId);
    if (!ref) return 'missing';
    const result = await deleteAsset({ assets: this.assets, store: this.store }, ref.assetId, ref);
    await job?.remove().catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all([...this.cleanups].map((c) => c.close()));
    await this.jobs.close();
    if (this.owned.pool) await this.pool.end();
    if (this.owned.s3) this.s3.destroy();
  }
}

export function createProducer(options: ProducerOptions = {}): Producer {
  return new Producer(options);
}
