#!/usr/bin/env bash
# kiln serve under load beside the Python baseline, in one run: wrk on 127.0.0.1, 64 connections,
# one 28x28 image per request (TF Serving's row format), each server in turn, several rounds;
# prints requests/s and latency percentiles per server and round. Also the same ModelManager and
# RestApi behind cpp-httplib (bench_httplib_server, when built), and a hot swap under load: a new
# version folder moved into place every 2 s while wrk runs.
# Usage: bench/serving/run.sh MLP_DIR [CNN_DIR] [seconds] [rounds]
# (needs build/kiln, Debian's wrk and python3-torch)
set -euo pipefail
cd "$(dirname "$0")/../.."
mlp=$1
cnn=${2:-}
seconds=${3:-10}
rounds=${4:-3}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
/usr/bin/python3 bench/serving/make_request.py "$work/image.lua"
/usr/bin/python3 bench/serving/make_request.py "$work/png.lua" b64
sed -n 's/^wrk.body = \[==\[\(.*\)\]==\]$/\1/p' "$work/image.lua" >"$work/body.json"

wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }

# load NAME URL SCRIPT: one wrk run, its summary on one line.
load() {
  wrk -t1 -c64 -d"${seconds}s" --latency -s "$3" "$2" >"$work/wrk.txt"
  awk -v name="$1" '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
       /Non-2xx/ {bad=$NF} /Socket errors/ {err=$0}
       END {printf "%-28s %10s req/s  p50 %-8s p99 %-8s non-2xx %s %s\n", name, rps, p50, p99, (bad ? bad : 0), err}' "$work/wrk.txt"
}

# serve NAME DIR [flags...]: kiln serve on a free port for one load run.
serve() {
  local name=$1 dir=$2 script=$3; shift 3
  build/kiln serve "$dir" --model_name m --rest_api_port 8571 --quiet "$@" 2>"$work/serve.log" &
  local pid=$!
  wait_for http://127.0.0.1:8571/v1/models/m
  load "$name" http://127.0.0.1:8571/v1/models/m:predict "$script"
  kill -TERM $pid; wait $pid
}

for round in $(seq "$rounds"); do
  echo "round $round of $rounds"
  serve "kiln mlp, batching off" "$mlp" "$work/image.lua"
  serve "kiln mlp, batching on" "$mlp" "$work/image.lua" --enable_batching
  serve "kiln mlp, b64 PNG" "$mlp" "$work/png.lua" --enable_batching
  if [[ -n $cnn ]]; then
    serve "kiln cnn, batching off" "$cnn" "$work/image.lua"
    serve "kiln cnn, batching on" "$cnn" "$work/image.lua" --enable_batching
  fi
  if [[ -x build/bench/bench_httplib_server ]]; then
    build/bench/bench_httplib_server "$mlp" 8573 2>/dev/null &
    hl=$!
    wait_for http://127.0.0.1:8573/v1/models/m
    load "cpp-httplib mlp, batching on" http://127.0.0.1:8573/v1/models/m:predict "$work/image.lua"
    kill $hl; wait $hl 2>/dev/null || true
  fi
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/serving/python_server.py "$mlp" 8572 2>/dev/null &
  py=$!
  sleep 2
  load "python (torch) mlp" http://127.0.0.1:8572/v1/models/m:predict "$work/image.lua"
  kill $py; wait $py 2>/dev/null || true
done

# Hot swap under load: versions 2, 3, ... appear (copied, then renamed into place) every 2 s.
mkdir -p "$work/swap"
cp -r "$mlp" "$work/swap/1"
build/kiln serve --model_name m --model_base_path "$work/swap" --rest_api_port 8571 --quiet 2>"$work/swap.log" &
pid=$!
wait_for http://127.0.0.1:8571/v1/models/m
(
  for v in $(seq 2 $((seconds / 2 + 1))); do
    sleep 2
    cp -r "$mlp" "$work/swap/.incoming" && mv "$work/swap/.incoming" "$work/swap/$v"
  done
) &
load "kiln mlp, hot swap every 2 s" http://127.0.0.1:8571/v1/models/m:predict "$work/image.lua"
wait %2 2>/dev/null || true
sleep 1.5
echo "served after the swaps: version $(curl -s http://127.0.0.1:8571/v1/models/m/metadata | sed -n 's/.*"version":"\([0-9]*\)".*/\1/p'); $(grep -c "kiln serve: loaded" "$work/swap.log") loads, $(grep -c "kiln serve: unloaded" "$work/swap.log") unloads"
kill -TERM $pid; wait $pid

# 10,000 idle connections beside a request, then cut off by a 5 s read timeout.
build/kiln serve "$mlp" --model_name m --rest_api_port 8571 --quiet --rest_api_timeout_in_ms 5000 2>/dev/null &
pid=$!
wait_for http://127.0.0.1:8571/v1/models/m
/usr/bin/python3 bench/serving/idle_connections.py 8571 "$work/body.json" 10000 5
kill -TERM $pid; wait $pid
