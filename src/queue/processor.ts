import { WaitingError, type Job } from 'bullmq';
import type { AssetRenders } from '../db/assets.js';
import { RasterizerError, isRasterizerError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { recordingDurationS } from '../recording/clip.js';
import { parseRecording } from '../recording/parse.js';
import type { RecordingSource } from '../recording/sources/source.js';
import type { RrwebEvent } from '../recording/types.js';
import { widenWindow } from '../request/window.js';
import type { AssetCache } from '../render/asset-cache.js';
import type { BrowserPool } from '../render/browser-pool.js';
import { enforceBudget } from '../render/budget-guard.js';
import { renderRecording, type RenderProgress, type RenderResult } from '../render/index.js';
import type { AssetStore } from '../storage/s3.js';
import { parseJobData, type JobData, type JobProgress, type JobResult } from './job.js';
import { isFinalAttempt, toJobError } from './retry.js';

export interface ProcessorDeps {
  assets: AssetRenders;
  store: Pick<AssetStore, 'putGif' | 'delete'>;
  recordings: RecordingSource;
  browsers: BrowserPool;
  /** stallTimeoutMs: how long one call to the replay page may go unanswered (RENDER_STALL_TIMEOUT_MS). */
  render: { allowOrigins: string[]; maxDurationS: number; stallTimeoutMs: number };
  /** The recorded sites' assets kept across this worker's renders (ASSET_CACHE_MB); none: each render fetches its own. */
  assetCache?: AssetCache;
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

/** Waits between tries of the statement that links a finished GIF to its row (about 15 s in all). */
const MARK_DONE_RETRY_MS = [500, 1000, 2000, 4000, 8000];

/**
 * Renders one asset: checks the job and its row, loads the session, fits the clip inside the
 * recording, renders in a pooled browser, uploads the GIF to the asset's key and marks the row done
 * with its location, clip and budget steps in one statement. How a failure ends (retry or not) is
 * decided in retry.ts.
 */
export function createProcessor(deps: ProcessorDeps) {
  return async (job: Job, token?: string, signal?: AbortSignal): Promise<JobResult> => {
    const log = deps.logger.child({ job_id: job.id, attempt: job.attemptsMade + 1 });
    let data: JobData | undefined;
    try {
      data = parseJobData(job.data);
      return await renderJob(deps, job, data, log.child({ asset_id: data.assetId, team_id: data.teamId, session_id: data.sessionId }), signal);
    } catch (err) {
      throw await failJob(deps, { job, token, signal, log, assetId: data?.assetId, jobKey: data?.jobKey ?? null }, err);
    }
  };
}

async function renderJob(deps: ProcessorDeps, job: Job, data: JobData, log: Logger, signal?: AbortSignal): Promise<JobResult> {
  const started = performance.now();
  const skipped = await checkAsset(deps, data, log);
  if (skipped) return skipped;
  await deps.assets.markRendering(data.assetId);

  const events = parseRecording(await deps.recordings.load(data.teamId, data.sessionId, signal)).events;
  const clip = fitClip(data, events);
  log.info({ start_offset_s: clip.startS, end_offset_s: clip.endS, asked: [data.startS, data.endS] }, 'rendering');
  const progress = progressReporter(job, log);
  const result = await renderInPool(deps, data, events, clip, { onProgress: progress.report, signal }, log);
  await progress.flushed();

  const budgetSteps = enforceBudget(result, data.options.maxBytes) ?? [];
  const location = await deps.store.putGif(data.teamId, data.assetId, result.gif);
  await linkGif(deps, data.assetId, { contentLocation: location, startS: result.startS, endS: result.endS, budgetSteps }, log, signal);

  recordRender(deps, result, log, { location, wallMs: Math.round(performance.now() - started) });
  return {
    content_location: location,
    skipped: false,
    start_offset_s: result.startS,
    end_offset_s: result.endS,
    bytes: result.gif.length,
    frames: result.frames,
    width: result.width,
    height: result.height,
    duration_s: result.durationS,
    wall_ms: result.wallMs,
    budget_steps: budgetSteps,
  };
}

/** The row behind the job: it must exist, be the team's and this job's; one already done is not rendered again. */
async function checkAsset(deps: ProcessorDeps, data: JobData, log: Logger): Promise<JobResult | undefined> {
  const asset = await deps.assets.get(data.assetId);
  if (!asset) throw new RasterizerError('not_found', `asset ${data.assetId} does not exist (deleted or expired)`);
  if (asset.teamId !== data.teamId) throw new RasterizerError('invalid_request', `asset ${data.assetId} belongs to team ${asset.teamId}, not ${data.teamId}`);
  if ((asset.jobKey ?? undefined) !== data.jobKey) {
    // A job left in Redis from before the database was reset: its asset id now names another row.
    throw new RasterizerError('not_found', `asset ${data.assetId} is not this job's (job key ${data.jobKey ?? 'none'}, row ${asset.jobKey ?? 'none'}): a stale job`);
  }
  if (asset.status !== 'done' || !asset.contentLocation) return undefined;
  // The same asset enqueued again after its first job was removed from Redis: render once.
  deps.metrics?.jobs.inc({ outcome: 'skipped' });
  log.info({ content_location: asset.contentLocation }, 'asset already rendered');
  return { content_location: asset.contentLocation, skipped: true };
}

/**
 * The clip inside the recording: a clip that runs past the recording's end is moved back (keeping
 * its length, at least the minimum asked for, where the recording allows) instead of cut short.
 */
function fitClip(data: JobData, events: RrwebEvent[]): { startS: number; endS: number } {
  const lengthS = recordingDurationS(events);
  if (data.endS <= lengthS) return { startS: data.startS, endS: data.endS };
  return widenWindow({ startS: data.startS, endS: data.endS, minDurationS: data.minDurationS ?? data.endS - data.startS, recordingDurationS: lengthS });
}

/** Progress to Redis at most every PROGRESS_EVERY_MS, in order; a failed update does not fail the render. */
function progressReporter(job: Job, log: Logger) {
  let lastAt = 0;
  let chain: Promise<unknown> = Promise.resolve();
  return {
    report(p: RenderProgress) {
      const now = performance.now();
      if (p.done < p.total && now - lastAt < PROGRESS_EVERY_MS) return;
      lastAt = now;
      const progress: JobProgress = { done: p.done, total: p.total, captured: p.captured };
      chain = chain.then(() => job.updateProgress({ ...progress })).catch((err: unknown) => log.warn({ err }, 'progress update failed'));
    },
    flushed: () => chain,
  };
}

/**
 * The render in a browser lent by the pool. The engine bounds every call to the page (a renderer
 * that dies fails the render at once, one that hangs at the deadline), so a render always settles;
 * a browser that stopped answering is closed rather than lent out again.
 */
async function renderInPool(
  deps: ProcessorDeps,
  data: JobData,
  events: RrwebEvent[],
  clip: { startS: number; endS: number },
  ctx: { onProgress: (p: RenderProgress) => void; signal?: AbortSignal },
  log: Logger,
): Promise<RenderResult> {
  const lease = await deps.browsers.acquire();
  try {
    return await renderRecording(
      events,
      { ...clip, ...data.options, allowOrigins: deps.render.allowOrigins, maxDurationS: deps.render.maxDurationS },
      {
        browser: lease.browser,
        // A browser that stops answering mid-render is replaced and the clip rendered again at once (render.ts).
        replaceBrowser: (reason) => {
          log.warn({ err: { message: reason } }, 'render stalled; rendering again in a fresh browser');
          return lease.replace(reason);
        },
        onProgress: ctx.onProgress,
        signal: ctx.signal,
        pageCallTimeoutMs: deps.render.stallTimeoutMs,
        assetCache: deps.assetCache,
      },
    );
  } catch (err) {
    if (isRasterizerError(err, 'page_unresponsive')) {
      log.warn({ err: { message: err.message } }, 'render stalled; closing its browser');
      await lease.discard(err.message);
    } else if (!isRasterizerError(err) || err.retryable) {
      if (!lease.browser.isConnected()) throw new RasterizerError('browser_crashed', `the browser died during the render: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  } finally {
    await lease.release();
  }
}

/**
 * Marks the row done, retrying for a while: the GIF is already in S3, and a PostgreSQL that blinks
 * at this moment (a restart, a failover, a dropped connection) should cost a few seconds, not a
 * second render after the job's backoff. The statement is idempotent. A row that went away while
 * we rendered (expired, cleaned up) gets its GIF deleted: no orphan object.
 */
async function linkGif(deps: ProcessorDeps, assetId: number, rendered: Parameters<AssetRenders['markDone']>[1], log: Logger, signal?: AbortSignal): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      if (await deps.assets.markDone(assetId, rendered)) return;
      await deps.store.delete(rendered.contentLocation).catch((err: unknown) => log.warn({ err }, 'deleting an orphan GIF failed'));
      throw new RasterizerError('not_found', `asset ${assetId} was deleted while it rendered`);
    } catch (err) {
      const wait = MARK_DONE_RETRY_MS[i];
      if (isRasterizerError(err) || wait === undefined || signal?.aborted) throw err;
      log.warn({ err: { name: (err as Error)?.name, message: (err as Error)?.message }, retry_in_ms: wait }, 'marking the asset done failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function recordRender(deps: ProcessorDeps, result: RenderResult, log: Logger, extra: { location: string; wallMs: number }): void {
  deps.metrics?.jobs.inc({ outcome: 'completed' });
  deps.metrics?.renderSeconds.observe(result.wallMs / 1000);
  deps.metrics?.frames.observe(result.frames);
  deps.metrics?.gifBytes.observe(result.gif.length);
  // "lossy:40", "colors:128", "fps:5@12.0-20.0s": counted by kind, not by level (a bounded label set).
  if (result.restarts) deps.metrics?.renderRestarts.inc();
  for (const step of new Set(result.budget?.steps.map((s) => s.slice(0, s.indexOf(':'))))) deps.metrics?.budgetSteps.inc({ step });
  log.info(
    {
      content_location: extra.location,
      bytes: result.gif.length,
      frames: result.frames,
      captured: result.captured,
      duration_s: result.durationS,
      start_offset_s: result.startS,
      end_offset_s: result.endS,
      wall_ms: extra.wallMs,
      asset_failures: result.assetFailures,
      assets_prefetched: result.assetsPrefetched.urls,
      assets_prefetched_used: result.assetsPrefetched.used,
      assets_from_cache: result.assetsFromCache,
      stylesheets_lost: result.stylesheets.lost,
      stylesheets_restored: result.stylesheets.restored,
      stylesheets_repaired: result.stylesheets.repaired,
      budget_steps: result.budget?.steps,
      // The byte budget's whole encodes, and how many of them used the second thread: what it cost.
      budget_encodes: result.budget?.encodes,
      budget_two_thread_encodes: result.budget?.twoThreadEncodes,
      // A render that took its pictures the slow way (pictureSource, captureFallbacks) says so here.
      picture_source: result.pictureSource,
      capture_fallbacks: result.timings.captureFallbacks,
      encode_threads: result.encodeThreads,
      // Rendered again in a fresh browser after the first stopped answering (render.ts).
      restarts: result.restarts,
    },
    'rendered',
  );
}

interface Failing {
  job: Job;
  token?: string;
  signal?: AbortSignal;
  log: Logger;
  assetId: number | undefined;
  jobKey: string | null;
}

/**
 * What a failed attempt becomes. Cancelled for shutdown: handed back to the front of the queue
 * without using an attempt (a deploy is not the job's fault). Cancelled because the lock was lost:
 * left alone, the job is someone else's. Otherwise retry.ts decides, and a final failure marks the row.
 */
async function failJob(deps: ProcessorDeps, f: Failing, err: unknown): Promise<Error> {
  const { error, cause, message } = toJobError(err);
  if (f.signal?.aborted) {
    if (f.signal.reason === SHUTDOWN_REASON && f.token && (await handBack(f))) return new WaitingError();
    f.log.warn({ asset_id: f.assetId, reason: String(f.signal.reason) }, 'render cancelled');
    return error;
  }
  const final = isFinalAttempt(f.job, cause);
  deps.metrics?.jobs.inc({ outcome: final ? 'failed' : 'retried' });
  deps.metrics?.errors.inc({ code: cause.code });
  f.log.warn({ asset_id: f.assetId, err: { code: cause.code, message }, final }, final ? 'job failed for good' : 'job failed; will retry');
  if (final && f.assetId !== undefined) {
    await deps.assets.markFailed(f.assetId, f.jobKey, message).catch((e: unknown) => f.log.error({ err: e, asset_id: f.assetId }, 'marking the asset failed did not work'));
  }
  return error;
}

async function handBack(f: Failing): Promise<boolean> {
  try {
    await f.job.moveToWait(f.token!);
    f.log.info({ asset_id: f.assetId }, 'render handed back: the worker is shutting down');
    return true;
  } catch (e) {
    f.log.warn({ err: e, asset_id: f.assetId }, 'handing the job back did not work; the stalled-job check will');
    return false;
  }
}
