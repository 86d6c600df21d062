import { createHash } from 'node:crypto';
import type { Asset, AssetRepository, AssetStatus, ExportContext } from '../db/assets.js';
import { RasterizerError, describeFields, isInputError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { jobIdForAsset, type JobData } from '../queue/job.js';
import type { Enqueuer } from '../queue/job-queue.js';
import { DEFAULTS } from '../request/fields.js';
import type { MomentRequest, ProblemsRequest } from '../request/moment.js';
import { classifySegment, parseSegmentTime, segmentSchema, type ProblemType } from '../request/problems.js';
import { issueFields } from '../request/parse.js';
import type { ServiceRenderOptions } from '../request/render.js';
import { widenWindow } from '../request/window.js';

export interface EnqueuedPreview {
  assetId: number;
  jobId: string;
  /** `queued` for a new asset; a deduplicated one may already be rendering or done. */
  status: AssetStatus;
  /** The clip that will be rendered, after widening and clamping. */
  startS: number;
  endS: number;
  /** True when an existing asset of the same team, session, clip and options was returned. */
  deduplicated: boolean;
}

export type SegmentPreview =
  | { index: number; problemType: ProblemType; startS: number; endS: number; assetId: number; jobId: string; deduplicated: boolean }
  | { index: number; problemType: ProblemType | null; reason: string };

export interface EnqueueDeps {
  assets: Pick<AssetRepository, 'create' | 'delete'>;
  queue: Enqueuer;
  /** RENDER_MAX_DURATION_S. */
  maxDurationS: number;
  logger?: Logger;
}

/** Extra choices of one enqueue: what goes in export_context, reuse of an identical asset, the footer's default. */
interface EnqueueChoices {
  context?: Record<string, unknown>;
  dedupe?: boolean;
  footerDefault?: boolean;
}

/**
 * Creates asset rows and enqueues their renders: the one place a preview is asked for, whoever
 * asks (the HTTP routes and the producer library, with requests already parsed by the request
 * module). The row comes first; if enqueueing fails it is deleted before the error goes on, so no
 * row waits for a job that does not exist.
 */
export class PreviewEnqueuer {
  constructor(private readonly deps: EnqueueDeps) {}

  async enqueueMoment(req: MomentRequest, choices: EnqueueChoices = {}): Promise<EnqueuedPreview> {
    const clip = this.clipFor(req);
    const options = serviceOptions(req, choices.footerDefault ?? DEFAULTS.footer);
    const exportContext = contextFor(req, clip, options, choices.context);
    const dedupeKey = choices.dedupe ? dedupeKeyFor(req.sessionId, clip, options) : undefined;
    const { asset, created } = await this.deps.assets.create({ teamId: req.teamId, exportContext, dedupeKey });
    if (!created) return describe(asset, true);
    const jobId = await this.addOrForget(asset, jobDataFor(asset));
    this.deps.logger?.info({ asset_id: asset.id, job_id: jobId, team_id: req.teamId, session_id: req.sessionId, start_offset_s: clip.startS, end_offset_s: clip.endS }, 'preview enqueued');
    return describe(asset, false);
  }

  /**
   * One preview per segment that shows a problem (see classifySegment for the order of severity),
   * with the footer on unless asked otherwise, and identical clips shared. A segment without a
   * problem, with a time that does not parse, or outside the recording gets a reason instead.
   */
  async enqueueProblems(req: ProblemsRequest): Promise<SegmentPreview[]> {
    const out: SegmentPreview[] = [];
    for (const [index, raw] of req.segments.entries()) out.push(await this.enqueueSegment(req, index, raw));
    return out;
  }

  /** Adds the job of an existing row again (its job id is the row's, so nothing is added twice). */
  requeue(asset: Asset): Promise<string> {
    return this.deps.queue.add(jobDataFor(asset));
  }

  private async enqueueSegment(req: ProblemsRequest, index: number, raw: unknown): Promise<SegmentPreview> {
    const parsed = segmentSchema.safeParse(raw);
    if (!parsed.success) return { index, problemType: null, reason: `segment is malformed: ${describeFields(issueFields(parsed.error), (name) => name)}` };
    const segment = parsed.data;
    const problemType = classifySegment(segment) ?? null;
    if (!problemType) return { index, problemType, reason: 'no problem in this segment' };
    const startS = parseSegmentTime(segment.start_time);
    const endS = parseSegmentTime(segment.end_time);
    if (startS === undefined) return { index, problemType, reason: `start_time ${JSON.stringify(segment.start_time)} is not MM:SS or HH:MM:SS` };
    if (endS === undefined) return { index, problemType, reason: `end_time ${JSON.stringify(segment.end_time)} is not MM:SS or HH:MM:SS` };
    if (endS < startS) return { index, problemType, reason: `end_time ${segment.end_time} is before start_time ${segment.start_time}` };
    try {
      const moment: MomentRequest = { ...req, startS, endS };
      const enqueued = await this.enqueueMoment(moment, { context: { problem_type: problemType, segment_index: index }, dedupe: true, footerDefault: DEFAULTS.problemPreviewFooter });
      return { index, problemType, startS: enqueued.startS, endS: enqueued.endS, assetId: enqueued.assetId, jobId: enqueued.jobId, deduplicated: enqueued.deduplicated };
    } catch (err) {
      if (!isInputError(err)) throw err;
      return { index, problemType, reason: err.message };
    }
  }

  /** The moment widened to its minimum and kept inside the recording and the maximum duration. */
  private clipFor(req: MomentRequest): { startS: number; endS: number } {
    const clip = widenWindow(req);
    if (clip.endS <= clip.startS) throw new RasterizerError('invalid_request', undefined, { fields: { endS: 'must be after {startS}: the clip is empty' } });
    const length = Math.round((clip.endS - clip.startS) * 1000) / 1000;
    if (length > this.deps.maxDurationS) {
      throw new RasterizerError('invalid_request', undefined, { fields: { endS: `makes the clip ${length} s long, over the ${this.deps.maxDurationS} s maximum` } });
    }
    return clip;
  }

  private async addOrForget(asset: Asset, data: JobData): Promise<string> {
    try {
      return await this.deps.queue.add(data);
    } catch (err) {
      await this.deps.assets.delete(asset.id).catch((e: unknown) => this.deps.logger?.error({ err: e, asset_id: asset.id }, 'deleting the row of a job that was not enqueued failed'));
      throw err;
    }
  }
}

function serviceOptions(req: MomentRequest, footerDefault: boolean): ServiceRenderOptions {
  return {
    fps: req.fps ?? DEFAULTS.fps,
    width: req.width ?? DEFAULTS.width,
    playbackSpeed: req.playbackSpeed ?? DEFAULTS.playbackSpeed,
    footer: req.footer ?? footerDefault,
    maxBytes: req.maxBytes ?? DEFAULTS.serviceMaxBytes,
  };
}

function contextFor(req: MomentRequest, clip: { startS: number; endS: number }, o: ServiceRenderOptions, extra?: Record<string, unknown>): ExportContext {
  return {
    ...extra,
    session_recording_id: req.sessionId,
    start_offset_s: clip.startS,
    end_offset_s: clip.endS,
    min_duration_s: req.minDurationS ?? DEFAULTS.minDurationS,
    playback_speed: o.playbackSpeed,
    show_metadata_footer: o.footer,
    fps: o.fps,
    width: o.width,
    max_bytes: o.maxBytes,
  };
}

/** Same team (the index's other column), session, clip and options: the same GIF. */
function dedupeKeyFor(sessionId: string, clip: { startS: number; endS: number }, o: ServiceRenderOptions): string {
  const parts = [sessionId, clip.startS, clip.endS, o.fps, o.width, o.playbackSpeed, o.footer, o.maxBytes];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/** A row's job: everything the worker needs comes from the row, so a requeue adds the same job. */
export function jobDataFor(asset: Asset): JobData {
  const ctx = asset.exportContext;
  return {
    assetId: asset.id,
    jobKey: asset.jobKey ?? undefined,
    teamId: asset.teamId,
    sessionId: ctx.session_recording_id,
    startS: ctx.start_offset_s,
    endS: ctx.end_offset_s,
    minDurationS: ctx.min_duration_s,
    options: { fps: ctx.fps, width: ctx.width, playbackSpeed: ctx.playback_speed, footer: ctx.show_metadata_footer, maxBytes: ctx.max_bytes ?? DEFAULTS.serviceMaxBytes },
  };
}

function describe(asset: Asset, deduplicated: boolean): EnqueuedPreview {
  const ctx = asset.exportContext;
  return { assetId: asset.id, jobId: jobIdForAsset(asset.id, asset.jobKey), status: asset.status, startS: ctx.start_offset_s, endS: ctx.end_offset_s, deduplicated };
}
