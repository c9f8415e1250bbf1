#!/usr/bin/env bash
# The local stack behind `make run`: a Temporal dev server with its Web UI
# on loopback (state kept in $LINKWRIGHT_STATE_DIR, so runs survive a
# restart), then the worker on the simulated cloud and the file tracker.
# With LINKWRIGHT_STACK=aws (`make run-aws`) the worker runs on the AWS
# provider against moto instead. With LINKWRIGHT_ENCRYPT=1 payloads are
# encrypted (a key file in the state directory) and a codec server lets
# the Web UI decode them. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."

stack=${LINKWRIGHT_STACK:-sim}
state=${LINKWRIGHT_STATE_DIR:-.state}
[ "$stack" = aws ] && state=${LINKWRIGHT_STATE_DIR:-.state-aws}
grpc_port=${TEMPORAL_PORT:-7233}
ui_port=${TEMPORAL_UI_PORT:-8233}
ports="$grpc_port $ui_port"
[ "$stack" = aws ] && ports="$ports 4566 4567"
admin_port=${ADMIN_PORT:-9090}
ports="$ports $admin_port"
encrypt=${LINKWRIGHT_ENCRYPT:-}
codec_port=${CODEC_PORT:-8081}
[ "$encrypt" = 1 ] && ports="$ports $codec_port"

for port in $ports; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "make run: port $port on 127.0.0.1 is already in use." >&2
    echo "  Another 'make run' or Temporal server may be running: stop it, or find it with: ss -ltnp 'sport = :$port'" >&2
    echo "  Or use other ports: make run TEMPORAL_PORT=7243 TEMPORAL_UI_PORT=8243 ADMIN_PORT=9091" >&2
    [ "$encrypt" = 1 ] && echo "  (the codec server's: CODEC_PORT=8091)" >&2
    exit 1
  fi
done

mkdir -p "$state"
pids=()
stop() {
  trap - EXIT INT TERM
  echo
  echo "Stopping the worker and the Temporal dev server..."
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "Stopped. State is kept in $state; 'make run' picks up where it left off."
}
trap stop EXIT INT TERM

codec_flags=()
if [ "$encrypt" = 1 ]; then
  # The key file, made once (mode 0600) and kept with the state: the
  # histories it encrypted need it. The worker, the CLI and the codec
  # server read it.
  keys="$(cd "$state" && pwd)/codec-keys"
  if [ ! -e "$keys" ]; then
    (umask 077 && bin/linkwright codec-keygen >"$keys.new" && mv "$keys.new" "$keys")
    echo "make run: made a payload encryption key in $keys"
  fi
  export LINKWRIGHT_CODEC_KEYS_FILE="$keys"
  bin/linkwright codec-server -listen "127.0.0.1:$codec_port" \
    -allow-origin "http://localhost:$ui_port,http://127.0.0.1:$ui_port" >>"$state/codec-server.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 40); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$codec_port") 2>/dev/null; then break; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "make run: the codec server exited; see $state/codec-server.log:" >&2
      tail -n 20 "$state/codec-server.log" >&2
      exit 1
    fi
    sleep 0.25
  done
  codec_flags=(--ui-codec-endpoint "http://127.0.0.1:$codec_port")
fi

# shellcheck disable=SC2086 # the flags are a list
bin/temporal server start-dev --ip 127.0.0.1 --port "$grpc_port" --ui-port "$ui_port" \
  --db-filename "$state/temporal.db" --log-level warn "${codec_flags[@]}" \
  ${LINKWRIGHT_SEARCH_ATTRIBUTE_FLAGS} ${LINKWRIGHT_DEV_SERVER_FLAGS} >>"$state/temporal.log" 2>&1 &
pids+=($!)

temporal_pid=$!

for _ in $(seq 1 120); do
  if bin/temporal operator cluster health --address "127.0.0.1:$grpc_port" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$temporal_pid" 2>/dev/null; then
    echo "make run: the Temporal dev server exited; see $state/temporal.log:" >&2
    tail -n 20 "$state/temporal.log" >&2
    exit 1
  fi
  sleep 0.5
