# Helpers for scripts/bench.d/*.sh: timing, peak RSS, medians, the results table and JSON.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BENCH_RESULTS=()

# bench_run OUT_PREFIX CMD... : runs CMD once (stdout discarded), sets BENCH_SECONDS and BENCH_RSS_MIB.
bench_run() {
    local timefile
    timefile="$(mktemp)"
    local start end
    start=$(date +%s%N)
    /usr/bin/time -v -o "$timefile" "$@" >/dev/null
    end=$(date +%s%N)
    BENCH_SECONDS=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.6f", (e - s) / 1e9 }')
    BENCH_RSS_MIB=$(awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$timefile")
    rm -f "$timefile"
}

# median VALUE... : prints the median.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# free_port : prints a free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_record NAME UNIT OURS PEER PEER_NAME HIGHER_IS_BETTER(true|false)
bench_record() {
    BENCH_RESULTS+=("$1|$2|$3|$4|$5|$6")
}

# bench_write SUITE : prints the table and writes bench-results/SUITE.json.
bench_write() {
    mkdir -p "$ROOT/bench-results"
    printf '%s\n' "${BENCH_RESULTS[@]}" | python3 "$ROOT/scripts/lib/bench_results.py" "$ROOT/bench-results/$1.json"
    log "wrote bench-results/$1.json"
}

# bench_measure NAME CMD... : ${BENCH_RUNS:-3} runs of CMD, each line printed on stderr; sets M_SECONDS and M_RSS
# to the medians of the wall time and the peak RSS (MiB).
bench_measure() {
    local name="$1"; shift
    local seconds=() rss=()
    for run in $(seq "${BENCH_RUNS:-3}"); do
        bench_run "$@"
        seconds+=("$BENCH_SECONDS"); rss+=("$BENCH_RSS_MIB")
        printf '  %-28s run %d: %8.3f s  %8.1f MiB RSS\n' "$name" "$run" "$BENCH_SECONDS" "$BENCH_RSS_MIB" >&2
    done
    M_SECONDS=$(median "${seconds[@]}"); M_RSS=$(median "${rss[@]}")
}

# release_binary PRODUCT [PREBUILT] : prints the path of PRODUCT built in release mode (in .build-release, so the
# debug build the tests use stays as it is), or PREBUILT when given (e.g. an older build, for a before/after).
release_binary() {
    if [ -n "${2:-}" ]; then
        echo "$2"
        return
    fi
    log "building $1 (release, in .build-release)"
    swift build -c release --scratch-path "$ROOT/.build-release" --product "$1" >/dev/null
    echo "$(swift build -c release --scratch-path "$ROOT/.build-release" --show-bin-path)/$1"
}
