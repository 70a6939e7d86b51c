#!/usr/bin/env bash
# Installs what building tokenpair needs, skipping whatever is already present.
#
#   scripts/setup.sh          the app: wasm target, cargo-leptos, wasm-bindgen-cli, wasm-opt
#   scripts/setup.sh --test   also the test tools: Playwright and a Chromium to drive, leptosfmt,
#                             Schemathesis (in .tools/venv) for the API fuzzing run, and
#                             aiosmtpd (the same venv), the SMTP server the mail tests read
#
# Works on a machine that has only Rust (rustup) and Node/npm. The two cargo installs build
# from a copy of the crate source with one dependency pinned back, because their own
# lockfiles need a newer rustc than stable or name a crate version the index lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
LEPTOSFMT_VERSION=0.1.33
SCHEMATHESIS_VERSION=4.32.5
AIOSMTPD_VERSION=1.4.6
TOOLS_DIR="$PWD/.tools"            # npm-installed wasm-opt lives here, off the system PATH

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Prints the unpacked source folder of NAME@VERSION from cargo's registry, downloading it first.
crate_source() {
  local name=$1 version=$2 src
  src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$name-$version" 2>/dev/null | head -n1 || true)
  if [ -z "$src" ]; then
    cargo info --quiet "$name@$version" >/dev/null
    src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$name-$version" 2>/dev/null | head -n1 || true)
  fi
  if [ -z "$src" ]; then
    local crate_file work
    crate_file=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$name-$version.crate" | head -n1)
    work=$(mktemp -d)
    tar -xzf "$crate_file" -C "$work"
    src="$work/$name-$version"
  fi
  printf '%s\n' "$src"
}

# cargo install NAME@VERSION from a source copy, after `cargo update -p PIN --precise PIN_VERSION`.
install_pinned() {
  local name=$1 version=$2 pin=$3 pin_version=$4; shift 4
  local copy
  copy=$(mktemp -d)/"$name"
  cp -r "$(crate_source "$name" "$version")" "$copy"
  (cd "$copy" && cargo update --quiet -p "$pin" --precise "$pin_version")
  step "building $name $version from source (this takes several minutes, once)"
  cargo install --path "$copy" --locked "$@"
  rm -rf "$(dirname "$copy")"
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock
}

ensure_wasm_target() {
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then return; fi
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
}

ensure_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then return; fi
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads: it uses the tools on PATH)"
  install_pinned cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1 --features no_downloads
}

ensure_wasm_bindgen() {
  local want
  want=$(wasm_bindgen_version)
  if wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then return; fi
  step "installing wasm-bindgen-cli $want (must match Cargo.lock)"
  install_pinned wasm-bindgen-cli "$want" webpki-roots 1.0.10
}

ensure_wasm_opt() {
  if "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version 132"; then return; fi
  step "installing wasm-opt from npm's binaryen (Debian's 108 breaks hydration)"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" binaryen@132.0.0 >/dev/null
}

ensure_playwright() {
  step "installing end-to-end packages (npm ci in end2end/)"
  (cd end2end && npm ci --silent --no-audit --no-fund)
  if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then return; fi
  if [ -x /usr/bin/chromium ]; then return; fi
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    step "installing Debian's chromium for Playwright"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    step "installing Playwright's own Chromium"
    (cd end2end && npx playwright install chromium)
  fi
}

ensure_leptosfmt() {
  if leptosfmt --version 2>/dev/null | grep -q "$LEPTOSFMT_VERSION"; then return; fi
  step "installing leptosfmt $LEPTOSFMT_VERSION (formats view! blocks; a few minutes, once)"
  cargo install leptosfmt --version "$LEPTOSFMT_VERSION" --locked
}

ensure_schemathesis() {
  local venv="$TOOLS_DIR/venv"
  if "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then return; fi
  step "installing Schemathesis $SCHEMATHESIS_VERSION into .tools/venv (the API fuzzer)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
}

ensure_aiosmtpd() {
  local venv="$TOOLS_DIR/venv"
  if "$venv/bin/python" -m aiosmtpd --version 2>/dev/null | grep -q "$AIOSMTPD_VERSION"; then return; fi
  step "installing aiosmtpd $AIOSMTPD_VERSION into .tools/venv (the SMTP server of the mail tests)"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
}

ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_wasm_opt
if [ "${1:-}" = "--test" ]; then
  ensure_playwright
  ensure_leptosfmt
  ensure_schemathesis
  ensure_aiosmtpd
fi
step "toolchain ready"
