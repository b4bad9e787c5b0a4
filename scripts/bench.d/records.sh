#!/usr/bin/env bash
# Suite `records`: `assets records` (JSON and CSV) against curl fetching the same pages, `assets archives pull`
# of 365 daily files against aria2c -j 16 on the same links, and the peak RSS of `assets records` at 10k and
# 100k records (it should stay flat). All against one local `assets serve`, in the same run; medians of 3.
set -euo pipefail
source "$(dirname "$0")/../lib/bench.sh"
cd "$ROOT"

ensure_packages "${BUILD_PACKAGES[@]}" aria2 time python3

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    RECORDS=20000; SMALL=2000; DAYS=30; PER_DAY=20
else
    RECORDS=100000; SMALL=10000; DAYS=365; PER_DAY=100
fi
PAGE=10000
PAGES=$(( (RECORDS + PAGE - 1) / PAGE ))

log "building assets (release)"
ASSETS="$(release_binary assets "${ASSETS_BIN:-}")"

WORK="$(mktemp -d /tmp/bench-records.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BASE="http://127.0.0.1:$PORT"
"$ASSETS" serve --data "$WORK/data" --port "$PORT" --token "$TOKEN" > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "$BASE/api/databases/" && break; sleep 0.1; done
ORG=$(awk '/^organization:/ { print $2 }' "$WORK/serve.log")
export PIXIEBRIX_TOKEN="$TOKEN" PIXIEBRIX_URL="$BASE"

api() { curl -sSf -H "Authorization: Token $TOKEN" -H "Accept: application/json; version=2.0" "$@"; }
new_database() {
    api -H "Content-Type: application/json" -d "{\"name\": \"$1\", \"type\": \"Asset\"}" "$BASE/api/databases/" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
# seed DATABASE COUNT PER_DAY : COUNT records, PER_DAY of them created and updated on each day from 2024-01-01.
seed() {
    python3 - "$1" "$2" "$3" "$WORK/seed" <<'PY'
import datetime, json, sys
database, count, per_day, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
start = datetime.datetime(2024, 1, 1)
batch, files = [], 0
def flush():
    global batch, files
    with open(f"{prefix}-{files}.json", "w") as out:
        json.dump({"database": database, "records": batch}, out)
    batch, files = [], files + 1
for i in range(count):
    stamp = (start + datetime.timedelta(days=i // per_day, seconds=i % per_day)).strftime("%Y-%m-%dT%H:%M:%SZ")
    batch.append({"id": f"rec-{i:07d}", "created_at": stamp, "updated_at": stamp,
                  "data": {"user email": f"user{i}@example.com", "name": f"Name {i}", "n": i,
                           "note": "text, with a comma and \"quotes\"", "active": i % 2 == 0}})
    if len(batch) == 10000:
        flush()
if batch:
    flush()
PY
    for file in "$WORK"/seed-*.json; do
        api -H "Content-Type: application/json" --data-binary "@$file" -o /dev/null "$BASE/_admin/records/"
        rm -f "$file"
    done
}

log "seeding $RECORDS records (and $SMALL in a second database)"
BIG=$(new_database big)
seed "$BIG" "$RECORDS" 300
SMALLDB=$(new_database small)
seed "$SMALLDB" "$SMALL" 300

per_second() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", n / s }'; }
RECORDS_URL="$BASE/api/databases/$BIG/records/?page_size=$PAGE&page=[1-$PAGES]"

log "assets records: $RECORDS records as JSON"
bench_measure "ours records json" "$ASSETS" records --database "$BIG" --format json -o "$WORK/ours.json"
test "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/ours.json")" = "$RECORDS" \
    || { echo "ours: wrong record count in JSON" >&2; exit 1; }
OURS=$(per_second "$RECORDS" "$M_SECONDS"); OURS_RSS_BIG=$M_RSS
bench_measure "curl pages json" curl -sSf -H "Authorization: Token $TOKEN" -H "Accept: application/json; version=2.0" \
    -o "$WORK/curl-#1.json" "$RECORDS_URL"
bench_record "records_json_${RECORDS}" "rec/s" "$OURS" "$(per_second "$RECORDS" "$M_SECONDS")" "curl (same pages)" true

log "assets records: $RECORDS records as CSV"
bench_measure "ours records csv" "$ASSETS" records --database "$BIG" --format csv -o "$WORK/ours.csv"
test "$(python3 -c 'import csv, sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))) - 1)' "$WORK/ours.csv")" = "$RECORDS" \
    || { echo "ours: wrong row count in CSV" >&2; exit 1; }
OURS=$(per_second "$RECORDS" "$M_SECONDS")
bench_measure "curl pages csv" curl -sSf -H "Authorization: Token $TOKEN" -H "Accept: text/csv; version=2.0" \
    -o "$WORK/curl-#1.csv" "$RECORDS_URL"
bench_record "records_csv_${RECORDS}" "rec/s" "$OURS" "$(per_second "$RECORDS" "$M_SECONDS")" "curl (same pages)" true

log "peak RSS of assets records at $SMALL records"
bench_measure "ours records json small" "$ASSETS" records --database "$SMALLDB" --format json -o "$WORK/small.json"
bench_record "records_peak_rss_${RECORDS}_vs_${SMALL}" "MiB" "$OURS_RSS_BIG" "$M_RSS" "ours at $SMALL records" false

log "archives: $DAYS daily files"
ARCH=$(new_database archives)
seed "$ARCH" $((DAYS * PER_DAY)) "$PER_DAY"
api -H "Content-Type: application/json" -d "{\"database\": \"$ARCH\", \"before_date\": \"2100-01-01\"}" -o /dev/null \
    "$BASE/_admin/archive/"
pull_ours() { rm -rf "$WORK/arch-ours"; "$ASSETS" archives pull "$WORK/arch-ours" --organization "$ORG" --database "$ARCH" --transfers 16 --quiet; }
pull_aria() {
    rm -rf "$WORK/arch-aria"
    aria2c -q -j 16 -x 1 --allow-overwrite=true --auto-file-renaming=false -d "$WORK/arch-aria" -i "$WORK/links.txt"
}
export -f pull_ours pull_aria
export ASSETS WORK ORG ARCH
bench_measure "ours archives pull" bash -c pull_ours
test "$(ls "$WORK/arch-ours" | wc -l)" = "$DAYS" || { echo "ours: wrong number of archive files" >&2; exit 1; }
OURS=$M_SECONDS
# The same links (fresh: listed now, valid for an hour), with the same file names.
api "$BASE/api/organizations/$ORG/databases/$ARCH/record-archives/?ordering=date&page_size=1000" \
    | python3 -c 'import json, sys
for a in json.load(sys.stdin): print(a["file"] + "\n  out=" + a["date"] + ".jsonl")' \
    > "$WORK/links.txt"
bench_measure "aria2c -j 16" bash -c pull_aria
test "$(ls "$WORK/arch-aria" | wc -l)" = "$DAYS" || { echo "aria2c: wrong number of archive files" >&2; exit 1; }
diff -rq "$WORK/arch-ours" "$WORK/arch-aria" >/dev/null || { echo "archives differ between ours and aria2c" >&2; exit 1; }
bench_record "archives_pull_${DAYS}_files" "s" "$OURS" "$M_SECONDS" "aria2c -j 16" false

bench_write records
