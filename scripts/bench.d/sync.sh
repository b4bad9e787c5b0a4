#!/usr/bin/env bash
# Suite `sync`: `assets push` and `assets pull` against `assets serve`, next to peers on the same
# server in the same run: pull vs `aria2c -j 16` on the same signed storage URLs; push vs the raw
# presigned POSTs of the same bytes sent by `curl --parallel` (no create/mark/verify: the lifecycle's
# cost shows in the ratio); a no-op re-push of a large tree vs `find -printf` over it. Medians of 3.
set -euo pipefail
source "$(dirname "$0")/../lib/bench.sh"
cd "$ROOT"

ensure_packages "${BUILD_PACKAGES[@]}" aria2 time python3

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    SMALL=200; BIG_MIB=32; TREE=5000
else
    SMALL=2000; BIG_MIB=1024; TREE=100000
fi
RUNS=3
PARALLEL=16
BIG_LABEL=$([ "$BIG_MIB" -ge 1024 ] && echo "$((BIG_MIB / 1024))GiB" || echo "${BIG_MIB}MiB")

log "building assets (release)"
swift build -c release --product assets >/dev/null
BIN="$(swift build -c release --show-bin-path)/assets"

WORK="$(mktemp -d /tmp/bench-sync.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" serve --data "$WORK/server" --port 0 >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done
BASE="$(sed -n 's/^assets serve: listening on //p' "$WORK/serve.log")"
export PIXIEBRIX_URL="$BASE" PIXIEBRIX_TOKEN="$(sed -n 's/^token: //p' "$WORK/serve.log")"
API="python3 $ROOT/scripts/lib/bench_api.py"

log "making test data: $SMALL files of 4 KiB, one ${BIG_LABEL} file, a tree of $TREE files"
python3 - "$WORK" "$SMALL" "$TREE" <<'PY'
import os, sys
work, small, tree = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(small):
    d = os.path.join(work, "small", f"d{i % 20}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.bin"), "wb") as f:
        f.write(os.urandom(4096))
for i in range(tree):
    d = os.path.join(work, "tree", f"d{i % 100}", f"e{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"t{i}.txt"), "w") as f:
        f.write(str(i))
PY
mkdir -p "$WORK/big"
head -c "$((BIG_MIB * 1024 * 1024))" /dev/urandom > "$WORK/big/big.bin"
BIG_BYTES=$((BIG_MIB * 1024 * 1024))

# measure NAME SETUP_FN CMD... : RUNS runs, SETUP_FN RUN before each (untimed); medians in M_SECONDS, M_RSS.
measure() {
    local name="$1" setup="$2"; shift 2
    local seconds=() rss=()
    for run in $(seq "$RUNS"); do
        RUN=$run
        "$setup"
        local command=()
        for word in "$@"; do command+=("$(eval echo "\"$word\"")"); done
        bench_run "${command[@]}"
        seconds+=("$BENCH_SECONDS"); rss+=("$BENCH_RSS_MIB")
        printf '  %-30s run %d: %8.3f s  %8.1f MiB RSS\n' "$name" "$run" "$BENCH_SECONDS" "$BENCH_RSS_MIB" >&2
    done
    M_SECONDS=$(median "${seconds[@]}"); M_RSS=$(median "${rss[@]}")
}
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", n / s }'; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.3f", b / s / 1e6 }'; }
new_db() { DB="$("$BIN" databases create --name "bench-$1-$RUN")"; }
nothing() { :; }

# push: a fresh database per run so that every run uploads everything.
setup_push_small() { new_db small; rm -f "$WORK/push.sqlite"*; }
setup_curl_small() { new_db curl-small; $API curl-posts "$BASE" "$PIXIEBRIX_TOKEN" "$DB" "$WORK/small" "$WORK/posts.cfg"; }
setup_pull() { rm -rf "$WORK/out" "$WORK/pull.sqlite"*; mkdir -p "$WORK/out"; }

log "push $SMALL files of 4 KiB"
measure "assets push (small)" setup_push_small "$BIN" push "$WORK/small" --database '$DB' --state "$WORK/push.sqlite" --quiet --transfers "$PARALLEL"
SMALL_DB=$DB
OURS=$(per_second "$SMALL" "$M_SECONDS"); OURS_RSS=$M_RSS
measure "curl presigned POSTs (small)" setup_curl_small curl --parallel --parallel-max "$PARALLEL" -K "$WORK/posts.cfg"
bench_record "push_${SMALL}x4KiB" "files/s" "$OURS" "$(per_second "$SMALL" "$M_SECONDS")" "curl --parallel (POSTs only)" true
bench_record "push_${SMALL}x4KiB_peak_rss" "MiB" "$OURS_RSS" "$M_RSS" "curl --parallel (POSTs only)" false
# The cost of the queue's durable commits (synchronous=FULL; issue 9): the same push with them unsynced.
DURABLE=$OURS
measure "assets push (queue unsynced)" setup_push_small env ASSETS_QUEUE_DURABILITY=normal "$BIN" push "$WORK/small" --database '$DB' --state "$WORK/push.sqlite" --quiet --transfers "$PARALLEL"
bench_record "push_${SMALL}x4KiB_durable_queue" "files/s" "$DURABLE" "$(per_second "$SMALL" "$M_SECONDS")" "same, synchronous=NORMAL" true

