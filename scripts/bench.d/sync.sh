#!/usr/bin/env bash
# Suite `sync`: `assets push` and `assets pull` against `assets serve`, next to peers on the same
# server in the same run, each round running ours and then every peer once (peers alternated with
# ours), medians of 3:
#   - push of many small files vs the server's ceiling (its create rate at 16 in flight, divided
#     by the 4 requests a file costs) and vs the raw presigned POSTs sent by `curl --parallel`;
#   - pull of many small files vs `aria2c -j 16` on the same signed storage URLs;
#   - push of one big file vs `curl -F` of the same presigned POST;
#   - pull of one big file vs `curl -o` of its storage URL and vs `md5sum` of it (a verified pull
#     cannot beat the slower of the two);
#   - a no-op re-push of a large tree vs `find -printf` over it;
#   - small-file push and pull with the queue unsynced (ASSETS_QUEUE_DURABILITY=normal), the cost of
#     its durable commits.
#   ASSETS_BIN=PATH  measure that binary instead of building (e.g. an older build, for a before/after)
#   BENCH_DROP_CACHES=1  drop the page cache before each timed run (needs root): cold reads for every side
#   BENCH_PROFILE=1  also record a `perf` profile of the small-file push and print its top symbols
set -euo pipefail
source "$(dirname "$0")/../lib/bench.sh"
cd "$ROOT"

ensure_packages "${BUILD_PACKAGES[@]}" aria2 time python3 coreutils
[ "${BENCH_PROFILE:-0}" = 1 ] && ensure_packages linux-perf valgrind

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    SMALL=200; BIG_MIB=32; TREE=5000
else
    SMALL=2000; BIG_MIB=1024; TREE=100000
fi
RUNS=${BENCH_RUNS:-3}
PARALLEL=16
BIG_LABEL=$([ "$BIG_MIB" -ge 1024 ] && echo "$((BIG_MIB / 1024))GiB" || echo "${BIG_MIB}MiB")

BIN="$(release_binary assets "${ASSETS_BIN:-}")"

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

# run_once NAME SETUP ARRAY : SETUP (untimed), then the command whose words are in ARRAY, each
# evaluated now (so that '$DB' is the one SETUP made); sets BENCH_SECONDS and BENCH_RSS_MIB.
run_once() {
    local name="$1" setup="$2"
    local -n words="$3"
    "$setup"
    # The runs before left gigabytes of dirty pages: write them out untimed, so that no run pays for another's
    # (ours fsyncs what it pulls, and the kernel's writeback of earlier files would compete with that).
    sync
    # BENCH_DROP_CACHES=1 (root): every run starts with a cold page cache, so none inherits another's reclaim.
    if [ "${BENCH_DROP_CACHES:-0}" = 1 ]; then echo 3 > /proc/sys/vm/drop_caches; fi
    local command=()
    for word in "${words[@]}"; do command+=("$(eval echo "\"$word\"")"); done
    bench_run "${command[@]}"
    printf '  %-32s run %s: %8.3f s  %8.1f MiB RSS\n' "$name" "$RUN" "$BENCH_SECONDS" "$BENCH_RSS_MIB" >&2
}

