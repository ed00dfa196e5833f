#!/usr/bin/env bash
# The main job, from a fresh Debian machine: install everything, build cnbp, and use it on the example in
# examples/hello (for now: validate its buildpack, builder and project descriptors, and show the CLI's help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
cnbp() { node packages/cli/dist/main.js "$@"; }
echo "== cnbp validate examples/hello"
cnbp validate examples/hello
echo "== cnbp --help"
cnbp --help
