import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process. The worker owns the render metrics (it is the only process that sees a
 * render); the server owns HTTP metrics and the queue depth, which it reads from Redis on scrape.
 */
export interface Metrics {
  registry: Registry;
  jobs: Counter<'outcome'>;
  renderSeconds: Histogram;
  frames: Histogram;
  gifBytes: Histogram;
  /** GIFs the byte budget degraded, by kind of step (lossy, colors, fps): how often MAX_BYTES costs fidelity. */
  budgetSteps: Counter<'step'>;
  /** Renders started again in a fresh browser because the first stopped answering (a stalled begin-frame, most often). */
  renderRestarts: Counter;
  queueDepth: Gauge<'state'>;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  /** Every error a job or a request ended with, by its code (src/errors.ts): the code is the label. */
  errors: Counter<'code'>;
  /** Assets the replay pages got from the worker's asset cache instead of the recorded site (read from the cache when scraped). */
  assetCacheHits: Counter;
  /** Bytes the worker's asset cache holds, read when scraped (absent without a cache). */
  assetCacheBytes: Gauge;
}

export type JobOutcome = 'completed' | 'skipped' | 'retried' | 'failed';

export function createMetrics(
  options: { collectQueueDepth?: () => Promise<Record<string, number>>; assetCacheBytes?: () => number; assetCacheHits?: () => number } = {},
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rasterizer_process_' });
  const { collectQueueDepth, assetCacheBytes, assetCacheHits } = options;
  let hitsCounted = 0;
  return {
    registry,
    jobs: new Counter({
      name: 'rasterizer_jobs_total',
      help: 'Render jobs by outcome: completed, skipped (already done), retried (transient failure), failed (for good)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    renderSeconds: new Histogram({
      name: 'rasterizer_render_seconds',
      help: 'Wall time of a render (load, replay, capture, encode), in seconds',
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    frames: new Histogram({
      name: 'rasterizer_gif_frames',
      help: 'Frames written per GIF',
      buckets: [10, 25, 50, 100, 200, 400, 800, 1600, 3200],
      registers: [registry],
    }),
    gifBytes: new Histogram({
      name: 'rasterizer_gif_bytes',
      help: 'Size of each GIF uploaded, in bytes',
      buckets: [16e3, 64e3, 256e3, 1e6, 4e6, 16e6, 64e6],
      registers: [registry],
    }),
    budgetSteps: new Counter({
      name: 'rasterizer_budget_steps_total',
      help: 'GIFs their byte budget degraded, by kind of step applied (lossy, colors, fps); a GIF degraded by several kinds counts under each. Compare with rasterizer_jobs_total{outcome="completed"}',
      labelNames: ['step'],
      registers: [registry],
    }),
    renderRestarts: new Counter({
      name: 'rasterizer_render_restarts_total',
      help: 'Renders that completed after starting again in a fresh browser, the first having stopped answering (a begin-frame Chromium never answered, most often)',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'rasterizer_queue_jobs',
      help: 'Jobs in the rasterize-recording queue by state, read from Redis when scraped',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        if (!collectQueueDepth) return;
        // With Redis away, /metrics still answers (process and HTTP metrics) and the depth is absent.
        const counts = await collectQueueDepth().catch(() => undefined);
        this.reset();
        for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
      },
    }),
    httpRequests: new Counter({
      name: 'rasterizer_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'rasterizer_errors_total',
      help: 'Errors by code (src/errors.ts): failed job attempts in the worker, error answers in the server',
      labelNames: ['code'],
      registers: [registry],
    }),
    assetCacheHits: new Counter({
      name: 'rasterizer_asset_cache_hits_total',
      help: "Assets (fonts, stylesheets, pictures) replay pages got from the worker's cache instead of the recorded site (ASSET_CACHE_MB)",
      registers: [registry],
      // Read from the cache when scraped: a render that fails after its hits counts them too.
      collect() {
        const hits = assetCacheHits?.() ?? hitsCounted;
        if (hits > hitsCounted) this.inc(hits - hitsCounted);
        hitsCounted = hits;
      },
    }),
    assetCacheBytes: new Gauge({
      name: 'rasterizer_asset_cache_bytes',
      help: "Bytes the worker's asset cache holds (bodies and a fixed overhead per entry), at most ASSET_CACHE_MB",
      registers: assetCacheBytes ? [registry] : [],
      collect() {
        if (assetCacheBytes) this.set(assetCacheBytes());
      },
    }),
  };
}
