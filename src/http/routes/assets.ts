import { Router } from 'express';
import { z } from 'zod';
import type { Producer } from '../../producer/producer.js';
import { jobIdForAsset, type JobProgress } from '../../queue/job.js';
import { parseOr400 } from '../validation.js';

const assetIdParam = z.coerce
  .number({ error: 'id must be an asset id (a positive whole number)' })
  .int('id must be an asset id (a positive whole number)')
  .positive('id must be an asset id (a positive whole number)')
  .refine(Number.isSafeInteger, 'id is too large');

const previewUrlsBody = z.strictObject({
  asset_ids: z
    .array(z.number({ error: 'asset_ids must hold numbers' }).int('asset_ids must hold whole numbers').positive('asset_ids must hold positive ids'), {
      error: (issue) => (issue.input === undefined ? 'asset_ids is required' : 'asset_ids must be an array of asset ids'),
    })
    .max(1000, 'asset_ids may hold at most 1000 ids'),
});

function toProgress(value: unknown): { done: number; total: number } | null {
  const p = value as Partial<JobProgress> | null | undefined;
  return p && typeof p === 'object' && typeof p.done === 'number' && typeof p.total === 'number' ? { done: p.done, total: p.total } : null;
}

/** Asset status for API clients, and signed public URLs for many assets at once. */
export function assetRoutes(producer: Producer): Router {
  const router = Router();

  router.get('/v1/assets/:id', async (req, res) => {
    const id = parseOr400(assetIdParam, req.params.id, res);
    if (id === undefined) return;
    res.locals.assetId = id;
    const asset = await producer.assets.get(id);
    if (!asset) {
      res.status(404).json({ error: 'not_found', message: `asset ${id} does not exist` });
      return;
    }
    let progress: { done: number; total: number } | null = null;
    if (asset.status === 'rendering' || asset.status === 'queued') {
      progress = toProgress((await producer.queue.getJob(jobIdForAsset(id)))?.progress);
    }
    const done = asset.status === 'done' && asset.contentLocation !== null;
    res.json({
      id: asset.id,
      team_id: asset.teamId,
      status: asset.status,
      progress,
      content_location: asset.contentLocation,
      public_url: done ? await producer.signer.url({ assetId: asset.id, teamId: asset.teamId }) : null,
      error: asset.error,
      export_context: asset.exportContext,
      created_at: asset.createdAt.toISOString(),
      expires_after: asset.expiresAfter.toISOString(),
    });
  });

  router.post('/v1/assets/preview-urls', async (req, res) => {
    const body = parseOr400(previewUrlsBody, req.body ?? {}, res);
    if (!body) return;
    const urls = await producer.resolvePreviewUrls(body.asset_ids);
    res.json({ urls: Object.fromEntries(urls) });
  });

  return router;
}
