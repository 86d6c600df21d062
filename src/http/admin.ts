import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';

/** Where the queue dashboard (bull-board) is mounted; bull-board needs it to build its links. */
export const DASHBOARD_PATH = '/admin/queues';

/**
 * `QUEUE_DASHBOARD`: `read-only` (default) shows queues and jobs; `read-write` also lets operators
 * retry, promote, clean and remove jobs and pause the queue; `off` serves nothing.
 */
export const dashboardEnvSchema = z.object({
  QUEUE_DASHBOARD: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v),
    z.enum(['read-only', 'read-write', 'off'], { error: 'must be read-only, read-write or off' }).default('read-only'),
  ),
});
export type DashboardMode = z.infer<typeof dashboardEnvSchema>['QUEUE_DASHBOARD'];

export function dashboardModeFromEnv(env: NodeJS.ProcessEnv = process.env): DashboardMode {
  const parsed = dashboardEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`QUEUE_DASHBOARD: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data.QUEUE_DASHBOARD;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The API token, as `Authorization: Bearer <token>` (scripts, proxies) or as the password of HTTP
 * Basic auth with any user name, so that a browser can open the dashboard: it asks once and sends
 * the credentials with every request under this path. Compared as digests in constant time.
 */
function requireToken(token: string): RequestHandler {
  const expected = digest(token);
  const matches = (given: string) => timingSafeEqual(digest(given), expected);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const password = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').replace(/^[^:]*:/, '') : undefined;
    if ((bearer && matches(bearer[1]!)) || (password !== undefined && matches(password))) {
      next();
      return;
    }
    res
      .status(401)
      .set('www-authenticate', 'Basic realm="replay-rasterizer queues", charset="UTF-8"')
      .json({ error: 'unauthorized', message: 'send Authorization: Bearer <RASTERIZER_API_TOKEN> (or the token as the Basic auth password)' });
  };
}

/**
 * Changes are refused outright in read-only mode (bull-board also refuses them per queue). In
 * read-write mode a browser sends Basic credentials with any request to this origin, including one
 * a page on another site makes it send: changes coming from another origin are refused.
 */
function guardChanges(mode: DashboardMode): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (mode !== 'read-write') {
      res.status(403).json({ error: 'read_only', message: 'the queue dashboard is read-only; set QUEUE_DASHBOARD=read-write to allow changes' });
      return;
    }
    const origin = req.get('origin');
    const site = req.get('sec-fetch-site');
    const foreign = (site !== undefined && site !== 'same-origin') || (origin !== undefined && origin !== 'null' && URL.canParse(origin) && new URL(origin).host !== req.get('host'));
    if (foreign || origin === 'null') {
      res.status(403).json({ error: 'cross_origin', message: 'changes to the queues must come from the dashboard itself' });
      return;
    }
    next();
  };
}

/**
 * The BullMQ dashboard operators know (bull-board) for the rasterize queue, behind the API token.
 * Mount it at DASHBOARD_PATH: `app.use(DASHBOARD_PATH, queueDashboard(queue, token))`.
 */
export function queueDashboard(queue: Queue, apiToken: string, mode: DashboardMode = dashboardModeFromEnv()): Router {
  const router = Router();
  if (mode === 'off') return router;
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: mode === 'read-only' })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'replay-rasterizer' } },
  });
  router.use(requireToken(apiToken), guardChanges(mode), serverAdapter.getRouter() as RequestHandler);
  return router;
}
