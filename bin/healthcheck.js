#!/usr/bin/env node
// The image's HEALTHCHECK: GET HEALTHCHECK_URL (the worker sets it to its WORKER_METRICS_PORT
// listener), else the server's /healthz on PORT. Exit 0 when it answers 2xx within 4 s.
const url = process.env.HEALTHCHECK_URL || `http://127.0.0.1:${process.env.PORT || 8080}/healthz`;
fetch(url, { signal: AbortSignal.timeout(4000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
