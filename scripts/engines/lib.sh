# Shared by start.sh and stop.sh: where the engines' state lives, and small helpers.
# shellcheck shell=bash
STATE_DIR="${CNBP_ENGINES_STATE:-${TMPDIR:-/tmp}/cnbp-engines}"
REGISTRY_ADDR="${CNBP_REGISTRY_ADDR:-127.0.0.1:5000}"
DOCKER_SOCK="${CNBP_DOCKER_SOCK:-/var/run/docker.sock}"

log() { printf '[engines] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# True when the process recorded in $1 (a pid file) is alive.
pid_alive() {
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

docker_ping() { curl -fsS --max-time 2 --unix-socket "$DOCKER_SOCK" http://localhost/_ping >/dev/null 2>&1; }
registry_ping() { curl -fsS --max-time 2 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

# wait_for SECONDS WHAT CHECK...: polls CHECK every 0.25 s until it passes or time runs out.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local tries=$((seconds * 4))
  while ! "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.25
  done
  log "$what is up"
}
