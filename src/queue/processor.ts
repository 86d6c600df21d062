import { WaitingError, type Job } from 'bullmq';
import type { AssetRepository } from '../db/assets.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { InputError } from '../recording/errors.js';
import { parseRecording } from '../recording/parse.js';
import type { RecordingSource } from '../recording/sources/source.js';
import { PageUnresponsive, renderRecording } from '../render/index.js';
import type { RenderProgress } from '../render/index.js';
import type { AssetStore } from '../storage/s3.js';
import { BrowserCrashed, type BrowserPool } from './browser-pool.js';
import { parseJobData, type JobProgress, type JobResult } from './job.js';
import { isPermanent, toJobError } from './retry.js';

export interface ProcessorDeps {
  assets: AssetRepository;
  store: AssetStore;
  recordings: RecordingSource;
  browsers: BrowserPool;
  /** stallTimeoutMs: how long one call to the replay page may go unanswered (RENDER_STALL_TIMEOUT_MS). */
  render: { allowOrigins: string[]; maxDurationS: number; stallTimeoutMs?: number };
  logger: Logger;
  metrics?: Metrics;
}

/** Progress goes to Redis at most this often: a render has hundreds of frame slots. */
const PROGRESS_EVERY_MS = 500;

/**
 * The abort reasons the worker gives BullMQ's cancelJob. A render cancelled for shutdown is handed
 * back to the queue without using an attempt; one cancelled because the lock was lost is left alone
 * (the job is someone else's now).
 */
export const SHUTDOWN_REASON = 'worker shutting down';
export const LOST_LOCK_REASON = 'lost the job lock';

