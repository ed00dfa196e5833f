#!/usr/bin/env bash
# The main job, from a fresh Debian machine: install everything, build cnbp, and use it on examples/hello:
# validate its descriptors, create its builder (cnbp's own lifecycle, the hello buildpack, the busybox test
# stack) in the local registry, inspect it, build the app with it in Podman and run the app image.
# Until `cnbp build` lands (it will drive the engines itself), the build step starts the builder's creator
# with podman directly, the way a platform runs a trusted builder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
cnbp() { node packages/cli/dist/main.js "$@"; }
BUILDER=127.0.0.1:5000/cnbp/examples-hello-builder
APP=127.0.0.1:5000/cnbp/examples-hello:latest

echo "== cnbp validate examples/hello"
cnbp validate examples/hello
echo "== cnbp builder create $BUILDER"
cnbp builder create "$BUILDER" --config examples/hello/builder.toml --publish
echo "== cnbp builder inspect $BUILDER"
cnbp builder inspect "$BUILDER"
echo "== build examples/hello/app with the builder (its /cnb/lifecycle/creator, in Podman)"
podman run --rm --pull always --network host --user 0:0 -e CNB_PLATFORM_API=0.15 \
  -v "$PWD/examples/hello/app:/workspace" -v /layers "$BUILDER" /cnb/lifecycle/creator "$APP"
echo "== run $APP"
podman run --rm --pull always "$APP"
