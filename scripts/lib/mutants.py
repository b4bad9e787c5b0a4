"""Runs each mutant of mutants.tsv: patch one source file, build, run the named tests, restore.

mutants.tsv columns (tab-separated): name, file, text to find (must occur exactly once), replacement,
and the `swift test --filter` regex of the tests that should catch it. `\\n` and `\\t` in the text
columns stand for a newline and a tab.
"""
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.environ.get("ROOT", os.getcwd())
TABLE = os.path.join(ROOT, "scripts", "lib", "mutants.tsv")


def load():
    """Mutants in file order; rows that share a name are one mutant with several edits."""
    mutants = {}
    with open(TABLE, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, path, find, replace, tests = line.split("\t")
            unescape = lambda text: text.replace("\\n", "\n").replace("\\t", "\t")
            mutant = mutants.setdefault(name, dict(name=name, edits=[], tests=tests))
            mutant["edits"].append(dict(path=path, find=unescape(find), replace=unescape(replace)))
    return list(mutants.values())


def failing_tests(output):
    names = set()
    for line in output.splitlines():
        match = re.search(r"Test (.+?) failed after", line)
        if match and not line.lstrip("✘ ").startswith("Test run with"):
            names.add(match.group(1))
    return sorted(names)


def run(mutant):
    originals = {}
    for edit in mutant["edits"]:
        path = os.path.join(ROOT, edit["path"])
        if path not in originals:
            with open(path, encoding="utf-8") as handle:
                originals[path] = handle.read()
    try:
        patched = dict(originals)
        for edit in mutant["edits"]:
            path = os.path.join(ROOT, edit["path"])
            count = patched[path].count(edit["find"])
            if count != 1:
                return "NOT APPLIED", f"the text to mutate occurs {count} times in {edit['path']}"
            patched[path] = patched[path].replace(edit["find"], edit["replace"])
        for path, text in patched.items():
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        build = subprocess.run(["swift", "build", "--build-tests"], cwd=ROOT, capture_output=True, text=True)
        if build.returncode != 0:
            return "DID NOT BUILD", build.stdout[-1500:] + build.stderr[-1500:]
        test = subprocess.run(["swift", "test", "--skip-build", "--no-parallel", "--filter", mutant["tests"]],
                              cwd=ROOT, capture_output=True, text=True)
        output = test.stdout + test.stderr
        if test.returncode == 0:
            return "SURVIVED", ""
        failed = failing_tests(output)
        return "caught", ", ".join(failed) or "(the test run failed: " + output[-300:].strip() + ")"
    finally:
        for path, text in originals.items():
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)


def main():
    wanted = set(sys.argv[1:])
    mutants = [m for m in load() if not wanted or m["name"] in wanted]
    results = []
    for mutant in mutants:
        start = time.time()
        verdict, detail = run(mutant)
        seconds = round(time.time() - start)
        results.append(dict(mutant=mutant["name"], files=sorted({e["path"] for e in mutant["edits"]}), verdict=verdict,
                            caught_by=detail,
                            seconds=seconds))
        print(f"{mutant['name']}: {verdict} ({seconds} s) {detail[:200]}", file=sys.stderr, flush=True)
    # Rebuild the unmutated tree so nothing stale is left behind.
    subprocess.run(["swift", "build", "--build-tests"], cwd=ROOT, capture_output=True)
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-results", "mutants.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    print()
    print("| mutant | verdict | caught by |")
    print("| --- | --- | --- |")
    for result in results:
        print(f"| {result['mutant']} | {result['verdict']} | {result['caught_by'] if result['verdict'] == 'caught' else result['caught_by'][:120]} |")
    survivors = [r for r in results if r["verdict"] != "caught"]
    print(f"\n{len(results) - len(survivors)} of {len(results)} mutants caught")
    sys.exit(1 if survivors else 0)


if __name__ == "__main__":
    main()
