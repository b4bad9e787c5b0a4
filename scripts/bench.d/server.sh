#!/usr/bin/env bash
# The local server (`assets serve`, release build) under load from tools that are not ours:
#   wrk (concurrency 16): requests/s for asset create, a presigned 4 KiB upload, PATCH, and GET ?meta=true;
#   curl: MB/s for a 1 GiB presigned upload and download, and the server's peak RSS (VmHWM);
#   the download is compared with nginx serving the same file (sendfile) in the same run.
# Medians of 3 runs. Writes bench-results/server.json. BENCH_QUICK=1 uses 64 MiB and short runs.
#   bash scripts/bench.d/server.sh        (ASSETS_BIN=path skips the release build)
# BENCH_METADATA=postgresql runs the server with its metadata on a temporary PostgreSQL cluster (default,
# durable settings), or BENCH_METADATA=postgresql://... on that one; it writes bench-results/server-postgresql.json.
# BENCH_API_ONLY=1 keeps to the requests/s rows.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/postgres.sh"
cd "$ROOT"

ensure_packages wrk curl python3 nginx-light
QUICK="${BENCH_QUICK:-0}"
DURATION=5s
BIG_MIB=1024
if [ "$QUICK" = 1 ]; then DURATION=2s; BIG_MIB=64; fi
RUNS=3

BIN="$(release_binary assets "${ASSETS_BIN:-}")"

WORK="$(mktemp -d)"
SERVER_PID=""
NGINX_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    stop_test_postgres
    rm -rf "$WORK"
}
trap cleanup EXIT

METADATA="${BENCH_METADATA:-sqlite}"
OUTPUT=bench-results/server.json
if [ "$METADATA" = postgresql ]; then
    TEST_POSTGRES_OPTIONS=" " start_test_postgres
    METADATA="$TEST_POSTGRES_URL"
fi
[ "$METADATA" = sqlite ] || OUTPUT=bench-results/server-postgresql.json
log "metadata: ${METADATA%%\?*}"

METADATA_ARGS=()
[ "$METADATA" = sqlite ] || METADATA_ARGS=(--metadata "$METADATA")
"$BIN" serve --data "$WORK/data" --port 0 "${METADATA_ARGS[@]}" >"$WORK/banner" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q '^organization:' "$WORK/banner" 2>/dev/null && break; sleep 0.1; done
URL="$(sed -n 's/^assets serve: listening on //p' "$WORK/banner")"
TOKEN="$(sed -n 's/^token: //p' "$WORK/banner")"
[ -n "$URL" ] || { cat "$WORK/server.log" >&2; echo "server did not start" >&2; exit 1; }
log "server $URL (pid $SERVER_PID)"

AUTH="Authorization: Token $TOKEN"
ACCEPT="Accept: application/json; version=2.0"
api() { curl -sS -H "$AUTH" -H "$ACCEPT" -H 'Content-Type: application/json' "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

DB="$(api -X POST -d '{"name": "bench", "type": "Asset"}' "$URL/api/databases/" | json 'd["id"]')"

# create_asset NAME : prints the create answer (asset, upload_url, fields).
create_asset() { api -X POST -d "{\"filename\": \"$1\"}" "$URL/api/databases/$DB/assets/"; }
# form_args ANSWER : curl -F arguments for the fields, in the server's order.
form_args() { printf '%s' "$1" | json '" ".join("-F %s=%s" % (k, v) for k, v in d["fields"].items())'; }

# A 4 KiB file uploaded and marked once, for PATCH, ?meta=true and the repeated presigned POST.
head -c 4096 /dev/urandom >"$WORK/small.bin"
SMALL="$(create_asset small.bin)"
SMALL_ID="$(printf '%s' "$SMALL" | json 'd["asset"]["id"]')"
UPLOAD_URL="$(printf '%s' "$SMALL" | json 'd["upload_url"]')"
# shellcheck disable=SC2046
curl -sS -o /dev/null $(form_args "$SMALL") -F "file=@$WORK/small.bin" "$UPLOAD_URL"
api -o /dev/null -X PATCH -d '{"is_uploaded": true}' "$URL/api/databases/$DB/assets/$SMALL_ID/"

# The multipart body of the presigned POST, built once by Python for wrk to replay.
printf '%s' "$SMALL" | python3 -c '
import json, sys
d = json.load(sys.stdin)
b = "benchboundary7MA4YWxkTrZu0gW"
out = b""
for k, v in d["fields"].items():
    out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (b, k, v)).encode()
out += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"small.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n" % b).encode()
out += open(sys.argv[1], "rb").read() + ("\r\n--%s--\r\n" % b).encode()
open(sys.argv[2], "wb").write(out)
' "$WORK/small.bin" "$WORK/upload.body"

cat >"$WORK/request.lua" <<'LUA'
local method, body, content_type, token = os.getenv("WRK_METHOD"), os.getenv("WRK_BODY"), os.getenv("WRK_TYPE"), os.getenv("WRK_TOKEN")
if os.getenv("WRK_BODY_FILE") then
    local f = io.open(os.getenv("WRK_BODY_FILE"), "rb"); body = f:read("*a"); f:close()
end
wrk.method = method
wrk.body = body
if content_type then wrk.headers["Content-Type"] = content_type end
if token then
    wrk.headers["Authorization"] = "Token " .. token
    wrk.headers["Accept"] = "application/json; version=2.0"
end
LUA

