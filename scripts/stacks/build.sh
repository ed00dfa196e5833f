#!/usr/bin/env bash
# Builds cnbp's local test stacks from Debian packages (no base image can be pulled on our machines) and puts
# them into Podman, Docker and the local registry:
#   debian:  localhost/cnbp-stacks/debian-build:bookworm,  localhost/cnbp-stacks/debian-run:bookworm
#            (debootstrap --variant=minbase, with debootstrap's default mirror)
#   busybox: localhost/cnbp-stacks/busybox-build:latest,   localhost/cnbp-stacks/busybox-run:latest
#            (busybox-static only: a ~2 MB stack for fast tests)
# In the registry they are 127.0.0.1:5000/cnbp-stacks/<name>:<tag>. Both are shaped like CNB base images: a `cnb`
# user, CNB_USER_ID/CNB_GROUP_ID in the build image, USER, PATH, io.buildpacks.base.* labels, os/arch.
# Cached: every image carries the hash of this script's inputs (label io.cnbp.stack.inputs), and a copy whose hash
# matches is left alone. Needs root (Podman's system storage) and the engines from scripts/engines/start.sh.
# Environment: CNBP_STACK_BUILD_UID (1000), CNBP_STACK_RUN_UID (1001), CNBP_STACK_GID (1000), CNBP_REGISTRY_ADDR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../engines/lib.sh"

BUILD_UID=${CNBP_STACK_BUILD_UID:-1000}
RUN_UID=${CNBP_STACK_RUN_UID:-1001}
GID=${CNBP_STACK_GID:-1000}
SUITE=bookworm
# Fixed times make the rootfs tars and image configs the same bytes for the same packages.
export SOURCE_DATE_EPOCH=315532801 # 1980-01-01T00:00:01Z, the CNB epoch
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
INPUTS=$(cat "$0" "$here/../engines/lib.sh" | sha256sum | cut -c1-16)-$BUILD_UID-$RUN_UID-$GID
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cnbp-stacks.XXXXXX")
trap 'rm -rf "$WORK"; buildah rm --all >/dev/null 2>&1 || true' EXIT

log() { printf '[stacks] %s\n' "$*" >&2; }
# quiet CMD...: runs CMD, showing its output only when it fails (skopeo logs storage-driver chatter).
quiet() { "$@" >"$WORK/out.log" 2>&1 || { cat "$WORK/out.log" >&2; return 1; }; }

