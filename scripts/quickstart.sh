#!/usr/bin/env bash
# The main job on the bundled example: set up, then build examples/hello from its Git commit, run it on
# the Docker Engine, show that it answers, and list the deployments.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
deploy() { node_modules/.bin/node bin/deploy.js "$@"; }
deploy deploy examples/hello
echo
echo "--- curl http://127.0.0.1:8080/"
node_modules/.bin/node -e 'fetch("http://127.0.0.1:8080/").then(r => r.text()).then(t => process.stdout.write(t))'
echo
echo "--- deploy ls"
deploy ls
