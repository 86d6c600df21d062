# One image for `server`, `worker`, `migrate` and `render`:
#   docker build -t replay-rasterizer .
#   docker run --env-file .env replay-rasterizer server|worker|migrate
#   docker run -v "$PWD:/data" replay-rasterizer render /data/rec.json.gz --out /data/out.gif

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY player ./player
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# Debian's headless Chromium and the fonts recorded pages ask for most: Latin (Liberation, DejaVu),
# Noto for other scripts, CJK and colour emoji. tini reaps Chromium's children and forwards SIGTERM.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      chromium-headless-shell ca-certificates tini \
      fonts-liberation fonts-dejavu-core fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    CHROMIUM_PATH=/usr/bin/chromium-headless-shell \
    PORT=8080 \
    WORKER_METRICS_PORT=9464
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/player ./player
COPY --from=build /app/migrations ./migrations
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 8080 9464
# The server's /healthz; the worker sets HEALTHCHECK_URL=http://127.0.0.1:9464/healthz (see docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/replay-rasterizer.js"]
CMD ["server"]
