#!/usr/bin/env bash
# Suite `watch`: `assets watch` against a local `assets serve` (release builds, loopback).
#   - latency from a file's close to its verified upload (the watch's `done` event), p50 and p95,
#     for single 64 KiB files written one at a time; the peer is one `assets push` run per new file
#     (what a cron job or a loop around push would give);
#   - the time to drain a burst of 10,000 small files, from the first write until all are uploaded
#     (the watch uploads while they are written), against writing them and then running
#     `assets push` of the same files to a fresh database; and the peak RSS of each.
set -euo pipefail
source "$(dirname "$0")/../lib/bench.sh"
cd "$ROOT"

ensure_packages "${BUILD_PACKAGES[@]}" time python3

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    LATENCY_FILES=10; BURST=500
else
    LATENCY_FILES=40; BURST=10000
fi
TRANSFERS=16
TOKEN="bench-$(date +%s)"

log "building assets (release)"
ASSETS="$(release_binary assets "${ASSETS_BIN:-}")"

WORK="$(mktemp -d /tmp/bench-watch.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(free_port)
"$ASSETS" serve --data "$WORK/server" --port "$PORT" --token "$TOKEN" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -s -o /dev/null -H "Authorization: Token $TOKEN" "$BASE/api/databases/" && break; sleep 0.1; done
export PIXIEBRIX_TOKEN="$TOKEN" PIXIEBRIX_URL="$BASE"

# new_database NAME : creates an asset database, prints its id.
new_database() {
    curl -sSf -X POST -H "Authorization: Token $TOKEN" -H "Content-Type: application/json" \
        -H "Accept: application/json; version=2.0" -d "{\"name\": \"$1\", \"type\": \"Asset\"}" "$BASE/api/databases/" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
# percentile P FILE.json : the P-th percentile (nearest rank) of the "seconds" array, in ms.
percentile() {
    python3 -c 'import json, math, sys
values = sorted(json.load(open(sys.argv[2]))["seconds"])
rank = max(1, math.ceil(float(sys.argv[1]) / 100 * len(values)))
print(f"{values[rank - 1] * 1000:.3f}")' "$1" "$2"
}
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

log "latency: $LATENCY_FILES files of 64 KiB, one at a time, close → verified upload"
DB=$(new_database latency)
mkdir -p "$WORK/inbox-latency"
python3 scripts/lib/watch_bench.py latency "$WORK/latency.json" "$LATENCY_FILES" 65536 -- \
    "$ASSETS" watch "$WORK/inbox-latency" --database "$DB" --state "$WORK/latency.sqlite" --json \
    --transfers "$TRANSFERS"
WATCH_P50=$(percentile 50 "$WORK/latency.json"); WATCH_P95=$(percentile 95 "$WORK/latency.json")
printf '  watch: p50 %s ms, p95 %s ms\n' "$WATCH_P50" "$WATCH_P95" >&2

DB=$(new_database latency-push)
mkdir -p "$WORK/push-latency"
seconds=()
for index in $(seq "$LATENCY_FILES"); do
    head -c 65536 /dev/urandom > "$WORK/push-latency/$index.bin"
    bench_run "$ASSETS" push "$WORK/push-latency" --database "$DB" --state "$WORK/push-latency.sqlite" --quiet \
        --transfers "$TRANSFERS"
    seconds+=("$BENCH_SECONDS")
done
printf '{"seconds": [%s]}\n' "$(IFS=,; echo "${seconds[*]}")" > "$WORK/push-latency.json"
PUSH_P50=$(percentile 50 "$WORK/push-latency.json"); PUSH_P95=$(percentile 95 "$WORK/push-latency.json")
printf '  push per file: p50 %s ms, p95 %s ms\n' "$PUSH_P50" "$PUSH_P95" >&2
bench_record "close_to_uploaded_p50" "ms" "$WATCH_P50" "$PUSH_P50" "assets push per file" false
bench_record "close_to_uploaded_p95" "ms" "$WATCH_P95" "$PUSH_P95" "assets push per file" false

log "burst: $BURST small files, drained by watch vs pushed by push (--transfers $TRANSFERS)"
DB=$(new_database burst-watch)
mkdir -p "$WORK/inbox-burst"
METRICS_PORT=$(free_port)
python3 scripts/lib/watch_bench.py burst "$WORK/burst.json" "$BURST" "http://127.0.0.1:$METRICS_PORT/metrics" -- \
    "$ASSETS" watch "$WORK/inbox-burst" --database "$DB" --state "$WORK/burst.sqlite" --quiet \
    --metrics "127.0.0.1:$METRICS_PORT" --transfers "$TRANSFERS"
WATCH_S=$(field "$WORK/burst.json" seconds); WATCH_RSS=$(field "$WORK/burst.json" rss_mib)
WRITE_S=$(field "$WORK/burst.json" write_seconds)
printf '  watch: %.3f s from the first write (writing took %.3f s), peak RSS %.1f MiB\n' "$WATCH_S" "$WRITE_S" \
    "$WATCH_RSS" >&2

DB=$(new_database burst-push)
mkdir -p "$WORK/push-burst"
cp -r "$WORK/inbox-burst/burst" "$WORK/push-burst/"
bench_run "$ASSETS" push "$WORK/push-burst" --database "$DB" --state "$WORK/push-burst.sqlite" --quiet \
    --transfers "$TRANSFERS"
PUSH_S=$(awk -v w="$WRITE_S" -v p="$BENCH_SECONDS" 'BEGIN { printf "%.6f", w + p }')
printf '  push:  %.3f s (+ %.3f s of writing), peak RSS %.1f MiB\n' "$BENCH_SECONDS" "$WRITE_S" "$BENCH_RSS_MIB" >&2
bench_record "burst_${BURST}_drain" "s" "$WATCH_S" "$PUSH_S" "write, then assets push" false
PUSH_BURST_S=$BENCH_SECONDS
bench_record "burst_${BURST}_peak_rss" "MiB" "$WATCH_RSS" "$BENCH_RSS_MIB" "assets push" false

log "backlog: the same $BURST files already there when watch starts (as after a restart) vs push"
DB=$(new_database backlog-watch)
python3 scripts/lib/watch_bench.py backlog "$WORK/backlog.json" "$BURST" "http://127.0.0.1:$METRICS_PORT/metrics" -- \
    "$ASSETS" watch "$WORK/push-burst" --database "$DB" --state "$WORK/backlog.sqlite" --quiet \
    --metrics "127.0.0.1:$METRICS_PORT" --transfers "$TRANSFERS"
BACKLOG_S=$(field "$WORK/backlog.json" seconds)
printf '  watch: %.3f s from its start\n' "$BACKLOG_S" >&2
bench_record "backlog_${BURST}_drain" "s" "$BACKLOG_S" "$PUSH_BURST_S" "assets push" false

bench_write watch
