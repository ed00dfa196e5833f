#!/usr/bin/env bash
# Everything a fresh Debian machine needs to build and test cnbp: pnpm (at the version package.json pins), the
# workspace's dependencies, the engines (Podman, Buildah, Docker Engine, a registry) and the test stacks.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  echo "[bootstrap] installing pnpm $pnpm_version" >&2
  npm install --global --silent "pnpm@$pnpm_version"
fi
pnpm install --frozen-lockfile --reporter=silent
# the npm registry (verdaccio) the driver install tests publish to: its own lockfile, outside the workspace
[ -e scripts/npm-registry/node_modules/verdaccio/package.json ] ||
  npm ci --prefix scripts/npm-registry --ignore-scripts --no-audit --no-fund --silent
pnpm run --silent build
bash scripts/engines/start.sh
bash scripts/stacks/build.sh
