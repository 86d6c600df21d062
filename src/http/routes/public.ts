import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { Producer } from '../../producer/producer.js';
import type { Logger } from '../../observability/logger.js';
import { PreviewTokenError } from '../../signing/public-url.js';

/**
 * GET /public/previews/:token: no bearer; the signed token is the permission. The GIF is streamed
 * from S3, never buffered whole.
 */
export function publicRoutes(producer: Producer, logger: Logger): Router {
  const router = Router();
  router.get('/public/previews/:token', async (req, res) => {
    let claims;
    try {
      claims = await producer.signer.verify(req.params.token);
    } catch (err) {
      if (err instanceof PreviewTokenError) {
        res.status(401).json({ error: err.reason === 'expired' ? 'token_expired' : 'invalid_token', message: err.message });
        return;
      }
      throw err;
    }
    res.locals.assetId = claims.assetId;
    const asset = await producer.assets.get(claims.assetId);
    if (!asset) {
      res.status(404).json({ error: 'not_found', message: 'this preview does not exist (deleted or expired)' });
      return;
    }
    if (asset.teamId !== claims.teamId) {
      res.status(403).json({ error: 'forbidden', message: 'this link does not grant access to this preview' });
      return;
    }
    if (asset.status !== 'done' || !asset.contentLocation || asset.expiresAfter.getTime() <= Date.now()) {
      res.status(404).json({ error: 'not_ready', message: `this preview is not available (status ${asset.status})` });
      return;
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const object = await producer.store.open(asset.contentLocation, abort.signal);
    if (!object) {
      res.status(404).json({ error: 'not_found', message: 'the GIF of this preview is missing' });
      return;
    }
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
      if (!abort.signal.aborted) logger.warn({ err, asset_id: asset.id }, 'streaming a preview failed');
    }
  });
  return router;
}