log "pull $SMALL files of 4 KiB"
measure "assets pull (small)" setup_pull "$BIN" pull "$WORK/out" --database "$SMALL_DB" --state "$WORK/pull.sqlite" --quiet --transfers "$PARALLEL"
diff -rq "$WORK/small" "$WORK/out" >/dev/null || { echo "pulled tree differs" >&2; exit 1; }
OURS=$(per_second "$SMALL" "$M_SECONDS"); OURS_RSS=$M_RSS
$API aria2-list "$BASE" "$PIXIEBRIX_TOKEN" "$SMALL_DB" "$WORK/aria2.txt"
measure "aria2c -j 16 (small)" setup_pull aria2c -q -j "$PARALLEL" -d "$WORK/out" -i "$WORK/aria2.txt" --allow-overwrite=true --auto-file-renaming=false --file-allocation=none
bench_record "pull_${SMALL}x4KiB" "files/s" "$OURS" "$(per_second "$SMALL" "$M_SECONDS")" "aria2c -j 16" true
bench_record "pull_${SMALL}x4KiB_peak_rss" "MiB" "$OURS_RSS" "$M_RSS" "aria2c -j 16" false
DURABLE=$OURS
measure "assets pull (queue unsynced)" setup_pull env ASSETS_QUEUE_DURABILITY=normal "$BIN" pull "$WORK/out" --database "$SMALL_DB" --state "$WORK/pull.sqlite" --quiet --transfers "$PARALLEL"
bench_record "pull_${SMALL}x4KiB_durable_queue" "files/s" "$DURABLE" "$(per_second "$SMALL" "$M_SECONDS")" "same, synchronous=NORMAL" true

setup_push_big() { new_db big; rm -f "$WORK/push.sqlite"*; }
setup_curl_big() { new_db curl-big; $API curl-posts "$BASE" "$PIXIEBRIX_TOKEN" "$DB" "$WORK/big" "$WORK/posts.cfg"; }
log "push one ${BIG_LABEL} file"
measure "assets push (big)" setup_push_big "$BIN" push "$WORK/big" --database '$DB' --state "$WORK/push.sqlite" --quiet
BIG_DB=$DB
OURS=$(mbps "$BIG_BYTES" "$M_SECONDS"); OURS_RSS=$M_RSS
measure "curl presigned POST (big)" setup_curl_big curl -K "$WORK/posts.cfg"
bench_record "push_${BIG_LABEL}" "MB/s" "$OURS" "$(mbps "$BIG_BYTES" "$M_SECONDS")" "curl (POST only)" true
bench_record "push_${BIG_LABEL}_peak_rss" "MiB" "$OURS_RSS" "$M_RSS" "curl (POST only)" false

log "pull one ${BIG_LABEL} file"
measure "assets pull (big)" setup_pull "$BIN" pull "$WORK/out" --database "$BIG_DB" --state "$WORK/pull.sqlite" --quiet
cmp -s "$WORK/big/big.bin" "$WORK/out/big.bin" || { echo "pulled big file differs" >&2; exit 1; }
OURS=$(mbps "$BIG_BYTES" "$M_SECONDS"); OURS_RSS=$M_RSS
$API aria2-list "$BASE" "$PIXIEBRIX_TOKEN" "$BIG_DB" "$WORK/aria2.txt"
measure "aria2c (big)" setup_pull aria2c -q -d "$WORK/out" -i "$WORK/aria2.txt" --allow-overwrite=true --auto-file-renaming=false --file-allocation=none
bench_record "pull_${BIG_LABEL}" "MB/s" "$OURS" "$(mbps "$BIG_BYTES" "$M_SECONDS")" "aria2c" true
bench_record "pull_${BIG_LABEL}_peak_rss" "MiB" "$OURS_RSS" "$M_RSS" "aria2c" false

log "no-op re-push of a $TREE-file tree (after one real push)"
RUN=tree; new_db tree; TREE_DB=$DB
"$BIN" push "$WORK/tree" --database "$TREE_DB" --state "$WORK/tree.sqlite" --quiet --transfers "$PARALLEL"
measure "assets push (no-op)" nothing "$BIN" push "$WORK/tree" --database "$TREE_DB" --state "$WORK/tree.sqlite" --quiet
OURS=$M_SECONDS; OURS_RSS=$M_RSS
measure "find -printf" nothing sh -c "find '$WORK/tree' -type f -printf '%s %T@\n' > /dev/null"
bench_record "noop_repush_${TREE}_files" "s" "$OURS" "$M_SECONDS" "find -printf" false
bench_record "noop_repush_${TREE}_peak_rss" "MiB" "$OURS_RSS" "$M_RSS" "find -printf" false

bench_write sync
