#!/usr/bin/env bash
# Makes a Node runtime base image offline, for the front door's image on an engine with no registry: the node
# binary this project installed (node_modules/.bin/node, a Node deploy supports), the libraries it links, the
# loader, and a minimal /etc/passwd and /etc/group, imported as one layer. No shell: a HEALTHCHECK needs the exec
# form. Usage: make-node-image.sh [TAG] [DOCKER ARGS...] (TAG defaults to node:24-slim; a TAG already on the
# engine is left alone). Where a registry is reachable, the real node:24-slim serves as well.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-node:24-slim}
shift || true
if docker "$@" image inspect "$tag" >/dev/null 2>&1; then exit 0; fi
node_bin=$(readlink -f node_modules/.bin/node)
[ -x "$node_bin" ] || { echo "make-node-image: node_modules/.bin/node is missing: run npm ci first" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/app" "$root/lib64" "$root/home/node"
cp "$node_bin" "$root/usr/local/bin/node"
strip "$root/usr/local/bin/node" 2>/dev/null || true
# The libraries the binary links (as ldd resolves them on this machine), at the same paths, and the loader.
for lib in $(ldd "$node_bin" | awk '/=> \//{print $3} /^[[:space:]]*\/lib/{print $1}'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000:node:/home/node:/usr/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
chmod 1777 "$root/tmp"
chown 1000:1000 "$root/home/node"
tar -C "$root" -c . | docker "$@" import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'CMD ["node"]' - "$tag" >/dev/null
