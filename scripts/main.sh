#!/usr/bin/env bash
# The main job, from a fresh Debian machine: install everything, build cnbp, and use it on examples/hello:
# validate its descriptors, create its builder (cnbp's own lifecycle, the hello buildpack, the busybox test
# stack) in the local registry, inspect it, build the app with `cnbp build` on Podman (no Docker daemon
# involved) and run the app image.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
cnbp() { node packages/cli/dist/main.js "$@"; }
BUILDER=127.0.0.1:5000/cnbp/examples-hello-builder
APP=localhost/cnbp/examples-hello:latest

echo "== cnbp validate examples/hello"
cnbp validate examples/hello
echo "== cnbp builder create $BUILDER"
cnbp builder create "$BUILDER" --config examples/hello/builder.toml --publish
echo "== cnbp builder inspect $BUILDER"
cnbp builder inspect "$BUILDER"
echo "== cnbp build $APP --driver podman"
cnbp build "$APP" --path examples/hello/app --builder "$BUILDER" --driver podman --pull-policy always
echo "== run $APP"
podman run --rm "$APP"
