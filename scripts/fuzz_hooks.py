"""Schemathesis hooks for scripts/fuzz-api.sh: the fuzzing user's bearer token, fetched by
logging in, and fetched again after a 401. The fuzzer itself calls log-out-everywhere and
revokes sessions, and a revoked session's access token is refused at once (src/auth/revoked.rs),
so one token for the whole run would leave every later authenticated call a bare 401."""

import json
import os
import urllib.request

import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
CREDENTIALS = {"email": os.environ["FUZZ_EMAIL"], "password": os.environ["FUZZ_PASSWORD"]}


@schemathesis.auth()
class FreshLogin:
    def get(self, case, context):
        request = urllib.request.Request(
            BASE_URL + "/api/auth/login",
            data=json.dumps(CREDENTIALS).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