/** Whether BullMQ will give up on this job after this failure (same rule as Job.shouldRetryJob). */
function isFinalAttempt(job: Job, err: unknown): boolean {
  return isPermanent(err) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** Waits between tries of the statement that links a finished GIF to its row (about 15 s in all). */
const MARK_DONE_RETRY_MS = [500, 1000, 2000, 4000, 8000];

/**
 * Marks the row done with its GIF's location, retrying for a while: the GIF is already in S3, and a
 * PostgreSQL that blinks at this moment (a restart, a failover, a dropped connection) should cost a
 * few seconds, not a second render after the job's backoff. The statement is idempotent. Past the
 * retries the error goes to BullMQ like any other transient failure.
 */
async function markDoneRetrying(deps: ProcessorDeps, assetId: number, location: string, log: ProcessorDeps['logger'], signal?: AbortSignal): Promise<boolean> {
  for (let i = 0; ; i++) {
    try {
      return await deps.assets.markDone(assetId, location);
    } catch (err) {
      const wait = MARK_DONE_RETRY_MS[i];
      if (wait === undefined || signal?.aborted) throw err;
      log.warn({ err: { name: (err as Error)?.name, message: (err as Error)?.message }, retry_in_ms: wait }, 'marking the asset done failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * Renders one asset: checks the job, loads the session, renders in a pooled browser, uploads the GIF
 * to the asset's key and marks the row done with its location in one statement. Bad input becomes
 * UnrecoverableError (no retry); anything else is rethrown for BullMQ to retry with backoff.
 */
export function createProcessor(deps: ProcessorDeps) {
  return async (job: Job, token?: string, signal?: AbortSignal): Promise<JobResult> => {
    const log = deps.logger.child({ job_id: job.id, attempt: job.attemptsMade + 1 });
    const started = performance.now();
    let assetId: number | undefined;
    try {
      const data = parseJobData(job.data);
      assetId = data.asset_id;
      const jobLog = log.child({ asset_id: data.asset_id, team_id: data.team_id, session_id: data.session_id });

      const asset = await deps.assets.get(data.asset_id);
      if (!asset) throw new InputError(`asset ${data.asset_id} does not exist (deleted or expired)`);
      if (asset.teamId !== data.team_id) throw new InputError(`asset ${data.asset_id} belongs to team ${asset.teamId}, not ${data.team_id}`);
      if (asset.status === 'done' && asset.contentLocation) {
        // The same asset enqueued again after its first job was removed from Redis: render once.
        deps.metrics?.jobs.inc({ outcome: 'skipped' });
        jobLog.info({ content_location: asset.contentLocation }, 'asset already rendered');
        return { content_location: asset.contentLocation, skipped: true };
      }
      await deps.assets.markRendering(data.asset_id);
      jobLog.info({ start_offset_s: data.start_offset_s, end_offset_s: data.end_offset_s }, 'rendering');

      const raw = await deps.recordings.load(data.team_id, data.session_id, signal);
      const { events } = parseRecording(raw);

      let lastProgressAt = 0;
      let progressChain: Promise<unknown> = Promise.resolve();
      const report = (p: RenderProgress) => {
        const now = performance.now();
        if (p.done < p.total && now - lastProgressAt < PROGRESS_EVERY_MS) return;
        lastProgressAt = now;
        const progress: JobProgress = { done: p.done, total: p.total, captured: p.captured };
        // Chained so updates reach Redis in order; a failed update is not worth failing the render.
        progressChain = progressChain.then(() => job.updateProgress({ ...progress })).catch((err: unknown) => jobLog.warn({ err }, 'progress update failed'));
      };

      const lease = await deps.browsers.acquire();
      let result;
      try {
        result = await renderRecording(
          events,
          {
            startS: data.start_offset_s,
            endS: data.end_offset_s,
            fps: data.options.fps,
            width: data.options.width,
            speed: data.options.playback_speed,
            footer: data.options.footer,
            allowOrigins: deps.render.allowOrigins,
            maxDurationS: deps.render.maxDurationS,
          },
          // The engine bounds every call to the page (a renderer that dies fails the render at once,
          // one that hangs at this deadline), so a render always settles.
          { browser: lease.browser, onProgress: report, signal, pageCallTimeoutMs: deps.render.stallTimeoutMs },
        );
      } catch (err) {
        if (err instanceof PageUnresponsive) {
          // A browser that stopped answering is not lent out again: the retry gets a fresh one.
          jobLog.warn({ err: { message: err.message } }, 'render stalled; closing its browser');
          await lease.discard(err.message);
        } else if (!isPermanent(err) && !lease.browser.isConnected()) {
          throw new BrowserCrashed(`the browser died during the render: ${(err as Error).message}`);
        }
        throw err;
      } finally {
        await lease.release();
      }
      await progressChain;

      const location = await deps.store.putGif(data.team_id, data.asset_id, result.gif);
      if (!(await markDoneRetrying(deps, data.asset_id, location, jobLog, signal))) {
        // The row went away while we rendered (expired or cleaned up): leave no orphan object behind.
        await deps.store.delete(location).catch((err: unknown) => jobLog.warn({ err }, 'deleting an orphan GIF failed'));
        throw new InputError(`asset ${data.asset_id} was deleted while it rendered`);
      }

      deps.metrics?.jobs.inc({ outcome: 'completed' });
      deps.metrics?.renderSeconds.observe(result.wallMs / 1000);
      deps.metrics?.frames.observe(result.frames);
      deps.metrics?.gifBytes.observe(result.gif.length);
      jobLog.info(
        {
          content_location: location,
          bytes: result.gif.length,
          frames: result.frames,
          captured: result.captured,
          duration_s: result.durationS,
          wall_ms: Math.round(performance.now() - started),
          asset_failures: result.assetFailures,
        },
        'rendered',
      );
      return {
        content_location: location,
        skipped: false,
        bytes: result.gif.length,
        frames: result.frames,
        width: result.width,
        height: result.height,
        duration_s: result.durationS,
        wall_ms: result.wallMs,
      };
    } catch (err) {
      if (signal?.aborted) {
        if (signal.reason === SHUTDOWN_REASON && token) {
          // The worker is stopping and cannot wait for this render: back to the front of the queue,
          // without using an attempt (a deploy is not the job's fault), for another worker.
          const handedBack = await job.moveToWait(token).then(
            () => true,
            (e: unknown) => {
              log.warn({ err: e, asset_id: assetId }, 'handing the job back did not work; the stalled-job check will');
              return false;
            },
          );
          if (handedBack) {
            log.info({ asset_id: assetId }, 'render handed back: the worker is shutting down');
            throw new WaitingError();
          }
        }
        // Cancelled because this worker lost the job's lock (or could not hand it back): the job is
        // (or will be) someone else's, so its row is not ours to mark.
        log.warn({ asset_id: assetId, reason: String(signal.reason) }, 'render cancelled');
        throw toJobError(err);
      }
      const final = isFinalAttempt(job, err);
      const jobErr = toJobError(err);
      deps.metrics?.jobs.inc({ outcome: final ? 'failed' : 'retried' });
      log.warn({ asset_id: assetId, err: { name: (err as Error)?.name, message: jobErr.message }, final }, final ? 'job failed for good' : 'job failed; will retry');
      if (final && assetId !== undefined) {
        await deps.assets.markFailed(assetId, jobErr.message).catch((e: unknown) => log.error({ err: e, asset_id: assetId }, 'marking the asset failed did not work'));
      }
      throw jobErr;
    }
  };
}
