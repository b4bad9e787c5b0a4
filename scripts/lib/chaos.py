"""The chaos run of scripts/chaos: kill push and pull at random moments under server faults, then
check that nothing was lost, nothing uploaded twice, and no partial file left.

  chaos.py BIN KILLS FILES SEED FAULTS OUT.json
"""
import hashlib
import http.client
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN, KILLS, FILES, SEED, FAULTS, OUT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
MAX_SIZE = 8 << 20
# Seconds a run spends before its first step (start, scan, plan): part of every run's expected time.
STARTUP = 0.5


def log(text):
    print(f"\033[1m==> {text}\033[0m", file=sys.stderr, flush=True)


class Server:
    def __init__(self, work):
        self.log = open(os.path.join(work, "serve.log"), "w+")
        self.process = subprocess.Popen([BIN, "serve", "--data", os.path.join(work, "server"), "--port", "0",
                                         "--faults", FAULTS], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            self.log.seek(0)
            text = self.log.read()
            if "listening on" in text:
                break
            time.sleep(0.05)
        self.url = next(l.split("listening on ", 1)[1].strip() for l in text.splitlines() if "listening on" in l)
        self.token = next(l.split("token: ", 1)[1].strip() for l in text.splitlines() if l.startswith("token: "))

    def request(self, method, path, body=None, accept="application/json; version=2.0"):
        parts = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        headers = {"Authorization": f"Token {self.token}", "Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def faults(self, spec):
        status, _, body = self.request("POST", "/_admin/faults/", {"spec": spec})
        assert status < 300, (status, body)

    def assets(self, db):
        """Every asset (faults must be off)."""
        items, page = [], 1
        while True:
            status, headers, body = self.request("GET", f"/api/databases/{db}/assets/?page={page}&page_size=1000")
            assert status == 200, (status, body)
            items += json.loads(body)
            if 'rel="next"' not in headers.get("Link", ""):
                return items
            page += 1

    def stop(self):
        self.process.terminate()
        self.process.wait()


def make_files(root, rng):
    """FILES files, log-uniform sizes from 1 B to 8 MiB, a few empty ones and one of exactly 8 MiB."""
    digests = {}
    for index in range(FILES):
        if index % 50 == 0:
            size = 0
        elif index == 1:
            size = MAX_SIZE
        else:
            size = int(math.exp(rng.uniform(0, math.log(MAX_SIZE))))
        name = f"d{index % 9}/f{index}.bin"
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = rng.randbytes(size)
        with open(path, "wb") as f:
            f.write(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def states(state_file, table):
    if not os.path.exists(state_file):
        return {}
    db = sqlite3.connect(f"file:{state_file}?mode=ro", uri=True)
    try:
        return dict(db.execute(f"SELECT state, COUNT(*) FROM {table} GROUP BY state").fetchall())
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()


def done_count(state_file, table):
    """Files synced so far: the manifest (finished jobs are pruned when the next run starts)."""
    if not os.path.exists(state_file):
        return 0
    db = sqlite3.connect(f"file:{state_file}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM manifest").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def kill_loop(name, new_round, command_for, table, running_states, rng):
    """KILLS runs, each SIGKILLed after a random fraction of the expected remaining time (unless it ends
    first). A round that finishes is set aside and a fresh one started, so that the kills keep landing
    on work in progress. Returns the counts and the rounds (the last one unfinished)."""
    kills = landed = mid_step = during_create = finished_first = 0
    alive, synced = 0.0, 0
    rounds = [new_round()]
    for attempt in range(KILLS):
        state_file = rounds[-1]["state"]
        done = done_count(state_file, table)
        if done == FILES:
            synced += done
            rounds.append(new_round())
            state_file, done = rounds[-1]["state"], 0
        remaining = (FILES - done) / FILES
        # Expected seconds for a whole round, from the progress so far (20 s before any).
        whole = alive / (synced + done) * FILES if synced + done else 20.0
        delay = rng.random() * (STARTUP + whole * remaining)
        started = time.monotonic()
        process = subprocess.Popen(command_for(rounds[-1]), env=rounds[-1]["env"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            process.wait(timeout=delay)
            finished_first += 1
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            landed += 1
        alive += time.monotonic() - started
        kills += 1
        if process.returncode == -signal.SIGKILL:
            counts = states(state_file, table)
            if any(counts.get(s, 0) for s in running_states):
                mid_step += 1
            in_create = counts.get("creating", 0)
            during_create += in_create
            rounds[-1]["in_create_at_kills"] = rounds[-1].get("in_create_at_kills", 0) + in_create
        if attempt % 10 == 9:
            log(f"{name}: {attempt + 1} runs, {landed} killed ({mid_step} mid-step), round {len(rounds)}, "
                f"{done_count(state_file, table)} of {FILES} synced in it")
    return {"attempts": kills, "killed": landed, "killed_mid_step": mid_step, "ended_before_kill": finished_first,
            "jobs_in_create_at_kills": during_create, "rounds": len(rounds)}, rounds


def finish(name, command, env):
    runs = 0
    while True:
        runs += 1
        result = subprocess.run(command + ["--json"], env=env, capture_output=True, text=True)
        summary = next((json.loads(l) for l in reversed(result.stdout.splitlines()) if '"event":"summary"' in l), {})
        log(f"{name} to completion, run {runs}: exit {result.returncode}, {summary}")
        if result.returncode == 0 or runs == 3:
            return result.returncode, runs, summary


def main():
    rng = random.Random(SEED)
    work = tempfile.mkdtemp(prefix="assets-chaos-")
    server = Server(work)
    try:
        env = dict(os.environ, PIXIEBRIX_URL=server.url, PIXIEBRIX_TOKEN=server.token)
        source = os.path.join(work, "source")
        log(f"making {FILES} files (0 B to 8 MiB) in {work}")
        digests = make_files(source, rng)
        total_bytes = sum(os.path.getsize(os.path.join(source, n)) for n in digests)

        def new_push_round():
            server.faults("")
            index = len(push_rounds_made)
            db = subprocess.run([BIN, "databases", "create", "--name", f"chaos-{SEED}-{index}"], env=env,
                                capture_output=True, text=True, check=True).stdout.strip()
            server.faults(FAULTS + f",seed={SEED + index}")
            push_rounds_made.append(db)
            return {"db": db, "state": os.path.join(work, f"push-{index}.sqlite"), "env": env}

        def push_command(round):
            return [BIN, "push", source, "--database", round["db"], "--state", round["state"], "--quiet"]

        push_rounds_made = []
        log(f"push: {KILLS} runs killed at random moments, faults {FAULTS}")
        push_kills, push_rounds = kill_loop("push", new_push_round, push_command, "push_jobs",
                                            ["creating", "uploading", "marking", "verifying"], rng)
        push_exit, push_runs, push_summary = finish("push", push_command(push_rounds[-1]), env)

        server.faults("")
        lost = duplicated = orphans = create_failures = orphans_recorded = 0
        for round in push_rounds:
            uploaded = {}
            assets = server.assets(round["db"])
            for asset in assets:
                if asset.get("is_uploaded"):
                    uploaded.setdefault(asset["filename"], []).append(asset)
            lost += len(set(digests) - set(uploaded))
            duplicated += sum(1 for v in uploaded.values() if len(v) > 1)
            orphans += sum(1 for a in assets if not a.get("is_uploaded"))
            recorded = sqlite3.connect(f"file:{round['state']}?mode=ro", uri=True)
            create_failures += recorded.execute(
                "SELECT COUNT(*) FROM orphans WHERE reason LIKE 'a create failed after it may have been saved%'").fetchone()[0]
            orphans_recorded += recorded.execute("SELECT COUNT(*) FROM orphans").fetchone()[0]
            recorded.close()

        pull_db = push_rounds[0]["db"]

        def new_pull_round():
            index = len(pull_rounds_made)
            server.faults(FAULTS + f",seed={SEED + 1000 + index}")
            target = os.path.join(work, f"target-{index}")
            os.makedirs(target)
            pull_rounds_made.append(target)
            return {"target": target, "state": os.path.join(work, f"pull-{index}.sqlite"), "env": env}

        def pull_command(round):
            return [BIN, "pull", round["target"], "--database", pull_db, "--state", round["state"], "--quiet"]

        pull_rounds_made = []
        log(f"pull: {KILLS} runs killed at random moments")
        pull_kills, pull_rounds = kill_loop("pull", new_pull_round, pull_command, "pull_jobs", ["downloading", "verifying"], rng)
        pull_exit, pull_runs, pull_summary = finish("pull", pull_command(pull_rounds[-1]), env)

        equal = parts = 0
        for round in pull_rounds:
            for folder, _, files in os.walk(round["target"]):
                parts += sum(1 for f in files if f.endswith(".part"))
            for name, digest in digests.items():
                path = os.path.join(round["target"], name)
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        equal += hashlib.sha256(f.read()).hexdigest() == digest
        expected_equal = len(digests) * len(pull_rounds)

        bound = push_kills["jobs_in_create_at_kills"] + create_failures
        rows = [
            ("push runs killed (of attempts)", f"{push_kills['killed']} of {push_kills['attempts']}", None),
            ("push kills that landed mid-step", push_kills["killed_mid_step"], None),
            (f"push rounds (a fresh database each time one finished)", push_kills["rounds"], None),
            ("push runs to finish the last round", push_runs, push_runs == 1),
            ("files lost", lost, lost == 0),
            ("files with two uploaded assets", duplicated, duplicated == 0),
            (f"orphans (bound: {push_kills['jobs_in_create_at_kills']} in create at kills + {create_failures} create failures)",
             orphans, orphans <= bound),
            ("orphans recorded in the state files", orphans_recorded, None),
            ("pull runs killed (of attempts)", f"{pull_kills['killed']} of {pull_kills['attempts']}", None),
            ("pull kills that landed mid-step", pull_kills["killed_mid_step"], None),
            ("pull rounds (a fresh folder each time one finished)", pull_kills["rounds"], None),
            ("pull runs to finish the last round", pull_runs, pull_runs == 1),
            ("pulled files with equal bytes", f"{equal} of {expected_equal}", equal == expected_equal),
            (".part files left", parts, parts == 0),
        ]
        print(f"\nchaos: {FILES} files, {total_bytes} bytes, faults {FAULTS}, seed {SEED}, {KILLS} kill attempts per direction")
        print(f"{'':<70} {'value':>12}  check")
        for label, value, ok in rows:
            check = "" if ok is None else ("ok" if ok else "FAIL")
            print(f"{label:<70} {str(value):>12}  {check}")
        result = {
            "files": FILES, "bytes": total_bytes, "faults": FAULTS, "seed": SEED, "kills_per_direction": KILLS,
            "push": dict(push_kills, final_exit=push_exit, runs_to_complete=push_runs, final_summary=push_summary),
            "pull": dict(pull_kills, final_exit=pull_exit, runs_to_complete=pull_runs, final_summary=pull_summary),
            "files_lost": lost,
            "files_with_two_uploaded_assets": duplicated,
            "orphans": orphans, "orphan_bound": bound, "orphans_recorded": orphans_recorded,
            "create_failures_recorded": create_failures,
            "pulled_equal": equal, "part_files_left": parts,
            "passed": all(ok is not False for _, _, ok in rows),
        }
        with open(OUT, "w") as out:
            json.dump(result, out, indent=2)
            out.write("\n")
        log(f"wrote {OUT}")
        return 0 if result["passed"] else 1
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


sys.exit(main())
