#!/usr/bin/env bash
# Starts the action server and the Rasa server (REST and socket.io) and stops both on
# Ctrl-C. With "shell", chats in the terminal instead of serving.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
# endpoints.yml reads the action server's address (and TRACKER_STORE_URL, REDIS_URL if set).
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://localhost:$ACTIONS_PORT/webhook}
MODEL=${MODEL:-models/current.tar.gz}
mkdir -p logs

pids=()
stop() {
  trap - EXIT INT TERM
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  echo "Stopped."
}
trap stop EXIT INT TERM

wait_for() {  # url, name, pid
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "The $2 exited; see logs/." >&2; return 1; fi
    sleep 1
  done
  echo "The $2 did not start within 120 s; see logs/." >&2
  return 1
}

echo "Starting the action server on :$ACTIONS_PORT ..."
"$BIN/rasa" run actions --actions actions --port "$ACTIONS_PORT" > logs/actions.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$ACTIONS_PORT/health" "action server" "${pids[-1]}"

if [[ "${1:-run}" == "shell" ]]; then
  "$BIN/rasa" shell --model "$MODEL" --endpoints endpoints.yml
  exit 0
fi

echo "Starting the Rasa server on :$RASA_PORT ..."
"$BIN/rasa" run --model "$MODEL" --port "$RASA_PORT" --endpoints endpoints.yml \
  --credentials credentials.yml --cors "*" > logs/rasa.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$RASA_PORT/" "Rasa server" "${pids[-1]}"

DEMO_PORT=${DEMO_PORT:-8080}
echo "Starting the demo clinic page with the chat widget on :$DEMO_PORT ..."
PORT="$DEMO_PORT" RASA_URL="http://localhost:$RASA_PORT" node web/serve.mjs > logs/demo.log 2>&1 &
pids+=($!)
wait_for "http://localhost:$DEMO_PORT/health" "demo page server" "${pids[-1]}"

cat <<MSG

The assistant is running.
  Ask over REST:  curl -s localhost:$RASA_PORT/webhooks/rest/webhook \\
                    -H 'Content-Type: application/json' \\
                    -d '{"sender": "me", "message": "can I shower tonight?"}'
  socket.io:      http://localhost:$RASA_PORT/socket.io (events user_uttered / bot_uttered)
  Website widget: http://localhost:$DEMO_PORT/ (a demo clinic page; README "For clinic web staff")
  In a terminal:  make shell
  Logs:           logs/rasa.log, logs/actions.log
Press Ctrl-C to stop both servers.
MSG
wait -n "${pids[@]}"
