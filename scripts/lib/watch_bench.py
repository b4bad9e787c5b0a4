"""Drives `assets watch --json` for scripts/bench.d/watch.sh and measures it from outside.

    watch_bench.py latency OUT.json FILES SIZE -- ASSETS_WATCH_COMMAND...
        Writes FILES files one at a time into the watched folder (open, write, close) and times
        each from its close to the watch's `done` event for it (the verified upload).
    watch_bench.py burst OUT.json FILES METRICS_URL -- ASSETS_WATCH_COMMAND...
        Writes FILES small files as fast as it can and times from the first write until the
        watch's /metrics (at METRICS_URL; the command has `--metrics`) counts them all done: that
        is lighter than JSON events for 10,000 files. Reads the watch's peak RSS (VmHWM) before
        stopping it with SIGTERM.

    watch_bench.py backlog OUT.json FILES METRICS_URL -- ASSETS_WATCH_COMMAND...
        The folder already holds FILES files: times from the watch's start until /metrics counts
        them all done (the startup scan against the manifest, as after a restart).

The watched folder is the command's second argument (`assets watch DIR ...`). Results go to
OUT.json as {"seconds": [...]} or {"seconds": s, "write_seconds": w, "rss_mib": m}.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request


class Watch:
    def __init__(self, command):
        self.folder = command[2]
        self.done = {}
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "done":
                with self.cond:
                    self.done[event["path"]] = time.monotonic()
                    self.cond.notify_all()

    def wait_for(self, paths, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not all(p in self.done for p in paths):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    missing = [p for p in paths if p not in self.done]
                    raise SystemExit(f"watch bench: {len(missing)} file(s) never reported done, e.g. {missing[:3]}")
                self.cond.wait(min(left, 1.0))

    def wait_ready(self):
        """The service is up once a probe file is reported done."""
        probe = "probe.txt"
        write(os.path.join(self.folder, probe), b"probe\n")
        self.wait_for([probe], 120)

    def peak_rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=120)
        if code != 0:
            raise SystemExit(f"watch bench: assets watch exited {code} after SIGTERM")


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(data)


def latency(out, files, size, command):
    watch = Watch(command)
    watch.wait_ready()
    seconds = []
    for index in range(files):
        relative = f"latency/{index}.bin"
        write(os.path.join(watch.folder, relative), os.urandom(size))
        closed = time.monotonic()
        watch.wait_for([relative], 120)
        seconds.append(watch.done[relative] - closed)
        time.sleep(0.05)
    watch.stop()
    json.dump({"seconds": seconds}, open(out, "w"))


def done_total(metrics_url):
    try:
        text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    except OSError:
        return -1
    for line in text.splitlines():
        if line.startswith("assets_watch_files_done_total "):
            return int(float(line.split()[1]))
    return -1


def wait_done(watch, metrics_url, count, timeout, what):
    """Waits until the watch's /metrics counts `count` files done."""
    deadline = time.monotonic() + timeout
    while done_total(metrics_url) < count:
        if time.monotonic() > deadline or watch.proc.poll() is not None:
            raise SystemExit(f"watch bench: {what}")
        time.sleep(0.05)


def burst(out, files, metrics_url, command):
    watch = Watch(command)
    write(os.path.join(watch.folder, "probe.txt"), b"probe\n")
    wait_done(watch, metrics_url, 1, 120, "the watch never uploaded its probe file")
    started = time.monotonic()
    for index in range(files):
        write(os.path.join(watch.folder, f"burst/d{index % 50}/f{index}.dat"), os.urandom(100 + index % 900))
    written = time.monotonic() - started
    wait_done(watch, metrics_url, files + 1, 1800, "the burst was not drained")
    seconds = time.monotonic() - started
    rss = watch.peak_rss_mib()
    watch.stop()
    json.dump({"seconds": seconds, "write_seconds": written, "rss_mib": rss}, open(out, "w"))


def backlog(out, files, metrics_url, command):
    started = time.monotonic()
    watch = Watch(command)
    wait_done(watch, metrics_url, files, 1800, "the backlog was not drained")
    seconds = time.monotonic() - started
    rss = watch.peak_rss_mib()
    watch.stop()
    json.dump({"seconds": seconds, "rss_mib": rss}, open(out, "w"))


def main():
    args = sys.argv[1:]
    split = args.index("--")
    head, command = args[:split], args[split + 1:]
    if head[0] == "latency":
        latency(head[1], int(head[2]), int(head[3]), command)
    elif head[0] == "burst":
        burst(head[1], int(head[2]), head[3], command)
    elif head[0] == "backlog":
        backlog(head[1], int(head[2]), head[3], command)
    else:
        raise SystemExit(f"unknown mode {head[0]}")


if __name__ == "__main__":
    main()
