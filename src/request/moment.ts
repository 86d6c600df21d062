import { z } from 'zod';
import { LIMITS, field, fromText, fromWire, wireShape } from './fields.js';
import { segmentSchema } from './problems.js';
import { momentInOrder, optionalRenderOptionsShape } from './render.js';

/**
 * A moment of a session to preview (POST /v1/rasterize, Producer.enqueueMomentPreview): the clip is
 * widened to `minDurationS` and kept inside `recordingDurationS` when known; options left out get the
 * service's defaults.
 */
const momentShape = {
  teamId: field.teamId,
  sessionId: field.sessionId,
  startS: field.offset,
  endS: field.offset,
  minDurationS: field.minDurationS.optional(),
  recordingDurationS: field.recordingDurationS.optional(),
  ...optionalRenderOptionsShape,
};
export const momentRequest = z.object(momentShape).superRefine(momentInOrder);
export type MomentRequest = z.output<typeof momentRequest>;
export const wireMomentRequest = z.strictObject(wireShape(momentShape)).transform(fromWire).superRefine(momentInOrder);

/**
 * Problem previews of one session (POST /v1/sessions/{session_id}/problem-previews,
 * Producer.enqueueSessionProblems): the segments in the signals pipeline's shape, at most
 * LIMITS.segmentsPerCall of them. Segments are judged one by one (a bad one gets a reason).
 */
const problemsShape = {
  teamId: field.teamId,
  segments: z
    .array(z.unknown(), { error: (i) => (i.input === undefined ? 'is required' : 'must be an array of segments') })
    .max(LIMITS.segmentsPerCall, `may hold at most ${LIMITS.segmentsPerCall} segments per call`),
  recordingDurationS: field.recordingDurationS.optional(),
  minDurationS: field.minDurationS.optional(),
  ...optionalRenderOptionsShape,
};
export const problemsRequest = z.object({ sessionId: field.sessionId, ...problemsShape });
export type ProblemsRequest = z.output<typeof problemsRequest>;
/** The HTTP body: the session is in the path. */
export const wireProblemsBody = z.strictObject(wireShape(problemsShape)).transform(fromWire);
/** For the OpenAPI document: what one segment looks like. */
export const segmentDoc = segmentSchema;

/** An asset id in a path. */
export const assetIdParam = fromText(field.assetId);

/** Reads are scoped to a team: `?team_id=` on GET /v1/assets/{id}. */
export const wireTeamQuery = z.object({ team_id: fromText(field.teamId) }).transform(fromWire);

export const wirePreviewUrlsBody = z
  .strictObject({
    team_id: field.teamId,
    asset_ids: z
      .array(field.assetId, { error: (i) => (i.input === undefined ? 'is required' : 'must be an array of asset ids') })
      .max(LIMITS.assetIdsPerCall, `may hold at most ${LIMITS.assetIdsPerCall} ids`),
  })
  .transform(fromWire);
