# One image for `server`, `worker`, `migrate` and `render` (README: "Docker"):
#   docker build -t replay-rasterizer .
#   docker run --env-file .env replay-rasterizer server|worker|migrate
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/data" replay-rasterizer render /data/rec.json.gz --out /data/out.gif
# Build arguments:
#   BASE_IMAGE  a Node 24 Debian bookworm image (default the official slim one; scripts/docker-base-image.sh
#               makes an equivalent where no registry is reachable)
#   CJK_FONTS   false leaves out the Chinese, Japanese and Korean fonts (91 MB): pages in those scripts
#               then render with missing glyphs
ARG BASE_IMAGE=node:24-bookworm-slim

# The project's own build; what ships is what its npm package ships (package.json `files`, so a new
# runtime folder is listed there once) plus the production dependencies.
FROM ${BASE_IMAGE} AS build
# A C compiler for native/keep-pages.c (src/render/keep-pages.ts); only this stage has it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# TypeScript (23 MB) stays after the prune only as an optional peer of valibot (bull-board's schema
# library), which needs it for type declarations alone: nothing loads it at run time.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/typescript node_modules/.bin/tsc node_modules/.bin/tsserver \
 && mkdir /out \
 && tar -xzf "/tmp/$(npm pack --silent --pack-destination /tmp)" -C /out --strip-components=1 \
 && mv node_modules /out/

FROM ${BASE_IMAGE}
# Settings first: under the vfs storage driver (no overlay filesystem, as on our CI machines) every
# instruction copies the whole file system, which is cheapest before Chromium is in it.
ENV NODE_ENV=production \
    CHROMIUM_PATH=/usr/bin/chromium-headless-shell \
    PORT=8080 \
    WORKER_METRICS_PORT=9464
WORKDIR /app
EXPOSE 8080 9464
# The server's /healthz; the worker sets HEALTHCHECK_URL=http://127.0.0.1:9464/healthz (see docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/replay-rasterizer.js"]
CMD ["server"]

ARG CJK_FONTS=true
# Debian's headless Chromium and the fonts recorded pages ask for most: Latin (Liberation, DejaVu),
# Noto for other scripts, CJK (see CJK_FONTS) and colour emoji. tini reaps Chromium's children and
# forwards SIGTERM.
# fontconfig builds the system font cache once here: Chromium would otherwise scan every font at each
# launch (nothing can cache it later on a read-only root file system).
# What is left out: documentation and translations (dpkg's path-exclude, as slim images do), the
# Vulkan validation layer and mock driver chromium-common ships for debugging (24 MB), and
# the X11 and desktop tools the full browser's package wants (x11-utils, xdg-utils, through
# chromium-common): x11-utils alone pulls in Mesa's GPU drivers, LLVM, Z3 and ICU (~200 MB). The
# headless shell runs none of them (no display; --disable-gpu, its software GL is SwiftShader from
# chromium-common), so two empty stand-in packages satisfy those dependencies instead.
RUN set -eu; \
    printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
      'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/locale/*' \
      'path-exclude=/usr/lib/chromium/libVkLayer_khronos_validation.so*' 'path-exclude=/usr/lib/chromium/libVkICD_mock_icd.so*' \
      >/etc/dpkg/dpkg.cfg.d/replay-rasterizer-excludes; \
    for pkg in x11-utils xdg-utils; do \
      mkdir -p "/tmp/$pkg/DEBIAN"; \
      printf 'Package: %s\nVersion: 99:0-headless\nArchitecture: all\nMaintainer: replay-rasterizer\nDescription: empty stand-in (the image runs only the headless shell)\n' "$pkg" >"/tmp/$pkg/DEBIAN/control"; \
      dpkg-deb --build "/tmp/$pkg" "/tmp/$pkg.deb" >/dev/null; \
      dpkg -i "/tmp/$pkg.deb" >/dev/null; \
      rm -rf "/tmp/$pkg" "/tmp/$pkg.deb"; \
    done; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
      chromium-headless-shell ca-certificates tini fontconfig \
      fonts-liberation fonts-dejavu-core fonts-noto-core fonts-noto-color-emoji \
      $(if [ "$CJK_FONTS" = true ]; then echo fonts-noto-cjk; fi); \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log

COPY --from=build /out ./
# The base image's unprivileged user (uid 1000). `docker run --user` with any other uid works too:
# nothing under /app needs writing, and Chromium's profile goes to a fresh temporary folder.
USER node
