import express, { type ErrorRequestHandler, type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { Producer } from '../producer/producer.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { requireBearer } from './auth.js';
import { assetRoutes } from './routes/assets.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { publicRoutes } from './routes/public.js';
import { rasterizeRoutes } from './routes/rasterize.js';

export interface AppDeps {
  producer: Producer;
  apiToken: string;
  logger: Logger;
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
}

/** The token in a public preview path is a credential: logs get the route, not the token. */
function loggedPath(url: string): string {
  return url.replace(/^\/public\/previews\/[^/?#]+/, '/public/previews/[token]');
}

/** The express app, without listening (tests mount it on a free port; the server command on PORT). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use(
    pinoHttp({
      logger: deps.logger,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
      serializers: {
        req: (req: { method: string; url: string; id: unknown }) => ({ id: req.id, method: req.method, url: loggedPath(req.url) }),
      },
      customProps: (_req, res) => {
        const assetId = (res as { locals?: { assetId?: number } }).locals?.assetId;
        return assetId !== undefined ? { asset_id: assetId } : {};
      },
    }),
  );
  app.use((req, res, next) => {
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      deps.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });

  app.use(healthRoutes(deps.readiness, deps.metrics));
  app.use(publicRoutes(deps.producer, deps.logger));

  app.use('/v1', requireBearer(deps.apiToken));
  app.use(express.json({ limit: '256kb' }));
  app.use(rasterizeRoutes(deps.producer));
  app.use(assetRoutes(deps.producer));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'no such route' });
  });
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid_json', message: 'the body is not valid JSON', fields: { body: 'the body is not valid JSON' } });
      return;
    }
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'too_large', message: 'the body is over 256 KiB' });
      return;
    }
    req.log.error({ err }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(500).json({ error: 'internal', message: 'something went wrong on our side; try again' });
  };
  app.use(onError);
  return app;
}
