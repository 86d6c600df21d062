import { z } from 'zod';
import { InputError } from '../recording/errors.js';
import { SESSION_ID_PATTERN } from '../recording/sources/source.js';
import { DEFAULT_RENDER_OPTIONS } from '../render/types.js';

/** The one queue: producers, the HTTP server and workers all name it from here. */
export const QUEUE_NAME = 'rasterize-recording';
export const JOB_NAME = 'rasterize';

/** One job per asset: adding the same asset twice finds the first job instead of rendering again. */
export function jobIdForAsset(assetId: number): string {
  return `asset-${assetId}`;
}

export function assetIdFromJobId(jobId: string | undefined): number | undefined {
  const m = /^asset-(\d+)$/.exec(jobId ?? '');
  return m ? Number(m[1]) : undefined;
}

/** `x is required` when absent, `x must be <what>` when of the wrong type. */
export const typeError = (name: string, what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${name} is required` : `${name} must be ${what}`;

const offset = (name: string) =>
  z
    .number({ error: typeError(name, 'a number of seconds') })
    .refine(Number.isFinite, `${name} must be a finite number of seconds`)
    .refine((v) => v >= 0, `${name} must not be negative`);

export const teamIdSchema = z
  .number({ error: typeError('team_id', 'a number') })
  .int('team_id must be a whole number')
  .positive('team_id must be positive');

export const sessionIdSchema = z
  .string({ error: typeError('session_id', 'a string') })
  .regex(SESSION_ID_PATTERN, "session_id may hold only letters, digits, '.', '_' and '-' (at most 200)")
  .refine((v) => !v.includes('..'), "session_id must not contain '..'");

export const fpsSchema = z.number({ error: typeError('fps', 'a number') }).int('fps must be a whole number').min(1, 'fps must be at least 1').max(50, 'fps must be at most 50');
export const widthSchema = z
  .number({ error: typeError('width', 'a number') })
  .int('width must be a whole number of pixels')
  .min(64, 'width must be at least 64')
  .max(1920, 'width must be at most 1920');
export const playbackSpeedSchema = z
  .number({ error: typeError('playback_speed', 'a number') })
  .refine((v) => Number.isFinite(v) && v > 0 && v <= 16, 'playback_speed must be above 0 and at most 16');

export const jobRenderOptionsSchema = z.object({
  fps: fpsSchema.default(DEFAULT_RENDER_OPTIONS.fps),
  width: widthSchema.default(DEFAULT_RENDER_OPTIONS.width),
  playback_speed: playbackSpeedSchema.default(DEFAULT_RENDER_OPTIONS.speed),
  footer: z.boolean({ error: 'footer must be true or false' }).default(false),
});

/** What a job carries; checked when added and again when a worker takes it. */
export const jobDataSchema = z
  .object({
    asset_id: z.number().int().positive('asset_id must be positive'),
    team_id: teamIdSchema,
    session_id: sessionIdSchema,
    start_offset_s: offset('start_offset_s'),
    end_offset_s: offset('end_offset_s'),
    options: jobRenderOptionsSchema.default({ fps: DEFAULT_RENDER_OPTIONS.fps, width: DEFAULT_RENDER_OPTIONS.width, playback_speed: 1, footer: false }),
  })
  .refine((d) => d.end_offset_s > d.start_offset_s, { message: 'end_offset_s must be after start_offset_s', path: ['end_offset_s'] });

export type JobData = z.output<typeof jobDataSchema>;
export type JobDataInput = z.input<typeof jobDataSchema>;
export type JobRenderOptions = z.output<typeof jobRenderOptionsSchema>;

/** What a finished job returns (kept on the completed job in Redis). */
export interface JobResult {
  content_location: string;
  skipped: boolean;
  bytes?: number;
  frames?: number;
  width?: number;
  height?: number;
  duration_s?: number;
  wall_ms?: number;
}

/** Progress is frames done out of the clip's frame slots. */
export interface JobProgress {
  done: number;
  total: number;
  captured: number;
}

/** One line naming each bad field, e.g. `end_offset_s: end_offset_s must be after start_offset_s`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}

export function parseJobData(data: unknown): JobData {
  const parsed = jobDataSchema.safeParse(data);
  if (!parsed.success) throw new InputError(`invalid job data: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
