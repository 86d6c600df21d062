import { Router } from 'express';
import { z } from 'zod';
import type { Producer } from '../../producer/producer.js';
import { WindowError } from '../../producer/window.js';
import { fpsSchema, playbackSpeedSchema, sessionIdSchema, teamIdSchema, typeError, widthSchema } from '../../queue/job.js';
import { InputError } from '../../recording/errors.js';
import { parseOr400, sendInvalid } from '../validation.js';

const seconds = (name: string) =>
  z
    .number({ error: typeError(name, 'a number of seconds') })
    .refine(Number.isFinite, `${name} must be a finite number of seconds`)
    .refine((v) => v >= 0, `${name} must not be negative`);

const rasterizeBody = z
  .strictObject(
    {
      team_id: teamIdSchema,
      session_id: sessionIdSchema,
      start_offset_s: seconds('start_offset_s'),
      end_offset_s: seconds('end_offset_s'),
      min_duration_s: seconds('min_duration_s').optional(),
      recording_duration_s: seconds('recording_duration_s')
        .refine((v) => v > 0, 'recording_duration_s must be above 0')
        .optional(),
      playback_speed: playbackSpeedSchema.optional(),
      fps: fpsSchema.optional(),
      width: widthSchema.optional(),
      footer: z.boolean({ error: 'footer must be true or false' }).optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : undefined) },
  )
  .refine((b) => b.end_offset_s >= b.start_offset_s, { message: 'end_offset_s must not be before start_offset_s', path: ['end_offset_s'] });

/** POST /v1/rasterize: a moment of a session in, an asset id and its job out (202: it renders later). */
export function rasterizeRoutes(producer: Producer): Router {
  const router = Router();
  router.post('/v1/rasterize', async (req, res) => {
    const body = parseOr400(rasterizeBody, req.body ?? {}, res);
    if (!body) return;
    try {
      const enqueued = await producer.enqueueMomentPreview({
        teamId: body.team_id,
        sessionId: body.session_id,
        startS: body.start_offset_s,
        endS: body.end_offset_s,
        minDurationS: body.min_duration_s,
        recordingDurationS: body.recording_duration_s,
        playbackSpeed: body.playback_speed,
        fps: body.fps,
        width: body.width,
        footer: body.footer,
        context: { source: 'api' },
      });
      res.locals.assetId = enqueued.assetId;
      res.status(202).json({
        asset_id: enqueued.assetId,
        job_id: enqueued.jobId,
        status: enqueued.status,
        start_offset_s: enqueued.startS,
        end_offset_s: enqueued.endS,
      });
    } catch (err) {
      if (err instanceof WindowError) return sendInvalid(res, { [err.field]: err.message });
      if (err instanceof InputError) return sendInvalid(res, { body: err.message });
      throw err;
    }
  });
  return router;
}
