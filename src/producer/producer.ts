import type { S3Client } from '@aws-sdk/client-s3';
import { Job, Queue, QueueEvents } from 'bullmq';
import { z } from 'zod';
import { loadConfig, type Config } from '../config/config.js';
import { AssetRepository, type Asset, type ExportContext } from '../db/assets.js';
import { createPool, type Pool } from '../db/pool.js';
import type { Logger } from '../observability/logger.js';
import { InputError } from '../recording/errors.js';
import { redisConnection } from '../queue/connection.js';
import {
  JOB_NAME,
  QUEUE_NAME,
  assetIdFromJobId,
  describeIssues,
  fpsSchema,
  jobDataSchema,
  jobIdForAsset,
  playbackSpeedSchema,
  sessionIdSchema,
  teamIdSchema,
  widthSchema,
  type JobDataInput,
} from '../queue/job.js';
import { jobOptions } from '../queue/retry.js';
import { deleteAsset, sweepFailedAssets } from '../queue/sweeps.js';
import { DEFAULT_RENDER_OPTIONS } from '../render/types.js';
import { PreviewSigner } from '../signing/public-url.js';
import { AssetStore, createS3Client } from '../storage/s3.js';
import { classifySegment, parseSegmentTime, segmentSchema, type ProblemType, type Segment } from './problems.js';
import { DEFAULT_MIN_DURATION_S, WindowError, widenWindow } from './window.js';

export interface MomentPreviewRequest {
  teamId: number;
  sessionId: string;
  /** Seconds from the recording's start. */
  startS: number;
  endS: number;
  /** The recording's length, when known: the clip is kept inside it. */
  recordingDurationS?: number;
  /** Shortest clip to render (default 30 s); a shorter moment is widened around its midpoint. */
  minDurationS?: number;
  playbackSpeed?: number;
  fps?: number;
  width?: number;
  /** A strip under the frame with the page URL and the time into the session. */
  footer?: boolean;
  /** Extra keys stored in the asset's export_context. */
  context?: Record<string, unknown>;
}

export interface EnqueuedPreview {
  assetId: number;
  jobId: string;
  status: 'queued';
  /** The clip that will be rendered, after widening and clamping. */
  startS: number;
  endS: number;
}

export type SegmentPreview =
  | { index: number; problemType: ProblemType; startS: number; endS: number; assetId: number; jobId: string }
  | { index: number; problemType: ProblemType | null; startS?: number; endS?: number; assetId?: undefined; reason: string };

export interface SessionProblemsRequest {
  teamId: number;
  sessionId: string;
  segments: readonly Segment[];
  recordingDurationS?: number;
  minDurationS?: number;
  playbackSpeed?: number;
  fps?: number;
  width?: number;
  footer?: boolean;
}

export interface FailureCleanup {
  close(): Promise<void>;
}

const momentSchema = z.object({
  teamId: teamIdSchema,
  sessionId: sessionIdSchema,
  startS: z.number({ error: 'startS must be a number of seconds' }),
  endS: z.number({ error: 'endS must be a number of seconds' }),
  recordingDurationS: z.number({ error: 'recordingDurationS must be a number of seconds' }).optional(),
  minDurationS: z.number({ error: 'minDurationS must be a number of seconds' }).optional(),
  playbackSpeed: playbackSpeedSchema.optional(),
  fps: fpsSchema.optional(),
  width: widthSchema.optional(),
  footer: z.boolean().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
});

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
 * What queue producers call: create asset rows and enqueue their renders, resolve signed preview
 * URLs, and clean up after jobs that fail for good.
 */
export class Producer {
  readonly queue: Queue;
  readonly assets: AssetRepository;
  readonly store: AssetStore;
  readonly signer: PreviewSigner;
  private readonly config: Config;
  private readonly pool: Pool;
  private readonly s3: S3Client;
  private readonly owned: { pool: boolean; s3: boolean };
  private readonly logger: Logger | undefined;
  private readonly cleanups = new Set<FailureCleanup>();

