import { z } from 'zod';
import { field, fromWire, toWire, wireShape } from '../request/fields.js';
import { parseRequest } from '../request/parse.js';
import { clipHasLength, wireServiceRenderOptions } from '../request/render.js';

/** The one queue: producers, the HTTP server and workers all name it from here. */
export const QUEUE_NAME = 'rasterize-recording';
export const JOB_NAME = 'rasterize';

/**
 * One job per asset: adding the same asset twice finds the first job instead of rendering again.
 * The row's random job key is part of the id, so a database that starts its ids again at 1 (reset,
 * restored) never meets the jobs Redis still holds for the old rows. Rows made before the key
 * existed have none: `asset-<id>`.
 */
export function jobIdForAsset(assetId: number, jobKey?: string | null): string {
  return jobKey ? `asset-${assetId}-${jobKey}` : `asset-${assetId}`;
}

export function assetIdFromJobId(jobId: string | undefined): number | undefined {
  const m = /^asset-(\d+)(?:-[A-Za-z0-9_]+)?$/.exec(jobId ?? '');
  return m ? Number(m[1]) : undefined;
}

export const JOB_KEY_PATTERN = /^[A-Za-z0-9_]{8,64}$/;

const jobShape = {
  assetId: field.assetId,
  /** The asset row's job key; the worker refuses a job whose key is not its row's (a stale job). */
  jobKey: z.string().regex(JOB_KEY_PATTERN, 'must be 8 to 64 letters, digits or _').optional(),
  teamId: field.teamId,
  sessionId: field.sessionId,
  startS: field.offset,
  endS: field.offset,
  /** The shortest clip wanted: when the worker finds the recording ends before the clip, it moves the clip back and keeps this much where it can. */
  minDurationS: field.minDurationS.optional(),
  options: wireServiceRenderOptions.prefault({}),
};

/** What a job carries (snake_case on the wire); checked when added and again when a worker takes it. */
export const jobDataSchema = z.object(wireShape(jobShape)).transform(fromWire).superRefine(clipHasLength);

export type JobData = z.output<typeof jobDataSchema>;
export type JobDataInput = z.input<typeof jobDataSchema>;

/** What a finished job returns (kept on the completed job in Redis). */
export interface JobResult {
  content_location: string;
  skipped: boolean;
  /** The clip rendered: the job's, moved back when the recording ends sooner. */
  start_offset_s?: number;
  end_offset_s?: number;
  bytes?: number;
  frames?: number;
  width?: number;
  height?: number;
  duration_s?: number;
  wall_ms?: number;
  /** What the encoder did to fit the byte budget (empty: nothing was needed). */
  budget_steps?: string[];
}

/** Progress is frames done out of the clip's frame slots. */
export interface JobProgress {
  done: number;
  total: number;
  captured: number;
}

export function parseJobData(data: unknown): JobData {
  return parseRequest(jobDataSchema, data);
}

/** The job data for an inside job: wire names, nested options included. */
export function jobDataToWire(data: JobData): JobDataInput {
  const { options, ...rest } = data;
  return { ...toWire(rest), options: toWire(options) } as JobDataInput;
}
