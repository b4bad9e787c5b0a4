#!/usr/bin/env bash
# Suite `transfer`: the Transfer engine (through transfer-bench) against the curl command line,
# both talking to one local nginx: a large download, a large upload (throughput and peak RSS),
# and many small GETs at concurrency 16 (requests per second). Medians of 3 runs.
set -euo pipefail
source "$(dirname "$0")/../lib/bench.sh"
cd "$ROOT"

ensure_packages "${BUILD_PACKAGES[@]}" nginx time python3

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    SIZE_MIB=32; GETS=200
else
    SIZE_MIB=1024; GETS=2000
fi
RUNS=${BENCH_RUNS:-3}
PARALLEL=16
SIZE_LABEL=$([ "$SIZE_MIB" -ge 1024 ] && echo "$((SIZE_MIB / 1024))GiB" || echo "${SIZE_MIB}MiB")

log "building transfer-bench (release)"
BENCH_BIN="$(release_binary transfer-bench)"

# Files live in memory (tmpfs) when there is room, so that disk writeback, which comes and goes,
# does not decide which client looks faster: the suite compares clients, not disks.
BASE_DIR=/tmp
if [ -d /dev/shm ] && [ "$(df -k --output=avail /dev/shm | tail -1)" -gt $(( (3 * SIZE_MIB + 512) * 1024 )) ]; then
    BASE_DIR=/dev/shm
fi
WORK="$(mktemp -d "$BASE_DIR/bench-transfer.XXXXXX")"
NGINX_PID=""
cleanup() {
    if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/www/upload" "$WORK/tmp"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$WORK/nginx.conf" <<CONF
daemon off;
user root;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path $WORK/tmp/body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fastcgi;
    uwsgi_temp_path $WORK/tmp/uwsgi;
    scgi_temp_path $WORK/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        root $WORK/www;
        location /upload/ {
            dav_methods PUT;
            client_max_body_size 0;
            client_body_buffer_size 1m;
        }
    }
}
CONF
nginx -c "$WORK/nginx.conf" -e "$WORK/error.log" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
BASE="http://127.0.0.1:$PORT"

log "making test data: ${SIZE_LABEL} file, 4 KiB file"
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/www/big.bin"
head -c 4096 /dev/urandom > "$WORK/www/small.bin"
BYTES=$((SIZE_MIB * 1024 * 1024))
printf "silent\nshow-error\nfail\n" > "$WORK/curl-gets.cfg"
for _ in $(seq "$GETS"); do printf 'url = "%s/small.bin"\noutput = "/dev/null"\n' "$BASE" >> "$WORK/curl-gets.cfg"; done

# measure_pair LABEL OURS_ARRAY PEER_ARRAY : RUNS runs of each, alternating so that the machine's
# load hits both alike; sets OURS_SECONDS/OURS_RSS and PEER_SECONDS/PEER_RSS to the medians.
measure_pair() {
    local label="$1"
    local -n ours_cmd="$2" peer_cmd="$3"
    local ours_s=() ours_r=() peer_s=() peer_r=()
    for run in $(seq "$RUNS"); do
        rm -f "$WORK/out.bin"
        bench_run "${ours_cmd[@]}"
        ours_s+=("$BENCH_SECONDS"); ours_r+=("$BENCH_RSS_MIB")
        printf '  %-10s ours run %d: %8.3f s %7.1f MiB RSS\n' "$label" "$run" "$BENCH_SECONDS" "$BENCH_RSS_MIB" >&2
        rm -f "$WORK/out.bin"
        bench_run "${peer_cmd[@]}"
        peer_s+=("$BENCH_SECONDS"); peer_r+=("$BENCH_RSS_MIB")
        printf '  %-10s peer run %d: %8.3f s %7.1f MiB RSS\n' "$label" "$run" "$BENCH_SECONDS" "$BENCH_RSS_MIB" >&2
    done
    OURS_SECONDS=$(median "${ours_s[@]}"); OURS_RSS=$(median "${ours_r[@]}")
    PEER_SECONDS=$(median "${peer_s[@]}"); PEER_RSS=$(median "${peer_r[@]}")
}
mbps() { awk -v b="$BYTES" -v s="$1" 'BEGIN { printf "%.3f", b / s / 1e6 }'; }
rps() { awk -v n="$GETS" -v s="$1" 'BEGIN { printf "%.3f", n / s }'; }

log "download ${SIZE_LABEL}"
OURS=("$BENCH_BIN" download "$BASE/big.bin" "$WORK/out.bin")
PEER=(curl -sSf -o "$WORK/out.bin" "$BASE/big.bin")
rm -f "$WORK/out.bin"; "${OURS[@]}"
cmp -s "$WORK/out.bin" "$WORK/www/big.bin" || { echo "ours: downloaded bytes differ" >&2; exit 1; }
measure_pair download OURS PEER
bench_record "download_${SIZE_LABEL}_throughput" "MB/s" "$(mbps "$OURS_SECONDS")" "$(mbps "$PEER_SECONDS")" curl true
bench_record "download_${SIZE_LABEL}_peak_rss" "MiB" "$OURS_RSS" "$PEER_RSS" curl false

log "upload ${SIZE_LABEL} (PUT)"
OURS=("$BENCH_BIN" upload "$BASE/upload/ours.bin" "$WORK/www/big.bin")
PEER=(curl -sSf -o /dev/null -T "$WORK/www/big.bin" "$BASE/upload/curl.bin")
"${OURS[@]}"
cmp -s "$WORK/www/upload/ours.bin" "$WORK/www/big.bin" || { echo "ours: uploaded bytes differ" >&2; exit 1; }
measure_pair upload OURS PEER
rm -f "$WORK/www/upload/"*.bin
bench_record "upload_${SIZE_LABEL}_throughput" "MB/s" "$(mbps "$OURS_SECONDS")" "$(mbps "$PEER_SECONDS")" curl true
bench_record "upload_${SIZE_LABEL}_peak_rss" "MiB" "$OURS_RSS" "$PEER_RSS" curl false

log "$GETS GETs of 4 KiB, $PARALLEL at a time"
OURS=("$BENCH_BIN" gets "$BASE/small.bin" "$GETS" "$PARALLEL")
PEER=(curl -sSf --no-progress-meter --parallel --parallel-max "$PARALLEL" -K "$WORK/curl-gets.cfg")
measure_pair gets OURS PEER
bench_record "small_gets_4KiB_c${PARALLEL}" "req/s" "$(rps "$OURS_SECONDS")" "$(rps "$PEER_SECONDS")" \
    "curl --parallel" true

bench_write transfer