  constructor(options: ProducerOptions = {}) {
    this.config = options.config ?? loadConfig('producer');
    this.logger = options.logger;
    this.pool = options.pool ?? createPool(this.config.database.url, this.config.database.poolMax, (err) => this.logger?.warn({ err }, 'idle PostgreSQL client error'), this.config.database.queryTimeoutMs);
    this.s3 = options.s3 ?? createS3Client(this.config.s3);
    this.owned = { pool: !options.pool, s3: !options.s3 };
    this.assets = new AssetRepository(this.pool, this.config.assets.ttlDays);
    this.store = new AssetStore(this.s3, this.config.s3.bucket, this.config.s3.prefix);
    this.signer = new PreviewSigner(this.config.publicUrls.secret, this.config.publicUrls.baseUrl, this.config.publicUrls.ttlS);
    this.queue = new Queue(QUEUE_NAME, { connection: redisConnection(this.config.redis.url, 'producer'), prefix: this.config.redis.prefix });
    this.queue.on('error', (err) => this.logger?.warn({ err }, 'queue connection error'));
  }

  /**
   * Widens the moment to the minimum duration (see widenWindow), creates the asset row and enqueues
   * its render. If enqueueing fails the row is deleted before the error is rethrown, so no row waits
   * for a job that does not exist. Throws InputError (a WindowError naming the field) for bad input.
   */
  async enqueueMomentPreview(request: MomentPreviewRequest): Promise<EnqueuedPreview> {
    const parsed = momentSchema.safeParse(request);
    if (!parsed.success) throw new InputError(describeIssues(parsed.error));
    const req = parsed.data;
    const { startS, endS } = widenWindow({
      startS: req.startS,
      endS: req.endS,
      minDurationS: req.minDurationS ?? DEFAULT_MIN_DURATION_S,
      recordingDurationS: req.recordingDurationS,
    });
    if (endS <= startS) throw new WindowError('end_offset_s', 'the clip is empty: end_offset_s must be after start_offset_s');
    if (endS - startS > this.config.render.maxDurationS) {
      throw new WindowError('end_offset_s', `the clip is ${round(endS - startS)} s long, over the ${this.config.render.maxDurationS} s maximum`);
    }
    const options = {
      fps: req.fps ?? DEFAULT_RENDER_OPTIONS.fps,
      width: req.width ?? DEFAULT_RENDER_OPTIONS.width,
      playback_speed: req.playbackSpeed ?? DEFAULT_RENDER_OPTIONS.speed,
      footer: req.footer ?? false,
    };
    const exportContext: ExportContext = {
      ...req.context,
      session_recording_id: req.sessionId,
      start_offset_s: startS,
      end_offset_s: endS,
      playback_speed: options.playback_speed,
      show_metadata_footer: options.footer,
      fps: options.fps,
      width: options.width,
    };
    const asset = await this.assets.create({ teamId: req.teamId, exportContext });
    let jobId: string;
    try {
      jobId = await this.addJob(asset);
    } catch (err) {
      await this.assets.delete(asset.id).catch((e: unknown) => this.logger?.error({ err: e, asset_id: asset.id }, 'deleting the row of a job that was not enqueued failed'));
      throw err;
    }
    this.logger?.info({ asset_id: asset.id, job_id: jobId, team_id: req.teamId, session_id: req.sessionId, start_offset_s: startS, end_offset_s: endS }, 'preview enqueued');
    return { assetId: asset.id, jobId, status: 'queued', startS, endS };
  }

  /**
   * Enqueues the render of an existing asset again, from its row. The job id is the asset's, so
   * while its job is in the queue (waiting, running, completed or failed) nothing new is added, and
   * a worker given an asset that is already done does not render it again.
   */
  async requeueAsset(assetId: number): Promise<string> {
    const asset = await this.assets.get(assetId);
    if (!asset) throw new InputError(`asset ${assetId} does not exist`);
    return this.addJob(asset);
  }

  private async addJob(asset: Asset): Promise<string> {
    const ctx = asset.exportContext;
    const jobId = jobIdForAsset(asset.id);
    const data: JobDataInput = {
      asset_id: asset.id,
      team_id: asset.teamId,
      session_id: ctx.session_recording_id,
      start_offset_s: ctx.start_offset_s,
      end_offset_s: ctx.end_offset_s,
      options: { fps: ctx.fps, width: ctx.width, playback_speed: ctx.playback_speed, footer: ctx.show_metadata_footer },
    };
    await this.queue.add(JOB_NAME, jobDataSchema.parse(data), jobOptions(this.config.jobs, jobId));
    return jobId;
  }

