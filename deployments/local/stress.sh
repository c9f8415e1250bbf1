#!/usr/bin/env bash
# `make stress-test`: the integration tests, repeated, with the race
# detector, while CPU-bound jobs keep every core busy. A test that waits on
# timing instead of on state the workflow has reached fails here first.
# STRESS_COUNT repetitions (3), STRESS_HOGS busy loops (one per core).
set -euo pipefail
cd "$(dirname "$0")/../.."

count=${STRESS_COUNT:-3}
hogs=${STRESS_HOGS:-$(nproc)}
log=${STRESS_LOG:-$(mktemp -t linkwright-stress.XXXXXX)}

pids=()
stop() {
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop EXIT INT TERM
for _ in $(seq "$hogs"); do
  yes >/dev/null &
  pids+=($!)
done
echo "stress-test: $count repetitions of the integration tests under -race, with $hogs CPU hogs; log in $log"

status=0
LINKWRIGHT_TEMPORAL="$PWD/bin/temporal" LINKWRIGHT_REQUIRE_INTEGRATION=1 \
  go test -race -count="$count" -timeout "${STRESS_TIMEOUT:-40m}" -v -run Integration ./worker/ ./starter/ ./internal/app/ ./internal/codec/webuitest/ >"$log" 2>&1 || status=$?
stop

pass=$(grep -c -E '^--- PASS: TestIntegration' "$log" || true)
fail=$(grep -c -E '^--- FAIL: TestIntegration' "$log" || true)
echo "stress-test: $pass passed, $fail failed"
grep -E '^--- (PASS|FAIL): TestIntegration' "$log" | sed -E 's/ \([0-9.]+s\)$//' | sort | uniq -c | sed 's/^/  /'
if [ "$status" -ne 0 ] || [ "$fail" -ne 0 ]; then
  echo "stress-test: FAILED; the failures:" >&2
  grep -E -B2 -A25 '^--- FAIL' "$log" | head -200 >&2 || tail -50 "$log" >&2
  exit 1
fi
