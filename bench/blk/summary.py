#!/usr/bin/env python3
"""Summarise bench/blk/run.sh results (all.tsv) as Markdown tables.

One row per configuration (kind, mode, rw, queues, depth) and back-end:
median IOPS with min..max, the ratio of the median to qemu-storage-daemon's
median in the same configuration, median p99 latency, median CPU time per
request of each side, and the back-end's largest resident memory without
the guest mappings (RssAnon + RssFile). Usage: summary.py all.tsv

With --wide: one row per configuration and engine of ours, QSD on the same
row (the table of docs/PERFORMANCE.md): summary.py --wide all.tsv
"""
import statistics
import sys
from collections import OrderedDict


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main(path, wide=False):
    rows = []
    with open(path) as f:
        head = None
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if line.startswith("#"):
                head = [p.lstrip("# ") for p in parts]
                continue
            rows.append(dict(zip(head, parts)))
    groups = OrderedDict()
    for r in rows:
        key = (r["kind"], r["mode"], r["rw"], int(r["q"]), int(r["qd"]))
        groups.setdefault(key, OrderedDict()).setdefault(r["backend"], []).append(r)

    def col(rs, name):
        out = []
        for r in rs:
            try:
                out.append(float(r[name]))
            except ValueError:
                pass
        return out

    if wide:
        print("| path | mode | rw | q | QD | ours IOPS | QSD IOPS | × QSD | "
              "ours µs/req | QSD µs/req | p99 ours / QSD µs |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        engines = sorted({be for by in groups.values() for be in by
                          if be != "qsd"})
        for eng in engines:
            for key, by in groups.items():
                if eng not in by or "qsd" not in by:
                    continue
                o, q = by[eng], by["qsd"]
                oi, qi = med(col(o, "iops")), med(col(q, "iops"))
                name = key[0] if eng == "ours" else "%s (%s)" % (
                    key[0], eng.replace("ours-", ""))
                print("| %s | %s | %s | %d | %d | %.0f k | %.0f k | %.2f× | "
                      "%.2f | %.2f | %.0f / %.0f |" % (
                          name, key[1], key[2], key[3], key[4], oi / 1e3,
                          qi / 1e3, oi / qi, med(col(o, "be_us_io")),
                          med(col(q, "be_us_io")), med(col(o, "p99_us")),
                          med(col(q, "p99_us"))))
        return
    last = None
    for key, by in groups.items():
        kind, mode = key[0], key[1]
        if (kind, mode) != last:
            last = (kind, mode)
            print("\n### %s path, %s mode\n" % (kind, mode))
            print("| rw | q | QD | back-end | IOPS median (min..max) | × QSD | "
                  "p99 µs | back-end µs/req | bench µs/req | RSS KiB |")
            print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
        qsd = med(col(by.get("qsd", []), "iops"))
        for be, rs in by.items():
            iops = col(rs, "iops")
            ratio = med(iops) / qsd if qsd and be != "qsd" else None
            rss = col(rs, "rss_own_kib")
            cont = sum(1 for r in rs if r.get("fe_contended") == "1")
            print("| %s | %d | %d | %s | %.0f k (%.0f..%.0f)%s | %s | %.1f | %.2f | %.2f | %s |" % (
                key[2], key[3], key[4], be, med(iops) / 1e3, min(iops) / 1e3,
                max(iops) / 1e3, " !%d" % cont if cont else "",
                "%.2f×" % ratio if ratio else "—", med(col(rs, "p99_us")),
                med(col(rs, "be_us_io")), med(col(rs, "fe_us_io")),
                "%.0f" % max(rss) if rss else "-"))


if __name__ == "__main__":
    if sys.argv[1] == "--wide":
        main(sys.argv[2], wide=True)
    else:
        main(sys.argv[1])
