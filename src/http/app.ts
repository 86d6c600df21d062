import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { AssetRepository } from '../db/assets.js';
import { RasterizerError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProgressReader } from '../queue/job-queue.js';
import type { UrlSigner } from '../signing/public-url.js';
import type { AssetStore } from '../storage/s3.js';
import { DASHBOARD_PATH, queueDashboard } from './admin.js';
import { requireBearer } from './auth.js';
import { jsonBody } from './body.js';
import { errorHandler } from './errors.js';
import { openApiDocument } from './openapi.js';
import { assetRoutes } from './routes/assets.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { publicRoutes } from './routes/public.js';
import { rasterizeRoutes, type Enqueuing } from './routes/rasterize.js';

/** What the routes need, each as narrow as it can be: no route reaches past its own seam. */
export interface AppDeps {
  enqueuer: Enqueuing;
  assets: Pick<AssetRepository, 'get' | 'getForTeam' | 'getManyForTeam'>;
  progress: ProgressReader;
  signer: UrlSigner;
  gifs: Pick<AssetStore, 'open'>;
  /** The BullMQ queue itself, for operator tools mounted on the app (the queue dashboard); no route uses it. */
  queue: Queue;
  apiToken: string;
  logger: Logger;
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
}

/**
 * The token in a public preview path is a credential: logs get the route, not the token. Query
 * strings may carry tokens too: logs get `?[redacted]`.
 */
function loggedPath(url: string): string {
  return url.replace(/^\/public\/previews\/[^/?#]+/, '/public/previews/[token]').replace(/\?.*$/s, '?[redacted]');
}

function requestLogging(deps: AppDeps) {
  return pinoHttp({
    logger: deps.logger,
    genReqId: (req, res) => {
      const id = randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
    serializers: {
      req: (req: { method: string; url: string; id: unknown }) => ({ id: req.id, method: req.method, url: loggedPath(req.url) }),
    },
    customProps: (_req, res) => {
      const assetId = (res as { locals?: { assetId?: number } }).locals?.assetId;
      return assetId !== undefined ? { asset_id: assetId } : {};
    },
  });
}

/** The express app, without listening (tests mount it on a free port; the server command on PORT). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestLogging(deps));
  app.use((req, res, next) => {
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      deps.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });

  app.use(healthRoutes(deps.readiness, deps.metrics));
  app.use(publicRoutes({ assets: deps.assets, signer: deps.signer, gifs: deps.gifs, logger: deps.logger }));
  const document = openApiDocument();
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(document);
  });

  app.use(DASHBOARD_PATH, queueDashboard(deps.queue, deps.apiToken));
  app.use('/v1', requireBearer(deps.apiToken));
  app.use('/v1', jsonBody);
  app.use(rasterizeRoutes(deps.enqueuer));
  app.use(assetRoutes({ assets: deps.assets, progress: deps.progress, signer: deps.signer }));

  app.use(() => {
    throw new RasterizerError('not_found', 'no such route');
  });
  app.use(errorHandler(deps.metrics));
  return app;
}
