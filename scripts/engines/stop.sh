#!/usr/bin/env bash
# Stops what start.sh started (by the pids it recorded), and nothing else.
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

stop_pid() {
  local name=$1 file="$STATE_DIR/$1.pid"
  if ! pid_alive "$file"; then rm -f "$file"; return; fi
  local pid; pid=$(cat "$file")
  log "stopping $name (pid $pid)"
  as_root kill "$pid"
  for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && as_root kill -9 "$pid"
  rm -f "$file"
}

stop_pid registry
stop_pid dockerd
