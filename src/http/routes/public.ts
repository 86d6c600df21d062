import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { isViewable, type AssetRepository } from '../../db/assets.js';
import { RasterizerError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { UrlSigner } from '../../signing/public-url.js';
import type { AssetStore } from '../../storage/s3.js';

export interface PublicRouteDeps {
  assets: Pick<AssetRepository, 'get'>;
  signer: Pick<UrlSigner, 'verify'>;
  gifs: Pick<AssetStore, 'open'>;
  logger: Logger;
}

/**
 * GET /public/previews/:token: no bearer; the signed token is the permission. The GIF is streamed
 * from S3, never buffered whole.
 */
export function publicRoutes(deps: PublicRouteDeps): Router {
  const router = Router();
  router.get('/public/previews/:token', async (req, res) => {
    const claims = await deps.signer.verify(req.params.token);
    res.locals.assetId = claims.assetId;
    const asset = await deps.assets.get(claims.assetId);
    if (!asset) throw new RasterizerError('not_found', 'this preview does not exist (deleted or expired)');
    if (asset.teamId !== claims.teamId) throw new RasterizerError('forbidden', 'this link does not grant access to this preview');
    if (!isViewable(asset)) throw new RasterizerError('not_ready', `this preview is not available (status ${asset.status})`);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const object = await deps.gifs.open(asset.contentLocation!, abort.signal);
    if (!object) throw new RasterizerError('not_found', 'the GIF of this preview is missing');
    res.status(200).set({
      'content-type': 'image/gif',
      'cache-control': 'private, max-age=3600',
      'x-content-type-options': 'nosniff',
      'content-disposition': `inline; filename="preview-${asset.id}.gif"`,
      ...(object.contentLength !== undefined ? { 'content-length': String(object.contentLength) } : {}),
    });
    try {
      await pipeline(object.body, res);
    } catch (err) {
      if (!abort.signal.aborted) deps.logger.warn({ err, asset_id: asset.id }, 'streaming a preview failed');
    }
  });
  return router;
}
