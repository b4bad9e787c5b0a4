#!/usr/bin/env bash
# Suite `queue`: the durable job queue at a million jobs, the network replaced by steps that succeed
# at once (queue-bench, in process). A tree of 1,000,000 small files is queued the way a push queues
# it (sorted walk, each file opened once to check it reads: its hash comes later, from the upload; one
# transaction per batch), then drained through every lifecycle commit.
# Rows: enqueue rate, peak RSS of the enqueue and of the drain, the time to pick the next job at
# 1,000,000 queued jobs vs 10,000 (an O(log n) pick stays within 2x), and state-file bytes per job.
#   QUEUE_JOBS=N  another size than 1,000,000 (BENCH_QUICK=1: 20,000)
#   QUEUE_BENCH_BIN=PATH  measure that queue-bench instead of building it
set -euo pipefail
source "$(dirname "$0")/../lib/bench.sh"
cd "$ROOT"

ensure_packages "${BUILD_PACKAGES[@]}" time python3

JOBS=${QUEUE_JOBS:-$([ "${BENCH_QUICK:-0}" = 1 ] && echo 20000 || echo 1000000)}
SMALL_JOBS=10000
WORKERS=16
LABEL=$([ "$JOBS" -ge 1000000 ] && echo "$((JOBS / 1000000))M" || echo "$((JOBS / 1000))k")

QB="$(release_binary queue-bench "${QUEUE_BENCH_BIN:-}")"

WORK="$(mktemp -d /tmp/bench-queue.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

log "making a tree of $JOBS files (and one of $SMALL_JOBS)"
python3 - "$WORK" "$JOBS" "$SMALL_JOBS" <<'PY'
import os, sys
work, jobs, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for name, count in (("tree", jobs), ("small", small)):
    for i in range(count):
        d = os.path.join(work, name, f"d{i % 1000:03d}")
        if i < 1000:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}.txt"), "w") as f:
            f.write(str(i))
PY

value() { sed -n "s/^$1 //p" "$2"; }

log "enqueue $JOBS files"
bench_run_out() { # like bench_run, keeping stdout in $WORK/out.txt
    local timefile; timefile="$(mktemp)"
    /usr/bin/time -v -o "$timefile" "$@" >"$WORK/out.txt"
    BENCH_RSS_MIB=$(awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$timefile")
    rm -f "$timefile"
}
bench_run_out "$QB" enqueue "$WORK/tree" "$WORK/big.sqlite"
cat "$WORK/out.txt" >&2
[ "$(value queued "$WORK/out.txt")" = "$JOBS" ] || { echo "queued $(value queued "$WORK/out.txt") of $JOBS" >&2; exit 1; }
ENQUEUE_RATE=$(value enqueue_files_per_second "$WORK/out.txt")
BYTES_PER_JOB=$(value state_bytes_per_job "$WORK/out.txt")
ENQUEUE_RSS=$BENCH_RSS_MIB

"$QB" enqueue "$WORK/small" "$WORK/small.sqlite" >/dev/null
PICK_BIG=(); PICK_SMALL=()
for run in 1 2 3; do   # alternated, medians of 3
    PICK_BIG+=("$("$QB" pick "$WORK/big.sqlite" | sed -n 's/^pick_ns //p')")
    PICK_SMALL+=("$("$QB" pick "$WORK/small.sqlite" | sed -n 's/^pick_ns //p')")
    printf '  pick run %d: %s ns at %s jobs, %s ns at %s jobs\n' "$run" "${PICK_BIG[-1]}" "$JOBS" "${PICK_SMALL[-1]}" "$SMALL_JOBS" >&2
done
PICK_BIG_NS=$(median "${PICK_BIG[@]}"); PICK_SMALL_NS=$(median "${PICK_SMALL[@]}")

log "drain $JOBS jobs, $WORKERS workers"
bench_run_out "$QB" drain "$WORK/big.sqlite" "$WORKERS"
cat "$WORK/out.txt" >&2
[ "$(value drained "$WORK/out.txt")" = "$JOBS" ] || { echo "drained $(value drained "$WORK/out.txt") of $JOBS" >&2; exit 1; }
DRAIN_RATE=$(value drain_jobs_per_second "$WORK/out.txt")
DRAIN_RSS=$BENCH_RSS_MIB
PEAK=$(awk -v a="$ENQUEUE_RSS" -v b="$DRAIN_RSS" 'BEGIN { print (a > b ? a : b) }')

# Rows without a peer tool carry their goal as the peer (ratio = fraction of the goal).
bench_record "queue_${LABEL}_enqueue" "files/s" "$ENQUEUE_RATE" 0 "no peer" true
bench_record "queue_${LABEL}_drain" "jobs/s" "$DRAIN_RATE" 0 "no peer (instant server)" true
bench_record "queue_${LABEL}_peak_rss" "MiB" "$PEAK" 256 "goal: at most 256 MiB" false
bench_record "queue_next_job_${LABEL}_vs_10k" "ratio" "$(awk -v a="$PICK_BIG_NS" -v b="$PICK_SMALL_NS" 'BEGIN { printf "%.3f", a / b }')" 2 "goal: at most 2" false
bench_record "queue_next_job_${LABEL}" "ns" "$PICK_BIG_NS" "$PICK_SMALL_NS" "the same at 10,000 jobs" false
bench_record "queue_bytes_per_job" "bytes" "$BYTES_PER_JOB" 0 "no peer" false

bench_write queue
