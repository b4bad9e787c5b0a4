"""Drives `assets watch --json` for scripts/bench.d/watch.sh and measures it from outside.

    watch_bench.py latency OUT.json FILES SIZE -- ASSETS_WATCH_COMMAND...
        Writes FILES files one at a time into the watched folder (open, write, close) and times
        each from its close to the watch's `done` event for it (the verified upload).
    watch_bench.py burst OUT.json FILES -- ASSETS_WATCH_COMMAND...
        Writes FILES small files as fast as it can and times from the first write to the last
        `done` event; reads the watch's peak RSS (VmHWM) before stopping it with SIGTERM.

The watched folder is the command's second argument (`assets watch DIR ...`). Results go to
OUT.json as {"seconds": [...]} or {"seconds": s, "rss_mib": m}.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time


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


def burst(out, files, command):
    watch = Watch(command)
    watch.wait_ready()
    paths = [f"burst/d{index % 50}/f{index}.dat" for index in range(files)]
    started = time.monotonic()
    for index, relative in enumerate(paths):
        write(os.path.join(watch.folder, relative), os.urandom(100 + index % 900))
    watch.wait_for(paths, 1800)
    seconds = max(watch.done[p] for p in paths) - started
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
        burst(head[1], int(head[2]), command)
    else:
        raise SystemExit(f"unknown mode {head[0]}")


if __name__ == "__main__":
    main()
