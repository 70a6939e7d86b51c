#!/usr/bin/env bash
# Builds and runs tokenpair on SQLite at http://127.0.0.1:3000 (optimised build).
# Installs whatever is missing first (see scripts/setup.sh). Settings: see .env.example.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
printf '\033[1m==> building and starting tokenpair (first build takes several minutes)\033[0m\n'
exec cargo leptos serve --release --split