# wrk_rps URL : requests/s of one wrk run at concurrency 16 (fails on any error answer).
wrk_rps() {
    local out
    out="$(wrk -t 2 -c 16 -d "$DURATION" -s "$WORK/request.lua" "$1" 2>&1)"
    if printf '%s' "$out" | grep -q 'Non-2xx or 3xx responses'; then
        printf '%s\n' "$out" >&2
        echo "error answers during the run" >&2
        exit 1
    fi
    printf '%s' "$out" | awk '/^Requests\/sec:/ { print $2 }'
}


RESULTS="$WORK/results"
: >"$RESULTS"
# record NAME UNIT VALUE HIGHER_IS_BETTER [PEER_VALUE PEER_NAME]
record() {
    printf '%s|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "${5:-}" "${6:-}" >>"$RESULTS"
    printf '  %-34s %12s %s%s\n' "$1" "$3" "$2" "${5:+   ($6: $5)}" >&2
}

measure_rps() {  # NAME URL (WRK_* set by the caller)
    local values=()
    for _ in $(seq "$RUNS"); do values+=("$(wrk_rps "$2")"); done
    record "$1" "requests/s" "$(median "${values[@]}")" true
}

log "requests/s at concurrency 16 (wrk, $DURATION, median of $RUNS)"
WRK_METHOD=POST WRK_BODY='{"filename": "bench.bin"}' WRK_TYPE=application/json WRK_TOKEN="$TOKEN" \
    measure_rps "asset create" "$URL/api/databases/$DB/assets/"
WRK_METHOD=POST WRK_BODY_FILE="$WORK/upload.body" WRK_TYPE="multipart/form-data; boundary=benchboundary7MA4YWxkTrZu0gW" \
    measure_rps "presigned upload 4 KiB" "$UPLOAD_URL"
WRK_METHOD=PATCH WRK_BODY='{"is_uploaded": true}' WRK_TYPE=application/json WRK_TOKEN="$TOKEN" \
    measure_rps "PATCH is_uploaded" "$URL/api/databases/$DB/assets/$SMALL_ID/"
WRK_METHOD=GET WRK_TOKEN="$TOKEN" \
    measure_rps "GET ?meta=true" "$URL/api/databases/$DB/assets/$SMALL_ID/?meta=true"

if [ "${BENCH_API_ONLY:-0}" != 1 ]; then
log "${BIG_MIB} MiB upload and download (curl, median of $RUNS)"
head -c "$((BIG_MIB << 20))" /dev/urandom >"$WORK/big.bin"
BIG_BYTES=$((BIG_MIB << 20))
up=()
down=()
for run in $(seq "$RUNS"); do
    answer="$(create_asset "big-$run.bin")"
    id="$(printf '%s' "$answer" | json 'd["asset"]["id"]')"
    # shellcheck disable=SC2046
    seconds="$(curl -sS -o /dev/null -w '%{time_total}' $(form_args "$answer") -F "file=@$WORK/big.bin" \
        "$(printf '%s' "$answer" | json 'd["upload_url"]')")"
    up+=("$(awk -v b="$BIG_BYTES" -v s="$seconds" 'BEGIN { printf "%.1f", b / s / 1e6 }')")
    api -o /dev/null -X PATCH -d '{"is_uploaded": true}' "$URL/api/databases/$DB/assets/$id/"
    location="$(curl -sS -o /dev/null -w '%{redirect_url}' -H "$AUTH" "$URL/api/databases/$DB/assets/$id/")"
    seconds="$(curl -sS -o /dev/null -w '%{time_total}' "$location")"
    down+=("$(awk -v b="$BIG_BYTES" -v s="$seconds" 'BEGIN { printf "%.1f", b / s / 1e6 }')")
done
PEAK_RSS="$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status")"

log "nginx serving the same file"
mkdir -p "$WORK/www"
mv "$WORK/big.bin" "$WORK/www/big.bin"
NGINX_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
user root;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; }
}
NGINX
/usr/sbin/nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && break; sleep 0.1; done
peer=()
for _ in $(seq "$RUNS"); do
    seconds="$(curl -sS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$NGINX_PORT/big.bin")"
    peer+=("$(awk -v b="$BIG_BYTES" -v s="$seconds" 'BEGIN { printf "%.1f", b / s / 1e6 }')")
done

record "upload ${BIG_MIB} MiB" "MB/s" "$(median "${up[@]}")" true
record "download ${BIG_MIB} MiB" "MB/s" "$(median "${down[@]}")" true "$(median "${peer[@]}")" "nginx (sendfile)"
record "server peak RSS" "MiB" "$PEAK_RSS" false
fi

mkdir -p bench-results
python3 - "$RESULTS" "$OUTPUT" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1]):
    name, unit, ours, higher, peer, peer_name = line.rstrip("\n").split("|")
    ours, peer = float(ours), float(peer) if peer else None
    rows.append({"name": name, "unit": unit, "ours": ours, "peer": peer, "peer_name": peer_name or None,
                 "ratio": round(ours / peer, 3) if peer else None, "higher_is_better": higher == "true"})
json.dump(rows, open(sys.argv[2], "w"), indent=2)
print()
print("%-26s %10s  %-11s %10s  %-17s %6s" % ("benchmark", "ours", "unit", "peer", "peer name", "ratio"))
for r in rows:
    peer = "%10.1f" % r["peer"] if r["peer"] is not None else "%10s" % "-"
    ratio = "%6.2f" % r["ratio"] if r["ratio"] is not None else "%6s" % "-"
    print("%-26s %10.1f  %-11s %s  %-17s %s" % (r["name"], r["ours"], r["unit"], peer, r["peer_name"] or "-", ratio))
PY
log "wrote $OUTPUT"