# replaced IMAGE ENGINE ID: removes the image an update replaced, unless something still uses it.
replaced() { [ -z "$3" ] || [ "$3" = "$($2 image inspect --format '{{.Id}}' "$1" 2>/dev/null)" ] || $2 rmi "$3" >/dev/null 2>&1 || true; }
image_id() { $2 image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

label_in_podman() { podman image inspect --format '{{index .Labels "io.cnbp.stack.inputs"}}' "$1" 2>/dev/null || true; }
label_in_docker() { docker image inspect --format '{{index .Config.Labels "io.cnbp.stack.inputs"}}' "$1" 2>/dev/null || true; }
label_in_registry() {
  skopeo inspect --tls-verify=false --format '{{index .Labels "io.cnbp.stack.inputs"}}' "docker://$1" 2>/dev/null || true
}

# tar_rootfs DIR OUT: a reproducible tar of DIR (sorted, fixed mtimes, numeric owners).
tar_rootfs() {
  tar -C "$1" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --numeric-owner --xattrs -cf "$2" .
}

# import_base NAME TAR: a one-layer image from a rootfs tar.
import_base() {
  local old; old=$(image_id "$1" podman)
  podman import --quiet --change "ENV PATH=$PATH_ENV" --change "LABEL io.cnbp.stack.inputs=$BASE_INPUTS" "$2" "$1" >/dev/null
  replaced "$1" podman "$old"
}

debian_base() {
  local image=localhost/cnbp-stacks/debian-base:$SUITE
  [ "$(label_in_podman "$image")" = "$BASE_INPUTS" ] && return
  log "debootstrap --variant=minbase $SUITE (about half a minute)"
  local rootfs=$WORK/debian
  debootstrap --variant=minbase "$SUITE" "$rootfs" >"$WORK/debootstrap.log" 2>&1 ||
    { cat "$WORK/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/tmp/*
  tar_rootfs "$rootfs" "$WORK/debian.tar"
  import_base "$image" "$WORK/debian.tar"
}

busybox_base() {
  local image=localhost/cnbp-stacks/busybox-base:latest
  [ "$(label_in_podman "$image")" = "$BASE_INPUTS" ] && return
  log "assembling the busybox rootfs"
  local rootfs=$WORK/busybox
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,home,tmp}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  /bin/busybox --list-full | while read -r app; do
    [ -e "$rootfs/$app" ] || ln -s /bin/busybox "$rootfs/$app"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  printf 'ID=busybox\nNAME=BusyBox\nVERSION_ID=%s\n' "$(busybox_version)" >"$rootfs/etc/os-release"
  tar_rootfs "$rootfs" "$WORK/busybox.tar"
  import_base "$image" "$WORK/busybox.tar"
}

# sed reads all of busybox's output: with `head`, busybox could die of SIGPIPE and fail the pipeline.
busybox_version() { /bin/busybox 2>&1 | sed -n -E '1s/^BusyBox v([0-9.]+).*/\1/p'; }

# derive BASE IMAGE UID KIND DISTRO VERSION ADDUSER: a build or run image from a base, with a cnb user.
derive() {
  local base=$1 image=$2 uid=$3 kind=$4 distro=$5 version=$6 adduser=$7
  [ "$(label_in_podman "$image")" = "$INPUTS" ] && return
  log "making $image"
  local ctr; ctr=$(buildah from --quiet --pull-never "$base")
  buildah run "$ctr" -- sh -c "$adduser" >/dev/null
  local id=io.cnbp.stacks.$distro-$version
  local args=(--user "$uid:$GID" --workingdir / --os linux --arch amd64 --env "PATH=$PATH_ENV"
    --label "io.buildpacks.base.id=$id" --label "io.buildpacks.stack.id=$id"
    --label "io.buildpacks.base.distro.name=$distro" --label "io.buildpacks.base.distro.version=$version"
    --label "io.buildpacks.base.maintainer=cnbp" --label "io.buildpacks.base.description=cnbp test stack ($kind image)"
    --label "io.cnbp.stack.inputs=$INPUTS")
  if [ "$kind" = build ]; then
    args+=(--env "CNB_USER_ID=$uid" --env "CNB_GROUP_ID=$GID" --env "CNB_STACK_ID=$id")
  else
    args+=(--label "io.buildpacks.rebasable=true")
  fi
  buildah config "${args[@]}" "$ctr"
  local old; old=$(image_id "$image" podman)
  buildah commit --quiet --timestamp "$SOURCE_DATE_EPOCH" --identity-label=false --rm "$ctr" "$image" >/dev/null
  replaced "$image" podman "$old"
}

debian_user() { echo "groupadd -g $GID cnb && useradd -u $1 -g $GID -m -s /bin/bash cnb"; }
# Debian's busybox has no adduser applet: write the entries directly.
busybox_user() {
  echo "echo cnb:x:$GID: >>/etc/group && echo cnb:x:$1:$GID:cnb:/home/cnb:/bin/sh >>/etc/passwd &&" \
    "mkdir -p /home/cnb && chown $1:$GID /home/cnb"
}

# publish IMAGE: copy from Podman into Docker and into the registry, where the copy there is not current.
publish() {
  local image=$1 remote=$REGISTRY_ADDR/${1#localhost/}
  if [ "$(label_in_docker "$image")" != "$INPUTS" ]; then
    log "loading $image into Docker"
    local old; old=$(image_id "$image" docker)
    quiet skopeo copy --quiet "containers-storage:$image" "docker-daemon:$image"
    replaced "$image" docker "$old"
  fi
  if [ "$(label_in_registry "$remote")" != "$INPUTS" ]; then
    log "pushing $remote"
    quiet skopeo copy --quiet --dest-tls-verify=false "containers-storage:$image" "docker://$remote"
  fi
}

# The base rootfs images depend only on the functions that make them: editing the rest of this script re-derives
# the stacks without running debootstrap again.
BASE_INPUTS=$(declare -f tar_rootfs import_base debian_base busybox_base busybox_version | sha256sum | cut -c1-16)-$SUITE

registry_ping || die "no registry answers on $REGISTRY_ADDR: run scripts/engines/start.sh first"
debian_base
busybox_base
derive localhost/cnbp-stacks/debian-base:$SUITE localhost/cnbp-stacks/debian-build:$SUITE "$BUILD_UID" build debian 12 "$(debian_user "$BUILD_UID")"
derive localhost/cnbp-stacks/debian-base:$SUITE localhost/cnbp-stacks/debian-run:$SUITE "$RUN_UID" run debian 12 "$(debian_user "$RUN_UID")"
bb=$(busybox_version)
derive localhost/cnbp-stacks/busybox-base:latest localhost/cnbp-stacks/busybox-build:latest "$BUILD_UID" build busybox "$bb" "$(busybox_user "$BUILD_UID")"
derive localhost/cnbp-stacks/busybox-base:latest localhost/cnbp-stacks/busybox-run:latest "$RUN_UID" run busybox "$bb" "$(busybox_user "$RUN_UID")"
for image in localhost/cnbp-stacks/{debian-build,debian-run}:$SUITE localhost/cnbp-stacks/{busybox-build,busybox-run}:latest; do
  publish "$image"
done
log "stacks ready (inputs $INPUTS)"
