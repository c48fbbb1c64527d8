#!/usr/bin/env python3
"""Check what vhost-user-probe printed, without depending on its exact layout.

    probe_check.py --json FILE [--feature NAME]... [--value KEY=N]...
    probe_check.py --text FILE [--feature NAME]... [--value KEY=N]...

--feature NAME: a feature named NAME appears, alone or as the tail of a
    spec name (VERSION_1 matches VIRTIO_F_VERSION_1; CONFIG matches
    VHOST_USER_PROTOCOL_F_CONFIG but not VIRTIO_BLK_F_CONFIG_WCE).
--value KEY=N: JSON: some object key containing KEY (case-insensitive) has
    the number N (or a string of it, decimal or hex); text: a line has KEY,
    then a label tail, an optional ':' or '=', then N (decimal or 0x hex).
Exits 0 when every check holds, 1 (naming what is missing) otherwise.
"""
import argparse
import json
import re
import sys

WORD = re.compile(r"[A-Za-z0-9_]+")


def feature_found(tokens, name):
    return any(t == name or t.endswith("_" + name) for t in tokens)


def as_int(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            return None
    return None


def walk(obj, strings, pairs):
    """Collect every string (keys included) and every (key, value) pair."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            strings.append(str(k))
            pairs.append((str(k).lower(), v))
            walk(v, strings, pairs)
    elif isinstance(obj, list):
        for v in obj:
            walk(v, strings, pairs)
    elif isinstance(obj, str):
        strings.append(obj)


def check_json(text, features, values):
    try:
        doc = json.loads(text)
    except ValueError as e:
        return ["output is not valid JSON (%s)" % e]
    strings, pairs = [], []
    walk(doc, strings, pairs)
    tokens = [t for s in strings for t in WORD.findall(s)]
    missing = ["feature " + f for f in features if not feature_found(tokens, f)]
    for key, want in values:
        if not any(key in k and as_int(v) == want for k, v in pairs):
            missing.append("a '%s' key with value %d" % (key, want))
    return missing


def check_text(text, features, values):
    tokens = WORD.findall(text)
    missing = ["feature " + f for f in features if not feature_found(tokens, f)]
    for key, want in values:
        num = r"(?:%d|0x0*%x)\b" % (want, want)
        pat = re.compile(re.escape(key) + r"[A-Za-z_ ()]*[:=]?\s*" + num, re.I)
        if not pat.search(text):
            missing.append("'%s' with value %d" % (key, want))
    return missing


def main():
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--json", metavar="FILE")
    g.add_argument("--text", metavar="FILE")
    ap.add_argument("--feature", action="append", default=[])
    ap.add_argument("--value", action="append", default=[])
    a = ap.parse_args()
    values = []
    for kv in a.value:
        k, _, n = kv.partition("=")
        values.append((k.lower(), int(n, 0)))
    path = a.json or a.text
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if a.json:
        missing = check_json(text, a.feature, values)
    else:
        missing = check_text(text, a.feature, values)
    if missing:
        print("missing: " + "; ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
