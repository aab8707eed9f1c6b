#!/usr/bin/env bash
# Makes the Docker runtime usable on this machine, idempotently:
#   1. the Docker Engine answers on /var/run/docker.sock (installs docker.io and starts dockerd when needed), and
#   2. the default agent image exists (Debian bookworm minbase + python3, built with debootstrap and `docker import`:
#      no image registry is reachable here, only the Debian mirror apt uses).
# Usage: tools/docker-image.sh [--engine-only] [TAG]   (TAG defaults to aegis/python:bookworm)
# Each step is skipped when already done, so `./aegis test` may call this on every run. Progress goes to stderr.
set -euo pipefail

ENGINE_ONLY=0
if [ "${1:-}" = --engine-only ]; then ENGINE_ONLY=1; shift; fi
TAG="${1:-aegis/python:bookworm}"
STATE="${AEGIS_DOCKER_STATE:-/var/lib/aegis-docker}"   # dockerd's log and pid file, the rootfs tarball cache
LOG="$STATE/dockerd.log"
PIDFILE="$STATE/dockerd.pid"
SOCK=/var/run/docker.sock

say() { echo "docker-image: $*" >&2; }
die() { say "$*"; exit 1; }

engine_up() { docker -H "unix://$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root: run 'sudo $0' once, or $2"; }

install_pkg() { # install_pkg COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  need_root "installing $2" "install it yourself: apt-get install $2"
  say "installing $2 (for $1)..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 || true; DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; } \
    || die "could not install $2: run 'apt-get install $2' and look at its error"
}

start_engine() {
  engine_up && return 0
  install_pkg dockerd docker.io
  install_pkg docker docker.io
  need_root "starting dockerd" "start it yourself: dockerd --iptables=false --bridge=none"
  mkdir -p "$STATE"
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    say "dockerd (pid $(cat "$PIDFILE")) is starting; waiting for it"
  else
    # No bridge and no iptables: sandboxes run with network none, and this host may not allow netfilter changes.
    # setsid: dockerd must outlive the shell (and the Maven test JVM) that started it.
    say "starting dockerd (log: $LOG)..."
    setsid dockerd --iptables=false --bridge=none </dev/null >>"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
  fi
  for _ in $(seq 1 120); do engine_up && { say "dockerd is up"; return 0; }; sleep 0.25; done
  die "dockerd did not answer on $SOCK within 30 s; the last lines of $LOG say why: $(tail -n 3 "$LOG" 2>/dev/null | tr '\n' ' ')"
}

mirror() {
  local m
  m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# The rootfs tarball is cached beside dockerd's state: rebuilding the image after `docker system prune` takes seconds.
build_tarball() {
  local tarball="$1" dir
  install_pkg debootstrap debootstrap
  dir=$(mktemp -d "$STATE/rootfs.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $dir is local
  trap "rm -rf '$dir'" EXIT
  say "debootstrap bookworm (minbase + python3) from $(mirror); takes a minute or two once..."
  debootstrap --variant=minbase --include=python3 bookworm "$dir" "$(mirror)" >"$STATE/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $STATE/debootstrap.log (is $(mirror) reachable?)"
  # The agent's identity: uid/gid 1000 named aegis, home /workspace (the only writable place besides /tmp).
  echo 'aegis:x:1000:1000:aegis agent:/workspace:/bin/sh' >>"$dir/etc/passwd"
  echo 'aegis:x:1000:' >>"$dir/etc/group"
  echo aegis >"$dir/etc/hostname"
  mkdir -p "$dir/workspace" "$dir/agent" "$dir/run/aegis" "$dir/opt/aegis/python"
  # Nothing an agent needs: package caches, docs, man pages.
  rm -rf "$dir"/var/cache/apt/* "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  tar -C "$dir" --numeric-owner -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
  say "rootfs cached at $tarball ($(du -h "$tarball" | cut -f1))"
}

build_image() {
  docker image inspect "$TAG" >/dev/null 2>&1 && return 0
  need_root "building $TAG" "build it as root once: sudo $0 $TAG"
  mkdir -p "$STATE"
  local tarball="$STATE/rootfs-bookworm-python3.tar"
  [ -f "$tarball" ] || build_tarball "$tarball"
  say "importing $tarball as $TAG..."
  docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8' \
    --change 'USER 1000:1000' --change 'WORKDIR /agent' --change 'CMD ["/bin/sh"]' \
    --message "aegis agent image: Debian bookworm minbase + python3" \
    "$tarball" "$TAG" >/dev/null
  say "built $TAG"
}

start_engine
[ "$ENGINE_ONLY" = 1 ] || build_image
