#!/usr/bin/env bash
# Fuzzes the JSON API from its own OpenAPI document with Schemathesis: the real server (the debug
# build in target/, on SQLite), a bearer token of a fresh user, and every operation in the
# document. It fails on any 5xx, any status or body the document does not describe, and any
# schema-valid request the server rejects. Run by scripts/test.sh; Schemathesis is installed by
# `scripts/setup.sh --test` into .tools/venv.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

binary=target/debug/tokenpair
st=.tools/venv/bin/st
[ -x "$binary" ] || { echo "fuzz-api: build first (cargo leptos build --split)" >&2; exit 1; }
[ -x "$st" ] || { echo "fuzz-api: run scripts/setup.sh --test first" >&2; exit 1; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
LEPTOS_SITE_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$work/fuzz.db" RUST_LOG=warn \
  LOGIN_RATE_LIMIT=100000/1m LOGIN_ACCOUNT_RATE_LIMIT=100000/1m REFRESH_RATE_LIMIT=100000/1m \
  PASSWORD_CHANGE_RATE_LIMIT=100000/1m PASSWORD_RESET_RATE_LIMIT=100000/1m \
  "$binary" > "$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -fs "$base/healthz" > /dev/null && break
  sleep 0.1
done

# A user for the operations that need a bearer token; scripts/fuzz_hooks.py logs it in, and in
# again whenever the fuzzer's own calls (log out everywhere, a revoked session) end its session.
export FUZZ_BASE_URL="$base" FUZZ_EMAIL=fuzz@example.com FUZZ_PASSWORD="fuzzing the api"
curl -fs "$base/api/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\": \"$FUZZ_EMAIL\", \"password\": \"$FUZZ_PASSWORD\"}" > /dev/null

cat > "$work/schemathesis.toml" <<TOML
# A schema-valid request may still be refused for what it means rather than how it is written:
# wrong credentials (401), a cross-site check or a wrong current password (403), a session that
# is not yours (404), an email already taken (409), a password zxcvbn guesses too easily (422:
# strength is not something a schema can say). The social-login start and callback are browser
# navigations: they answer every request, good or bad, with a redirect (303), to the provider or
# to the page that says what went wrong; which one, the document cannot say.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "303", "401", "403", "404", "409", "422"]

# A mailed link's token the fuzzer makes up is well formed and still no link we sent: 400
# invalid_or_expired_link, by the contract (the same answer as for a used or expired one).
[[operations]]
include-path-regex = "^/api/auth/(password-reset|verify-email)/confirm$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422"]
# The same for a DPoP header the fuzzer makes up: a string, as the document says, and no proof
# any key signed: 400 invalid_dpop_proof, by RFC 9449 §5.
[[operations]]
include-path-regex = "^/api/auth/(login|register|refresh)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422"]
TOML

step "Schemathesis against $base/api/openapi.json"
PYTHONPATH="$PWD/scripts" SCHEMATHESIS_HOOKS=fuzz_hooks "$st" --config-file "$work/schemathesis.toml" run "$base/api/openapi.json" \
  --url "$base" --max-examples "${FUZZ_MAX_EXAMPLES:-40}" --workers 1 --seed 1 --no-color
