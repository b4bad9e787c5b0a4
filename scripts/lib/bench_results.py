"""Reads NAME|UNIT|OURS|PEER|PEER_NAME|HIGHER_IS_BETTER lines, prints a table, writes the JSON array."""
import json
import sys

rows = []
for line in sys.stdin.read().splitlines():
    name, unit, ours, peer, peer_name, higher = line.split("|")
    ours, peer = float(ours), float(peer)
    rows.append({"name": name, "unit": unit, "ours": round(ours, 3), "peer": round(peer, 3),
                 "peer_name": peer_name, "ratio": round(ours / peer, 3) if peer else None,
                 "higher_is_better": higher == "true"})
with open(sys.argv[1], "w") as out:
    json.dump(rows, out, indent=2)
    out.write("\n")

print(f"{'benchmark':<30} {'unit':>6} {'ours':>10} {'peer':>10} {'ratio':>7}  peer")
for row in rows:
    better = "higher" if row["higher_is_better"] else "lower"
    ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.3f}"
    print(f"{row['name']:<30} {row['unit']:>6} {row['ours']:>10.1f} {row['peer']:>10.1f} {ratio:>7}  "
          f"{row['peer_name']} ({better} is better)")
