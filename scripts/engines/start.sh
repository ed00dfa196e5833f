#!/usr/bin/env bash
# Installs (from Debian's packages) and starts the engines cnbp's tests use: Podman with Buildah, skopeo and
# slirp4netns (the Podman driver's build network), Docker Engine, and an OCI registry on 127.0.0.1:5000.
# Idempotent: what is installed is not installed again, what runs is left running. Processes it starts are
# recorded by pid in the state dir; stop.sh ends only those.
# Environment: CNBP_ENGINES_STATE (state dir), CNBP_REGISTRY_ADDR (default 127.0.0.1:5000).
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

PACKAGES=(podman buildah skopeo slirp4netns runc uidmap docker.io docker-registry iptables debootstrap busybox-static
  umoci curl apache2-utils binutils patchelf)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Podman on these machines needs runc (crun fails on cgroup v1 hybrid) and rlimits the kernel grants.
configure_podman() {
  as_root mkdir -p /etc/containers/containers.conf.d /etc/containers/registries.conf.d
  as_root tee /etc/containers/containers.conf.d/50-cnbp.conf >/dev/null <<'CONF'
# written by cnbp's scripts/engines/start.sh
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
  as_root tee "/etc/containers/registries.conf.d/50-cnbp-registry-${REGISTRY_ADDR//:/-}.conf" >/dev/null <<CONF
# written by cnbp's scripts/engines/start.sh: the tests' registry speaks plain HTTP on loopback
[[registry]]
location = "$REGISTRY_ADDR"
insecure = true
CONF
  podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null || die "podman does not work: run 'podman info' to see why"
}

start_docker() {
  if docker_ping; then log "Docker Engine already answers on $DOCKER_SOCK"; return; fi
  log "starting dockerd"
  as_root sh -c "nohup dockerd --host unix://$DOCKER_SOCK --pidfile '$STATE_DIR/dockerd.pid' >'$STATE_DIR/dockerd.log' 2>&1 &"
  wait_for 60 "Docker Engine" docker_ping || die "dockerd did not answer /_ping within 60 s; see $STATE_DIR/dockerd.log"
}

start_registry() {
  if registry_ping; then log "registry already answers on $REGISTRY_ADDR"; return; fi
  mkdir -p "$STATE_DIR/registry"
  cat >"$STATE_DIR/registry.yml" <<CONF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $STATE_DIR/registry }
  delete: { enabled: true }
http:
  addr: $REGISTRY_ADDR
CONF
  log "starting the registry on $REGISTRY_ADDR"
  nohup docker-registry serve "$STATE_DIR/registry.yml" >"$STATE_DIR/registry.log" 2>&1 &
  echo $! >"$STATE_DIR/registry.pid"
  wait_for 30 "registry" registry_ping || die "the registry did not answer within 30 s; see $STATE_DIR/registry.log"
}

mkdir -p "$STATE_DIR"
install_packages
configure_podman
start_docker
start_registry
log "ready: podman $(podman version --format '{{.Client.Version}}'), buildah $(buildah version | awk '/^Version/{print $2}'), docker $(curl -fsS --unix-socket "$DOCKER_SOCK" http://localhost/version | sed 's/.*"Version":"\([^"]*\)".*/\1/'), registry $REGISTRY_ADDR"