# alternate NAME SETUP ARRAY [NAME SETUP ARRAY]... : RUNS rounds, each running every command once in
# the order given; the medians land in SECONDS_OF[i] and RSS_OF[i] (i counts the triples from 0).
alternate() {
    local specs=("$@")
    local count=$(( ${#specs[@]} / 3 ))
    local -a seconds=() rss=()
    for run in $(seq "$RUNS"); do
        RUN=$run
        for i in $(seq 0 $((count - 1))); do
            run_once "${specs[$((3 * i))]}" "${specs[$((3 * i + 1))]}" "${specs[$((3 * i + 2))]}"
            seconds[i]="${seconds[i]:-} $BENCH_SECONDS"; rss[i]="${rss[i]:-} $BENCH_RSS_MIB"
        done
    done
    SECONDS_OF=(); RSS_OF=()
    for i in $(seq 0 $((count - 1))); do
        # shellcheck disable=SC2086
        SECONDS_OF[i]=$(median ${seconds[i]}); RSS_OF[i]=$(median ${rss[i]})
    done
}
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", n / s }'; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.3f", b / s / 1e6 }'; }
smaller() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
new_db() { DB="$("$BIN" databases create --name "bench-$1-$RUN")"; }
nothing() { :; }

# push: a fresh database per run so that every run uploads everything.
setup_push_small() { new_db small; SMALL_DB=$DB; rm -f "$WORK/push.sqlite"*; }
setup_curl_small() { new_db curl-small; $API curl-posts "$BASE" "$PIXIEBRIX_TOKEN" "$DB" "$WORK/small" "$WORK/posts.cfg"; }
setup_creates() { new_db ceiling; $API create-posts "$BASE" "$PIXIEBRIX_TOKEN" "$DB" "$CREATES" "$WORK/creates.cfg"; }
setup_pull() { rm -rf "$WORK/out" "$WORK/pull.sqlite"*; mkdir -p "$WORK/out"; }

CREATES=$((SMALL * 2))
log "push $SMALL files of 4 KiB; the server's ceiling from $CREATES creates at $PARALLEL in flight"
OURS_CMD=("$BIN" push "$WORK/small" --database '$DB' --state "$WORK/push.sqlite" --quiet --transfers "$PARALLEL")
CURL_CMD=(curl --no-progress-meter --parallel --parallel-max "$PARALLEL" -K "$WORK/posts.cfg")
CREATES_CMD=(curl --no-progress-meter --parallel --parallel-max "$PARALLEL" -K "$WORK/creates.cfg")
# The cost of the queue's durable commits (synchronous=FULL; issue 9): the same push with them unsynced.
UNSYNCED_CMD=(env ASSETS_QUEUE_DURABILITY=normal "${OURS_CMD[@]}")
alternate "assets push (small)" setup_push_small OURS_CMD \
          "curl presigned POSTs (small)" setup_curl_small CURL_CMD \
          "curl creates (ceiling)" setup_creates CREATES_CMD \
          "assets push (queue unsynced)" setup_push_small UNSYNCED_CMD
OURS=$(per_second "$SMALL" "${SECONDS_OF[0]}")
CEILING=$(awk -v n="$CREATES" -v s="${SECONDS_OF[2]}" 'BEGIN { printf "%.3f", n / s / 4 }')
bench_record "push_${SMALL}x4KiB" "files/s" "$OURS" "$CEILING" "server ceiling (creates/s at $PARALLEL / 4)" true
bench_record "push_${SMALL}x4KiB_vs_posts" "files/s" "$OURS" "$(per_second "$SMALL" "${SECONDS_OF[1]}")" "curl --parallel (POSTs only)" true
bench_record "push_${SMALL}x4KiB_peak_rss" "MiB" "${RSS_OF[0]}" "${RSS_OF[1]}" "curl --parallel (POSTs only)" false
bench_record "push_${SMALL}x4KiB_durable_queue" "files/s" "$OURS" "$(per_second "$SMALL" "${SECONDS_OF[3]}")" "same, synchronous=NORMAL" true

if [ "${BENCH_PROFILE:-0}" = 1 ]; then
    log "profiling the small-file push (perf record -g)"
    RUN=profile; setup_push_small
    perf record -g -o "$WORK/perf.data" -- "$BIN" push "$WORK/small" --database "$DB" --state "$WORK/push.sqlite" \
        --quiet --transfers "$PARALLEL" >/dev/null 2>"$WORK/perf.log" || true
    perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -40 >&2 || true
fi

log "pull $SMALL files of 4 KiB"
$API aria2-list "$BASE" "$PIXIEBRIX_TOKEN" "$SMALL_DB" "$WORK/aria2.txt"
OURS_CMD=("$BIN" pull "$WORK/out" --database "$SMALL_DB" --state "$WORK/pull.sqlite" --quiet --transfers "$PARALLEL")
ARIA_CMD=(aria2c -q -j "$PARALLEL" -d "$WORK/out" -i "$WORK/aria2.txt" --allow-overwrite=true --auto-file-renaming=false --file-allocation=none)
UNSYNCED_CMD=(env ASSETS_QUEUE_DURABILITY=normal "${OURS_CMD[@]}")
alternate "assets pull (small)" setup_pull OURS_CMD "aria2c -j 16 (small)" setup_pull ARIA_CMD \
          "assets pull (queue unsynced)" setup_pull UNSYNCED_CMD
setup_pull; "$BIN" pull "$WORK/out" --database "$SMALL_DB" --state "$WORK/pull.sqlite" --quiet
diff -rq "$WORK/small" "$WORK/out" >/dev/null || { echo "pulled tree differs" >&2; exit 1; }
bench_record "pull_${SMALL}x4KiB" "files/s" "$(per_second "$SMALL" "${SECONDS_OF[0]}")" "$(per_second "$SMALL" "${SECONDS_OF[1]}")" "aria2c -j 16" true
bench_record "pull_${SMALL}x4KiB_peak_rss" "MiB" "${RSS_OF[0]}" "${RSS_OF[1]}" "aria2c -j 16" false
bench_record "pull_${SMALL}x4KiB_durable_queue" "files/s" "$(per_second "$SMALL" "${SECONDS_OF[0]}")" "$(per_second "$SMALL" "${SECONDS_OF[2]}")" "same, synchronous=NORMAL" true

setup_push_big() { new_db big; BIG_DB=$DB; rm -f "$WORK/push.sqlite"*; }
setup_curl_big() { new_db curl-big; $API curl-posts "$BASE" "$PIXIEBRIX_TOKEN" "$DB" "$WORK/big" "$WORK/posts.cfg"; }
log "push one ${BIG_LABEL} file"
OURS_CMD=("$BIN" push "$WORK/big" --database '$DB' --state "$WORK/push.sqlite" --quiet)
CURL_CMD=(curl -K "$WORK/posts.cfg")
alternate "assets push (big)" setup_push_big OURS_CMD "curl presigned POST (big)" setup_curl_big CURL_CMD
bench_record "push_${BIG_LABEL}" "MB/s" "$(mbps "$BIG_BYTES" "${SECONDS_OF[0]}")" "$(mbps "$BIG_BYTES" "${SECONDS_OF[1]}")" "curl -F (POST only)" true
bench_record "push_${BIG_LABEL}_peak_rss" "MiB" "${RSS_OF[0]}" "${RSS_OF[1]}" "curl -F (POST only)" false

log "pull one ${BIG_LABEL} file"
$API aria2-list "$BASE" "$PIXIEBRIX_TOKEN" "$BIG_DB" "$WORK/aria2.txt"
BIG_URL="$(head -1 "$WORK/aria2.txt")"
OURS_CMD=("$BIN" pull "$WORK/out" --database "$BIG_DB" --state "$WORK/pull.sqlite" --quiet)
CURL_CMD=(curl -sS --fail -o "$WORK/out/big.bin" "$BIG_URL")
MD5_CMD=(md5sum "$WORK/big/big.bin")
alternate "assets pull (big)" setup_pull OURS_CMD "curl -o (big)" setup_pull CURL_CMD "md5sum (big)" nothing MD5_CMD
setup_pull; "$BIN" pull "$WORK/out" --database "$BIG_DB" --state "$WORK/pull.sqlite" --quiet
cmp -s "$WORK/big/big.bin" "$WORK/out/big.bin" || { echo "pulled big file differs" >&2; exit 1; }
OURS=$(mbps "$BIG_BYTES" "${SECONDS_OF[0]}"); CURL_RATE=$(mbps "$BIG_BYTES" "${SECONDS_OF[1]}"); MD5_RATE=$(mbps "$BIG_BYTES" "${SECONDS_OF[2]}")
bench_record "pull_${BIG_LABEL}" "MB/s" "$OURS" "$(smaller "$CURL_RATE" "$MD5_RATE")" "slower of curl -o and md5sum" true
bench_record "pull_${BIG_LABEL}_vs_curl" "MB/s" "$OURS" "$CURL_RATE" "curl -o" true
bench_record "pull_${BIG_LABEL}_vs_md5sum" "MB/s" "$OURS" "$MD5_RATE" "md5sum" true
bench_record "pull_${BIG_LABEL}_peak_rss" "MiB" "${RSS_OF[0]}" "${RSS_OF[1]}" "curl -o" false

log "no-op re-push of a $TREE-file tree (its manifest recorded as a finished push leaves it)"
RUN=tree; new_db tree; TREE_DB=$DB
# Pushing the tree for real first would cost 4 requests per file; the no-op path reads only the
# manifest and the tree, so the manifest is written as a push would leave it (the binary's own schema).
"$BIN" status "$WORK/tree" --database "$TREE_DB" --state "$WORK/tree.sqlite" >/dev/null
$API seed-manifest "$WORK/tree.sqlite" "$WORK/tree"
OURS_CMD=("$BIN" push "$WORK/tree" --database "$TREE_DB" --state "$WORK/tree.sqlite" --quiet)
FIND_CMD=(sh -c "find '$WORK/tree' -type f -printf '%s %T@\n' > /dev/null")
alternate "assets push (no-op)" nothing OURS_CMD "find -printf" nothing FIND_CMD
bench_record "noop_repush_${TREE}_files" "s" "${SECONDS_OF[0]}" "${SECONDS_OF[1]}" "find -printf" false
bench_record "noop_repush_${TREE}_peak_rss" "MiB" "${RSS_OF[0]}" "${RSS_OF[1]}" "find -printf" false

bench_write sync
