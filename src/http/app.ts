import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Producer } from '../producer/producer.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { DASHBOARD_PATH, queueDashboard } from './admin.js';
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

/**
 * The token in a public preview path is a credential: logs get the route, not the token. No route
 * reads a query string, and clients do put tokens there: logs get `?[redacted]`.
 */
function loggedPath(url: string): string {
  return url.replace(/^\/public\/previews\/[^/?#]+/, '/public/previews/[token]').replace(/\?.*$/s, '?[redacted]');
}

/** The largest JSON body the API reads. */
const BODY_LIMIT_BYTES = 256 * 1024;

/** Whether the request carries a body (a length above 0, or chunked). */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Before the JSON parser: a body that is not JSON gets 415 (the parser would skip it and the route
 * would answer "team_id is required"), and a declared length over the limit gets 413 at once, on a
 * connection that is then closed (the parser would first wait for every declared byte).
 */
const checkBody: RequestHandler = (req, res, next) => {
  if (!hasBody(req)) return next();
  if (!req.is('application/json')) {
    const type = req.get('content-type');
    res.status(415).json({
      error: 'unsupported_media_type',
      message: `send the body as JSON with Content-Type: application/json${type ? ` (got ${type.slice(0, 100)})` : ' (none was sent)'}`,
      fields: { 'content-type': 'must be application/json' },
    });
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > BODY_LIMIT_BYTES) {
    res.set('connection', 'close').status(413).json({ error: 'too_large', message: `the body is over ${BODY_LIMIT_BYTES / 1024} KiB` });
    return;
  }
  next();
};

/**
 * Right after the JSON parser, so it sees only the parser's errors: every one is the client's (bad
 * JSON, too large, an unknown charset or encoding, a compressed body that does not inflate), never
 * a 500.
 */
const bodyErrors: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.too.large' || e.status === 413) {
    res.status(413).json({ error: 'too_large', message: `the body is over ${BODY_LIMIT_BYTES / 1024} KiB` });
  } else if (e.type === 'entity.parse.failed') {
    res.status(400).json({ error: 'invalid_json', message: 'the body is not valid JSON', fields: { body: 'the body is not valid JSON' } });
  } else if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported' || e.status === 415) {
    res.status(415).json({ error: 'unsupported_media_type', message: `${e.message ?? 'unsupported body encoding'}; send UTF-8 JSON, plain, gzip, deflate or br` });
  } else {
    res.status(400).json({ error: 'invalid_body', message: `the body could not be read: ${String(e.message ?? err).slice(0, 200)}`, fields: { body: 'could not be read' } });
  }
};

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

  app.use(DASHBOARD_PATH, queueDashboard(deps.producer.queue, deps.apiToken));
  app.use('/v1', requireBearer(deps.apiToken));
  app.use('/v1', checkBody);
  app.use(express.json({ limit: BODY_LIMIT_BYTES }));
  app.use(bodyErrors);
  app.use(rasterizeRoutes(deps.producer));
  app.use(assetRoutes(deps.producer));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'no such route' });
  });
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
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
