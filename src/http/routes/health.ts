import { Router } from 'express';
import type { Metrics } from '../../observability/metrics.js';
import { withDeadline } from '../../util/deadline.js';

export type ReadinessCheck = (signal: AbortSignal) => Promise<void>;

const CHECK_TIMEOUT_MS = 3000;

async function runCheck(check: ReadinessCheck): Promise<string> {
  const abort = new AbortController();
  try {
    await withDeadline(check(abort.signal), CHECK_TIMEOUT_MS, 'the check');
    return 'ok';
  } catch (err) {
    abort.abort();
    return (err as Error).message || String(err);
  }
}

/** /healthz: the process answers. /readyz: Redis, PostgreSQL and S3 answer too. /metrics: Prometheus. */
export function healthRoutes(checks: Record<string, ReadinessCheck>, metrics: Metrics): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((n) => runCheck(checks[n]!)));
    const report = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
    const ok = results.every((r) => r === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks: report });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}
