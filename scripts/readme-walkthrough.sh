#!/usr/bin/env bash
# Runs the README's walkthrough as a new user would, so that it stays runnable: every ```sh block from
# "## Walkthrough" up to "## Benchmarks", in order, in one bash with `set -euo pipefail`, in a scratch
# directory (the walkthrough writes table1.html and consort.svg there).
#
#   scripts/readme-walkthrough.sh                                 starts `npm start` on a new DATA_DIR and a free
#                                                                 port, reads the admin key it prints, stops it after
#   TD=http://localhost:3000 KEY=td_... scripts/readme-walkthrough.sh   runs against a service you started
#
# The README's own `export TD=` and `export KEY=` lines are left out (this script sets both). It fails when a
# command fails (the README's `json` helper fails on an undefined field, i.e. on an unexpected error answer), and
# when a `# → text` comment of the README is not printed: each must match a line of the output, in order, exactly,
# or as a prefix when it ends with `…`. The transcript is kept in the scratch directory, whose path is printed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
readme="$repo/README.md"
work=$(mktemp -d "${TMPDIR:-/tmp}/trialdesk-walkthrough.XXXXXX")
echo "walkthrough: scratch directory $work" >&2

awk '
  /^## Walkthrough/ { on = 1 } /^## Benchmarks/ { on = 0 }
  on && /^```sh$/ { inside = 1; next }
  inside && /^```$/ { inside = 0; print ""; next }
  inside && !/^export (TD|KEY)=/ { print }
' "$readme" > "$work/walkthrough.sh"
blocks=$(awk '
  /^## Walkthrough/ { on = 1 } /^## Benchmarks/ { on = 0 }
  on && /^```sh$/ { n++ } END { print n + 0 }
' "$readme")
[ "$blocks" -gt 0 ] || { echo "walkthrough: no sh blocks found in $readme" >&2; exit 1; }

# The expected outputs, in README order: the text after `# → ` on each line.
sed -n 's/.*# → //p' "$work/walkthrough.sh" > "$work/expected.txt"

server_pid=
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2> /dev/null; then
    kill -TERM "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
  fi
}
trap stop_server EXIT

if [ -z "${TD:-}" ]; then
  port=$(node -e 'const s = require("node:net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  export TD="http://localhost:$port"
  # As a new user would: an empty data directory, `npm start`, and the key it prints once.
  (cd "$repo" && PORT=$port DATA_DIR="$work/data" LOG_LEVEL=warn exec node_modules/.bin/tsx src/server.ts) \
    > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 240); do
    curl -sf "$TD/healthz" > /dev/null 2>&1 && break
    if ! kill -0 "$server_pid" 2> /dev/null; then
      cat "$work/server.log" >&2
      echo "walkthrough: the service did not start" >&2
      exit 1
    fi
    sleep 0.5
  done
  curl -sf "$TD/healthz" > /dev/null || { echo "walkthrough: the service did not answer within 120 s" >&2; exit 1; }
  KEY=$(sed -n 's/^ *\(td_[A-Za-z0-9_-]*\) *$/\1/p' "$work/server.log" | head -n 1)
  [ -n "$KEY" ] || { cat "$work/server.log" >&2; echo "walkthrough: no admin key printed at first start" >&2; exit 1; }
  export KEY
  echo "walkthrough: service started at $TD" >&2
fi
: "${KEY:?set KEY to an admin key of the service at $TD}"

started=$(date +%s)
status=0
(cd "$work" && bash -c "set -euo pipefail; $(cat "$work/walkthrough.sh")") 2>&1 \
  | tee "$work/transcript.txt" || status=$?
seconds=$(($(date +%s) - started))
if [ "$status" -ne 0 ]; then
  echo "walkthrough: FAILED (exit $status) after $seconds s; transcript $work/transcript.txt" >&2
  exit 1
fi

# Every `# → text` must appear as a line of the transcript, in order.
node - "$work/expected.txt" "$work/transcript.txt" << 'EOF'
const fs = require('node:fs');
const [expectedFile, transcriptFile] = process.argv.slice(2);
const lines = (file) => fs.readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
const expected = lines(expectedFile).map((line) => line.trim());
const transcript = lines(transcriptFile);
let at = 0;
for (const text of expected) {
  const matches = (line) => (text.endsWith('…') ? line.startsWith(text.slice(0, -1)) : line === text);
  const found = transcript.findIndex((line, index) => index >= at && matches(line));
  if (found < 0) {
    console.error(`walkthrough: expected "${text}" after transcript line ${at}, not printed`);
    process.exit(1);
  }
  at = found + 1;
}
console.error(`walkthrough: ${expected.length} expected outputs printed, in order`);
EOF
echo "walkthrough: passed: $blocks sh blocks in $seconds s against $TD" >&2