  /**
   * One preview per segment that shows a problem (see classifySegment for the order of severity).
   * A segment without a problem, with a time that does not parse, or outside the recording gets a
   * reason instead of an asset; the others are enqueued independently.
   */
  async enqueueSessionProblems(request: SessionProblemsRequest): Promise<SegmentPreview[]> {
    const out: SegmentPreview[] = [];
    for (const [index, raw] of request.segments.entries()) {
      const parsed = segmentSchema.safeParse(raw);
      if (!parsed.success) {
        out.push({ index, problemType: null, reason: `segment is malformed: ${describeIssues(parsed.error)}` });
        continue;
      }
      const segment = parsed.data;
      const problemType = classifySegment(segment) ?? null;
      if (!problemType) {
        out.push({ index, problemType, reason: 'no problem in this segment' });
        continue;
      }
      const startS = parseSegmentTime(segment.start_time);
      const endS = parseSegmentTime(segment.end_time);
      if (startS === undefined || endS === undefined) {
        const bad = startS === undefined ? `start_time ${JSON.stringify(segment.start_time)}` : `end_time ${JSON.stringify(segment.end_time)}`;
        out.push({ index, problemType, reason: `${bad} is not MM:SS or HH:MM:SS` });
        continue;
      }
      if (endS < startS) {
        out.push({ index, problemType, reason: `end_time ${segment.end_time} is before start_time ${segment.start_time}` });
        continue;
      }
      try {
        const enqueued = await this.enqueueMomentPreview({
          teamId: request.teamId,
          sessionId: request.sessionId,
          startS,
          endS,
          recordingDurationS: request.recordingDurationS,
          minDurationS: request.minDurationS,
          playbackSpeed: request.playbackSpeed,
          fps: request.fps,
          width: request.width,
          footer: request.footer,
          context: { problem_type: problemType, segment_index: index },
        });
        out.push({ index, problemType, startS: enqueued.startS, endS: enqueued.endS, assetId: enqueued.assetId, jobId: enqueued.jobId });
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        out.push({ index, problemType, reason: err.message });
      }
    }
    return out;
  }

  /**
   * A signed public URL per asset id, or null for an asset that is missing, failed or not done yet.
   * One query whatever the number of ids.
   */
  async resolvePreviewUrls(assetIds: readonly number[]): Promise<Map<number, string | null>> {
    const ids = assetIds.filter((id) => Number.isSafeInteger(id) && id > 0);
    const rows = await this.assets.getMany(ids);
    const out = new Map<number, string | null>();
    await Promise.all(
      assetIds.map(async (id) => {
        const asset = rows.get(id);
        out.set(id, asset && isViewable(asset) ? await this.signer.url({ assetId: asset.id, teamId: asset.teamId }) : null);
      }),
    );
    return out;
  }

  /** Deletes one asset's row and GIF (unless it is done and `evenIfDone` is not set). */
  async deleteAsset(assetId: number, options: { evenIfDone?: boolean } = {}): Promise<'deleted' | 'missing' | 'kept'> {
    const result = await deleteAsset(this, assetId, options);
    if (result === 'deleted') await this.queue.remove(jobIdForAsset(assetId)).catch(() => 0);
    return result;
  }

  /** Deletes the assets of jobs that failed for good at least `graceMs` ago (default: all of them). */
  sweepFailedAssets(options: { graceMs?: number } = {}): Promise<number> {
    return sweepFailedAssets({ assets: this.assets, store: this.store, queue: this.queue, logger: this.logger }, options);
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
    const job = await Job.fromId(this.queue, jobId);
    // 'failed' is only published when a job is done retrying; the state check guards against a
    // job that was retried by hand since.
    if (job && (await job.getState()) !== 'failed') return 'not failed';
    const data = (job?.data ?? {}) as { asset_id?: unknown; team_id?: unknown };
    const assetId = typeof data.asset_id === 'number' ? data.asset_id : assetIdFromJobId(jobId);
    if (assetId === undefined) return 'missing';
    const result = await deleteAsset(this, assetId, { teamId: typeof data.team_id === 'number' ? data.team_id : undefined });
    await job?.remove().catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all([...this.cleanups].map((c) => c.close()));
    await this.queue.close();
    if (this.owned.pool) await this.pool.end();
    if (this.owned.s3) this.s3.destroy();
  }
}

function isViewable(asset: Asset): boolean {
  return asset.status === 'done' && asset.contentLocation !== null && asset.expiresAfter.getTime() > Date.now();
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export function createProducer(options: ProducerOptions = {}): Producer {
  return new Producer(options);
}