done

export TEMPORAL_ADDRESS="127.0.0.1:$grpc_port"
export LINKWRIGHT_CONFIG=${LINKWRIGHT_CONFIG:-deployments/local/linkwright.json}
export LINKWRIGHT_STATE_DIR="$state"
export LINKWRIGHT_UI_URL="http://localhost:$ui_port"
exports="export TEMPORAL_ADDRESS=127.0.0.1:$grpc_port"
encryption=""
codec_cli=""
if [ "$encrypt" = 1 ]; then
  codec_cli=" --codec-endpoint http://127.0.0.1:$codec_port"
  exports="$exports LINKWRIGHT_CODEC_KEYS_FILE=$LINKWRIGHT_CODEC_KEYS_FILE"
  encryption="
    Encryption:       on, key file $LINKWRIGHT_CODEC_KEYS_FILE
    Codec server:     http://127.0.0.1:$codec_port (the Web UI decodes through it; log $state/codec-server.log)"
fi

if [ "$stack" = aws ]; then
  # moto keeps its state in memory: a new stack is a new AWS look-alike.
  export LINKWRIGHT_CONFIG="$state/linkwright.json"
  export AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto AWS_REGION=us-east-1
  rm -f "$LINKWRIGHT_CONFIG"
  bin/linkwright-motostack -config "$LINKWRIGHT_CONFIG" >>"$state/motostack.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    [ -s "$LINKWRIGHT_CONFIG" ] && break
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "make run-aws: the moto stack exited; see $state/motostack.log:" >&2
      tail -n 20 "$state/motostack.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  exports="$exports LINKWRIGHT_CONFIG=$LINKWRIGHT_CONFIG AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto AWS_REGION=us-east-1"
fi

# The worker runs as a version of the Worker Deployment linkwright-local
# and makes itself current once it polls: a rebuilt worker takes over the
# links the last one left waiting (README: Worker versioning and upgrades).
export LINKWRIGHT_ADMIN_LISTEN="127.0.0.1:$admin_port"
export LINKWRIGHT_DEPLOYMENT_NAME=${LINKWRIGHT_DEPLOYMENT_NAME:-linkwright-local}
export LINKWRIGHT_DEPLOYMENT_PROMOTE=${LINKWRIGHT_DEPLOYMENT_PROMOTE:-true}
bin/linkwright-worker 2>>"$state/worker.log" &
pids+=($!)
# Ready: the worker's /readyz answers 200 (connected, and polling).
readyz() {
  (exec 3<>"/dev/tcp/127.0.0.1/$admin_port" && printf 'GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 &&
    head -n 1 <&3 | grep -q ' 200 ') 2>/dev/null
}
for _ in $(seq 1 120); do
  readyz && break
  if ! kill -0 "${pids[-1]}" 2>/dev/null; then
    echo "make run: the worker exited; see $state/worker.log:" >&2
    tail -n 20 "$state/worker.log" >&2
    exit 1
  fi
  sleep 0.5
done

cat <<MSG

  Linkwright is running ($stack cloud).
    Temporal Web UI:  http://localhost:$ui_port
    Temporal gRPC:    127.0.0.1:$grpc_port (TEMPORAL_ADDRESS)
    Worker log:       $state/worker.log
    Worker admin:     http://127.0.0.1:$admin_port/metrics, /readyz, /healthz
    Tickets:          $state/tickets/
    Config:           $LINKWRIGHT_CONFIG (approvers: policy.approvers)$encryption

  In another terminal, start the README walkthrough:
    $exports
    bin/temporal workflow start --type PrivateLinkEnablement --task-queue privatelink \\
      --workflow-id privatelink/abcd1234efgh5/production/aws$codec_cli \\
      --input-file deployments/local/examples/bidirectional-aws.json

  Ctrl-C stops everything.

MSG
wait "${pids[@]}"
