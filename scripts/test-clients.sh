#!/usr/bin/env bash
# Tests the R and Python clients (src/client/r, src/client/python) against a live service: starts trialdesk
# on the embedded database in a temporary directory on a free port with a generated admin key, waits for
# /healthz, runs `R CMD build` + `R CMD check` of the R package and pytest of the Python package with
# TRIALDESK_TEST_URL and TRIALDESK_TEST_ADMIN_KEY set, stops the service, and exits non-zero on any failure
# (a test skipped for want of the service, or an R CMD check NOTE or WARNING, counts as a failure).
#
# Needs: R with httr2, jsonlite, testthat; Python 3 with requests, pandas, pytest (PYTHON, default
# /usr/bin/python3). On Debian: r-base-core r-cran-httr2 r-cran-jsonlite r-cran-testthat python3-requests
# python3-pandas python3-pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d)
SERVER_PID=

stop_service() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap 'stop_service; rm -rf "$WORK"' EXIT

step() { printf '\n==> %s\n' "$*"; }

PORT=$(node -e 'const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
ADMIN_KEY=$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')
URL="http://127.0.0.1:$PORT"

step "start trialdesk on the embedded database ($URL, data in $WORK/data)"
DATA_DIR="$WORK/data" PORT="$PORT" ADMIN_API_KEY="$ADMIN_KEY" LOG_LEVEL=warn \
  "$ROOT/node_modules/.bin/tsx" src/server.ts >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  if curl -fsS "$URL/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "FAIL: the service exited before answering /healthz:" >&2
    cat "$WORK/server.log" >&2
    exit 1
  fi
  sleep 1
done
if ! curl -fsS "$URL/healthz"; then
  echo "FAIL: no answer from $URL/healthz after 300 s" >&2
  cat "$WORK/server.log" >&2
  exit 1
fi
echo

export TRIALDESK_TEST_URL="$URL" TRIALDESK_TEST_ADMIN_KEY="$ADMIN_KEY"
failures=()

step "R: R CMD build and R CMD check of src/client/r"
if (
  cd "$WORK"
  R CMD build --no-manual "$ROOT/src/client/r"
  _R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual trialdesk_*.tar.gz
); then
  if ! grep -q '^Status: OK' "$WORK/trialdesk.Rcheck/00check.log"; then
    failures+=("R CMD check is not clean (see the NOTEs and WARNINGs above)")
  fi
  if ! grep -q 'SKIP 0 |' "$WORK/trialdesk.Rcheck/tests/testthat.Rout"; then
    failures+=("R tests were skipped")
  fi
  cat "$WORK/trialdesk.Rcheck/tests/testthat.Rout" | grep -E '^\[ FAIL' || true
else
  for log in "$WORK"/trialdesk.Rcheck/tests/testthat.Rout.fail "$WORK"/trialdesk.Rcheck/00check.log; do
    [[ -f "$log" ]] && tail -n 80 "$log"
  done
  failures+=("R CMD check failed")
fi

step "Python: pytest of src/client/python"
if (
  cd "$ROOT/src/client/python"
  PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -m pytest -p no:cacheprovider -rs -q | tee "$WORK/pytest.log"
  exit "${PIPESTATUS[0]}"
); then
  if grep -qE '[0-9]+ skipped' "$WORK/pytest.log"; then failures+=("Python tests were skipped"); fi
else
  failures+=("pytest failed")
fi

stop_service
if ((${#failures[@]})); then
  printf 'FAIL: %s\n' "${failures[@]}" >&2
  exit 1
fi
step "both clients passed against the live service"
