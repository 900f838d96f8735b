#!/usr/bin/env bash
# Sets up everything deploy and its tests need on a machine of this kind, and does nothing that is
# already done (a second run takes seconds):
#   1. dependencies (npm ci), which bring a Node deploy supports (package.json's engines) from the npm registry
#      as node_modules/.bin/node, used when the system Node is not one (npm scripts put it first on PATH;
#      bin/deploy.js hands over to it);
#   2. a running Docker Engine: installed from Debian's packages and started if none is reachable
#      (needs root on Debian; elsewhere, start your own engine first);
#   3. the local base image busybox:1.36 the example app builds FROM (no registry needed), and node:24-slim,
#      the front door's base (made offline from the node binary of step 1);
#   3b. openssh-server, openssl, tmux, docker-registry, apache2-utils and iproute2 (remote-engine, terminal, registry
#       and swarm tests), installed when missing (root on Debian);
#   4. the build in dist/ (an esbuild bundle).
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=${SETUP_QUIET:-}
say() { [ -n "$quiet" ] || printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# --- 1. dependencies -------------------------------------------------------------------------------
# The lock file decides what is installed (a change to package.json's scripts needs no reinstall).
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -x node_modules/.bin/node ] || [ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$lock_hash" ]; then
  say "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > node_modules/.setup-stamp
fi
NODE="$PWD/node_modules/.bin/node"
# The same check as bin/deploy.js's, against the same range (bin/node-range.js, equal to package.json's engines).
"$NODE" --input-type=module -e 'import { satisfies } from "./bin/node-range.js"; process.exit(satisfies(process.versions.node) ? 0 : 1)' \
  || die "node_modules/.bin/node ($("$NODE" --version 2>&1)) is not a Node deploy supports ($(sed -n "s/^export const NODE_RANGE = '\(.*\)';/\1/p" bin/node-range.js)); remove node_modules and run again"

# --- 2. a Docker Engine ----------------------------------------------------------------------------
engine_up() { docker info >/dev/null 2>&1; }
if ! engine_up; then
  if [ -z "${DOCKER_HOST:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    if ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null; then
      say "installing docker.io and busybox-static from Debian"
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >&2
    fi
    # A dockerd still shutting down holds its pid file: give it time to go. A pid file left by one that was
    # killed (its process is gone) would be taken over by dockerd anyway.
    for _ in $(seq 1 30); do
      pid=$(cat /var/run/docker.pid 2>/dev/null || true)
      { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; } || break
      sleep 1
    done
    say "starting dockerd (log: /var/log/dockerd.log)"
    (setsid dockerd >/var/log/dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do engine_up && break; sleep 1; done
    engine_up || die "dockerd did not come up within 60 s; see /var/log/dockerd.log"
  else
    die "no Docker Engine is reachable (docker info failed). Start one (or set DOCKER_HOST), then run this again."
  fi
fi

# --- 3. the base image -----------------------------------------------------------------------------
if ! docker image inspect busybox:1.36 >/dev/null 2>&1; then
  static() { [ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1; }
  bb=/bin/busybox
  if ! static "$bb"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing busybox-static from Debian"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >&2
    fi
    static "$bb" || die "a statically linked /bin/busybox is needed to make the base image: apt-get install busybox-static"
  fi
  say "making the local base image busybox:1.36 from $bb"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/www" "$root/root"
  cp "$bb" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  chmod 1777 "$root/tmp"
  tar -C "$root" -c . | docker import -c 'CMD ["sh"]' -c 'ENV PATH=/bin' - busybox:1.36 >/dev/null
fi

# --- 3a. the Node base image the front door's image is built FROM ------------------------------------------
# node:24-slim where a registry is reachable; here it is made offline from the node binary npm installed.
if ! docker image inspect node:24-slim >/dev/null 2>&1; then
  say "making the local base image node:24-slim from node_modules/.bin/node"
  bash scripts/make-node-image.sh node:24-slim
fi

# --- 3b. tools for the remote-engine tests (sshd, openssl), the terminal tests (tmux) and the registry tests
#         (docker-registry, htpasswd from apache2-utils; run as plain processes by the tests, never as services) and
#         the swarm tests (ip from iproute2: the network namespaces of the test swarm's nodes) ---------------------
missing_pkgs=()
command -v ip >/dev/null || missing_pkgs+=(iproute2)
command -v docker-registry >/dev/null || missing_pkgs+=(docker-registry)
command -v htpasswd >/dev/null || missing_pkgs+=(apache2-utils)
[ -x /usr/sbin/sshd ] || missing_pkgs+=(openssh-server)
command -v openssl >/dev/null || missing_pkgs+=(openssl)
command -v tmux >/dev/null || missing_pkgs+=(tmux)
if [ ${#missing_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing_pkgs[*]} from Debian"
    # openssh-server's install would start a system sshd on port 22; policy-rc.d (exit 101) forbids that.
    added_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; added_policy=1; fi
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >&2 || { [ -z "$added_policy" ] || rm -f /usr/sbin/policy-rc.d; die "could not install ${missing_pkgs[*]}"; }
    [ -z "$added_policy" ] || rm -f /usr/sbin/policy-rc.d
  else
    say "warning: ${missing_pkgs[*]} missing (needed by the remote-engine, terminal and registry tests); install them"
  fi
fi

# --- 4. the build ----------------------------------------------------------------------------------
if [ ! -f dist/main.js ] || [ ! -f proxy/dist/proxy.js ] || [ -n "$(find src proxy/src proxy/build.mjs scripts/build.mjs package-lock.json -newer dist/main.js -print -quit)" ]; then
  say "building (esbuild)"
  PATH="$PWD/node_modules/.bin:$PATH" npm run --silent build >&2
fi
say "ready: $("$NODE" bin/deploy.js --version) on Node $("$NODE" -v), Docker Engine $(docker version --format '{{.Server.Version}}')"
