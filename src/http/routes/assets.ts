import { Router } from 'express';
import { isViewable, type Asset, type AssetReads } from '../../db/assets.js';
import { RasterizerError } from '../../errors.js';
import { jobIdForAsset } from '../../queue/job.js';
import type { ProgressReader } from '../../queue/job-queue.js';
import { assetIdParam, wirePreviewUrlsBody, wireTeamQuery } from '../../request/moment.js';
import { parseRequest } from '../../request/parse.js';
import { resolvePreviewUrls } from '../../signing/preview-urls.js';
import type { UrlSigner } from '../../signing/public-url.js';
import type { AssetResponse } from '../schemas.js';

export interface AssetRouteDeps {
  assets: AssetReads;
  progress: ProgressReader;
  signer: UrlSigner;
}

/**
 * Asset status for API clients, and signed public URLs for many assets at once. Every read names
 * its team: another team's asset is not found (404, or null in a batch).
 */
export function assetRoutes(deps: AssetRouteDeps): Router {
  const router = Router();

  router.get('/v1/assets/:id', async (req, res) => {
    const id = parseRequest(assetIdParam, req.params.id);
    const { teamId } = parseRequest(wireTeamQuery, req.query);
    res.locals.assetId = id;
    const asset = await deps.assets.getForTeam(id, teamId);
    if (!asset) throw new RasterizerError('not_found', `asset ${id} of team ${teamId} does not exist`);
    res.json(await assetBody(deps, asset));
  });

  router.post('/v1/assets/preview-urls', async (req, res) => {
    const body = parseRequest(wirePreviewUrlsBody, req.body ?? {});
    const urls = await resolvePreviewUrls(deps, body.teamId, body.assetIds);
    res.json({ urls: Object.fromEntries(urls) });
  });

  return router;
}

async function assetBody(deps: AssetRouteDeps, asset: Asset): Promise<AssetResponse> {
  const ctx = asset.exportContext;
  const pending = asset.status === 'rendering' || asset.status === 'queued';
  const progress = pending ? await deps.progress.progress(jobIdForAsset(asset.id, asset.jobKey)).catch(() => null) : null;
  return {
    id: asset.id,
    team_id: asset.teamId,
    status: asset.status,
    progress: progress && { done: progress.done, total: progress.total },
    start_offset_s: ctx.start_offset_s,
    end_offset_s: ctx.end_offset_s,
    content_location: asset.contentLocation,
    public_url: isViewable(asset) ? await deps.signer.url({ assetId: asset.id, teamId: asset.teamId, expiresAfter: asset.expiresAfter }) : null,
    error: asset.error,
    max_bytes: typeof ctx.max_bytes === 'number' ? ctx.max_bytes : null,
    budget_steps: asset.budgetSteps,
    export_context: ctx,
    created_at: asset.createdAt.toISOString(),
    expires_after: asset.expiresAfter.toISOString(),
  };
}
