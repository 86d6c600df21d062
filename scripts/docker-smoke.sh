#!/usr/bin/env bash
# `npm run docker:smoke`: builds the product's image with a local Docker engine and runs every role
# of it against this machine's Redis and PostgreSQL and an S3 server (scripts/docker-smoke.ts).
#
#  1. A Docker engine: the running one, else Debian's docker.io daemon started here (installed with
#     apt-get when missing) with vfs storage and no bridge, as these machines allow; stopped again
#     at the end if this script started it.
#  2. A base image: $BASE_IMAGE, else node:24-bookworm-slim if present or pullable, else one built
#     locally by scripts/docker-base-image.sh (debootstrap + Node from npm; kept for the next run).
#  3. `docker build --build-arg BASE_IMAGE=...` of the repository's Dockerfile (legacy builder, host
#     network); prints the image's size, its size over the base and its largest layers.
#  4. scripts/docker-smoke.ts: render, migrate, server + worker, a moment posted and its GIF fetched.
#
# Needs root (the engine, debootstrap, chown to an arbitrary uid). SMOKE_IMAGE sets the tag built.
set -euo pipefail
cd "$(dirname "$0")/.."

t0=$(date +%s)
IMAGE="${SMOKE_IMAGE:-replay-rasterizer:smoke}"
OFFICIAL_BASE="node:24-bookworm-slim"
say() { echo "[docker-smoke] +$(($(date +%s) - t0))s $*"; }

started_dockerd=""
cleanup() {
  if [ -n "$started_dockerd" ]; then
    say "stopping the dockerd this script started (pid $started_dockerd)"
    kill "$started_dockerd" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 1; done
  fi
}
trap cleanup EXIT

# 1. engine
if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null; then
    say "installing Debian's docker.io"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  mkdir -p .tmp
  say "starting dockerd (vfs, no bridge, no iptables); log in .tmp/dockerd.log"
  setsid dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none >.tmp/dockerd.log 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 .tmp/dockerd.log; exit 1; }
fi
say "engine $(docker version -f '{{.Server.Version}}'), storage $(docker info -f '{{.Driver}}')"

# 2. base image
base="${BASE_IMAGE:-}"
if [ -z "$base" ]; then
  if docker image inspect "$OFFICIAL_BASE" >/dev/null 2>&1 || timeout 30 docker pull -q "$OFFICIAL_BASE" >/dev/null 2>&1; then
    base="$OFFICIAL_BASE"
  else
    say "no registry reachable: building a local base image"
    command -v debootstrap >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
    base="$(bash scripts/docker-base-image.sh)"
  fi
fi
base_size=$(docker image inspect -f '{{.Size}}' "$base")
say "base $base ($((base_size / 1000000)) MB)"

# 3. build. The build stage gets a tag of its own so that pruning old images below keeps its cache
# (npm ci is skipped while package-lock.json is unchanged).
build_t=$(date +%s)
export DOCKER_BUILDKIT=0
docker build -q --network=host --build-arg BASE_IMAGE="$base" --target build -t "$IMAGE-build" . >/dev/null
docker build -q --network=host --build-arg BASE_IMAGE="$base" -t "$IMAGE" . >/dev/null
build_s=$(($(date +%s) - build_t))
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
over=$((size - base_size))
say "built $IMAGE in ${build_s}s: $((size / 1000000)) MB, $((over / 1000000)) MB over the base"
docker history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" \
  | awk -F'\t' '$1 !~ /^0B$/ { sub(/^\/bin\/sh -c (#\(nop\) )?/, "", $2); printf "    %9s  %.110s\n", $1, $2 }' | head -8
# Earlier builds of these tags are dangling now; with vfs every layer is a full copy, so drop them.
docker image prune -f >/dev/null

# 4. the roles
export PATH="$(bash scripts/node24.sh):$PATH"
SMOKE_REPORT_IMAGE_MB=$((size / 1000000)) SMOKE_REPORT_BASE_MB=$((base_size / 1000000)) SMOKE_REPORT_OVER_BASE_MB=$((over / 1000000)) \
SMOKE_REPORT_BUILD_S=$build_s SMOKE_REPORT_BASE="$base" \
  node_modules/.bin/tsx scripts/docker-smoke.ts "$IMAGE"
say "done in $(($(date +%s) - t0))s"
