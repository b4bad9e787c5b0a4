"""Talks to `assets serve` for the benchmarks' peer tools (curl, aria2c), which need URLs made ahead.

  bench_api.py curl-posts BASE TOKEN DB DIR OUT   create an asset per file of DIR and write a curl
                                                  config that sends each presigned POST (run with --parallel)
  bench_api.py aria2-list BASE TOKEN DB OUT       write an aria2c input file with every uploaded asset's
                                                  signed storage URL (from the 302) and its name
  bench_api.py create-posts BASE TOKEN DB COUNT OUT
                                                  write a curl config of COUNT asset creates (the API's
                                                  POST .../assets/), to measure the server's create rate
  bench_api.py seed-manifest STATE DIR            record every file of DIR in STATE's manifest (size, mtime,
                                                  inode when the schema has it), as a finished push leaves it
"""
import http.client
import json
import os
import sys
import urllib.parse


def connection(base):
    parts = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port or 80)


def request(conn, token, method, path, body=None):
    headers = {"Authorization": f"Token {token}", "Accept": "application/json; version=2.0"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def quote(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def curl_posts(base, token, db, folder, out):
    conn = connection(base)
    names = sorted(os.path.relpath(os.path.join(root, f), folder) for root, _, files in os.walk(folder) for f in files)
    with open(out, "w") as cfg:
        cfg.write("silent\nshow-error\nfail\n")
        for index, name in enumerate(names):
            status, _, body = request(conn, token, "POST", f"/api/databases/{db}/assets/", {"filename": name})
            assert status == 201, (status, body)
            created = json.loads(body)
            if index:
                cfg.write("next\n")
            cfg.write(f"url = {quote(created['upload_url'])}\noutput = \"/dev/null\"\n")
            for key, value in created["fields"].items():
                cfg.write(f"form-string = {quote(key + '=' + value)}\n")
            cfg.write(f"form = {quote('file=@' + os.path.join(folder, name))}\n")


def aria2_list(base, token, db, out):
    conn = connection(base)
    assets, page = [], 1
    while True:
        status, headers, body = request(conn, token, "GET", f"/api/databases/{db}/assets/?page={page}&page_size=1000")
        assert status == 200, (status, body)
        items = json.loads(body)
        assets += items
        if 'rel="next"' not in headers.get("Link", ""):
            break
        page += 1
    with open(out, "w") as listing:
        for asset in assets:
            if not asset["is_uploaded"]:
                continue
            status, headers, _ = request(conn, token, "GET", f"/api/databases/{db}/assets/{asset['id']}/")
            assert status == 302, status
            listing.write(f"{headers['Location']}\n  out={asset['filename']}\n")


def create_posts(base, token, db, count, out):
    with open(out, "w") as cfg:
        cfg.write("silent\nshow-error\nfail\n")
        for index in range(int(count)):
            if index:
                cfg.write("next\n")
            cfg.write(f"url = {quote(f'{base}/api/databases/{db}/assets/')}\noutput = \"/dev/null\"\n")
            cfg.write(f"header = {quote('Authorization: Token ' + token)}\n")
            cfg.write(f"header = {quote('Content-Type: application/json')}\n")
            cfg.write(f"header = {quote('Accept: application/json; version=2.0')}\n")
            cfg.write(f"data = {quote(json.dumps({'filename': f'ceiling/{index}.bin'}))}\n")


def seed_manifest(state, folder):
    import sqlite3
    db = sqlite3.connect(state)
    columns = {row[1] for row in db.execute("PRAGMA table_info(manifest)")}
    rows = []
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            rows.append((os.path.relpath(path, folder), info.st_size, info.st_mtime_ns, "0" * 32, "1" * 64,
                         f"seeded-{len(rows)}", "0" * 32, "2026-01-01 00:00:00.000", info.st_ino))
    if "inode" in columns:
        db.executemany("INSERT INTO manifest(path, size, mtime_ns, md5, sha256, asset_id, etag, synced_at, inode) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    else:
        db.executemany("INSERT INTO manifest(path, size, mtime_ns, md5, sha256, asset_id, etag, synced_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [row[:-1] for row in rows])
    db.commit()


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"curl-posts": curl_posts, "aria2-list": aria2_list, "create-posts": create_posts,
     "seed-manifest": seed_manifest}[command](*args)
