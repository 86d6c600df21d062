import { Router } from 'express';
import type { EnqueuedPreview, PreviewEnqueuer, SegmentPreview } from '../../producer/enqueue.js';
import { field } from '../../request/fields.js';
import { wireMomentRequest, wireProblemsBody } from '../../request/moment.js';
import { parseRequest } from '../../request/parse.js';
import type { EnqueuedResponse, ProblemPreviewsResponse } from '../schemas.js';

export type Enqueuing = Pick<PreviewEnqueuer, 'enqueueMoment' | 'enqueueProblems'>;

/**
 * POST /v1/rasterize: a moment of a session in, an asset id and its job out (202: it renders later).
 * POST /v1/sessions/{session_id}/problem-previews: a session's segments in, one preview per problem.
 */
export function rasterizeRoutes(enqueuer: Enqueuing): Router {
  const router = Router();
  router.post('/v1/rasterize', async (req, res) => {
    const moment = parseRequest(wireMomentRequest, req.body ?? {});
    const enqueued = await enqueuer.enqueueMoment(moment, { context: { source: 'api' } });
    res.locals.assetId = enqueued.assetId;
    res.status(202).json(enqueuedBody(enqueued));
  });

  router.post('/v1/sessions/:session_id/problem-previews', async (req, res) => {
    const sessionId = parseRequest(field.sessionId, req.params.session_id);
    const body = parseRequest(wireProblemsBody, req.body ?? {});
    const previews = await enqueuer.enqueueProblems({ ...body, sessionId });
    const answer: ProblemPreviewsResponse = { session_id: sessionId, previews: previews.map(segmentBody) };
    res.status(202).json(answer);
  });
  return router;
}

function enqueuedBody(e: EnqueuedPreview): EnqueuedResponse {
  return { asset_id: e.assetId, job_id: e.jobId, status: e.status, start_offset_s: e.startS, end_offset_s: e.endS };
}

function segmentBody(p: SegmentPreview): ProblemPreviewsResponse['previews'][number] {
  if ('reason' in p) return { index: p.index, problem_type: p.problemType, reason: p.reason };
  return { index: p.index, problem_type: p.problemType, asset_id: p.assetId, job_id: p.jobId, start_offset_s: p.startS, end_offset_s: p.endS, deduplicated: p.deduplicated };
}
