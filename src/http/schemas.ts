import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import { PROBLEM_TYPES } from '../request/problems.js';

/**
 * What the API answers, as zod schemas: the routes build their answers as these types, and the
 * OpenAPI document (openapi.ts) is generated from them and from the request module's schemas.
 */
const clip = {
  start_offset_s: z.number().describe('the clip, in seconds from the recording\'s first event: after widening and clamping; once done, the clip rendered'),
  end_offset_s: z.number(),
};
const status = z.enum(['queued', 'rendering', 'done', 'failed']);

export const enqueuedResponse = z.object({
  asset_id: z.number().int(),
  job_id: z.string(),
  status,
  ...clip,
});

export const segmentPreviewResponse = z.union([
  z.object({
    index: z.number().int(),
    problem_type: z.enum(PROBLEM_TYPES),
    asset_id: z.number().int(),
    job_id: z.string(),
    ...clip,
    deduplicated: z.boolean().describe('true when an existing asset of the same team, session, clip and options (not failed, not expired) was returned'),
  }),
  z.object({ index: z.number().int(), problem_type: z.enum(PROBLEM_TYPES).nullable(), reason: z.string() }),
]);
export const problemPreviewsResponse = z.object({ session_id: z.string(), previews: z.array(segmentPreviewResponse) });

export const assetResponse = z.object({
  id: z.number().int(),
  team_id: z.number().int(),
  status,
  progress: z.object({ done: z.number().int(), total: z.number().int() }).nullable().describe('frame slots, while queued or rendering'),
  ...clip,
  content_location: z.string().nullable(),
  public_url: z.string().nullable().describe('a signed URL, valid until the earlier of PUBLIC_URL_TTL_S from now and expires_after; null unless done and not expired'),
  error: z.string().nullable(),
  max_bytes: z.number().int().nullable().describe('the GIF\'s byte budget'),
  budget_steps: z.array(z.string()).nullable().describe('what the encoder did to fit the budget ("lossy:40", "colors:128", "fps:5@12.0-20.0s"); [] when nothing was needed; null until done'),
  export_context: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  expires_after: z.string(),
});

export const previewUrlsResponse = z.object({ urls: z.record(z.string(), z.string().nullable()) });

export const errorResponse = z.object({
  error: z.enum(ERROR_CODES as [string, ...string[]]),
  message: z.string(),
  fields: z.record(z.string(), z.string()).optional().describe('each bad field (wire name) and what is wrong with it'),
  request_id: z.string().optional().describe('on 5xx answers: find the details in the server\'s logs'),
});

export type EnqueuedResponse = z.infer<typeof enqueuedResponse>;
export type ProblemPreviewsResponse = z.infer<typeof problemPreviewsResponse>;
export type AssetResponse = z.infer<typeof assetResponse>;
