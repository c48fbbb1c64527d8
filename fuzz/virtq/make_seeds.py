#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz_virtq_walk (input layout: see the .c file).

Usage: fuzz/virtq/make_seeds.py fuzz/corpus/fuzz-virtq-walk
"""
import os
import struct
import sys

NEXT, WRITE, INDIRECT = 1, 2, 4
AVAIL, USED = 1 << 7, 1 << 15
PACKED, IND, EVI, ANY, INFL = 1, 2, 4, 8, 16


def mem(size=0x1400):
    return bytearray(size)


def split_desc(m, table_off, i, addr, ln, flags, nxt):
    struct.pack_into("<QIHH", m, table_off + 16 * i, addr, ln, flags, nxt)


def packed_desc(m, table_off, i, addr, ln, ident, flags):
    struct.pack_into("<QIHH", m, table_off + 16 * i, addr, ln, ident, flags)


def avail(m, idx, heads):
    struct.pack_into("<HH", m, 0x800, 0, idx)
    for k, h in enumerate(heads):
        struct.pack_into("<H", m, 0x804 + 2 * k, h)


def seed(mode, log2size, base, m, tail=b""):
    return bytes([mode, log2size]) + struct.pack("<H", base) + bytes(m) + tail


def main(out):
    seeds = {}
    # Split, size 8: a chain of 3 whose writable part crosses the two
    # regions, and a chain ending in an indirect table.
    m = mem()
    split_desc(m, 0, 0, 0x2000, 16, NEXT, 1)
    split_desc(m, 0, 1, 0x3000, 32, NEXT, 2)
    split_desc(m, 0, 2, 0x7FF8, 16, WRITE, 0)
    split_desc(m, 0, 3, 0x1100, 48, INDIRECT, 0)
    split_desc(m, 0x1100, 0, 0x5000, 8, NEXT, 1)
    split_desc(m, 0x1100, 1, 0x5100, 8, NEXT | WRITE, 2)
    split_desc(m, 0x1100, 2, 0x5200, 8, WRITE, 0)
    avail(m, 2, [0, 3])
    seeds["split-chain-and-indirect"] = seed(IND | EVI, 3, 0, m)
    # Split, size 4: a loop.
    m = mem()
    split_desc(m, 0, 0, 0x2000, 16, NEXT, 1)
    split_desc(m, 0, 1, 0x2000, 16, NEXT, 0)
    avail(m, 1, [0])
    seeds["split-loop"] = seed(0, 2, 0, m)
    # Packed, size 8, wrap 1: a list of 2, then an indirect buffer.
    m = mem()
    packed_desc(m, 0, 0, 0x2000, 16, 0, NEXT | AVAIL)
    packed_desc(m, 0, 1, 0x3000, 16, 5, WRITE | AVAIL)
    packed_desc(m, 0, 2, 0x1100, 32, 6, INDIRECT | AVAIL)
    packed_desc(m, 0x1100, 0, 0x5000, 8, 0, 0)
    packed_desc(m, 0x1100, 1, 0x5100, 8, 0, WRITE)
    seeds["packed-list-and-indirect"] = seed(PACKED | IND | EVI, 3, 0x8000, m)
    # Split, size 4, with an in-flight region to recover: heads 1 and 2
    # in flight (counters 5 and 3).
    m = mem()
    split_desc(m, 0, 1, 0x2000, 16, WRITE, 0)
    split_desc(m, 0, 2, 0x3000, 16, 0, 0)
    region = bytearray(128)
    struct.pack_into("<QHHHH", region, 0, 0, 1, 4, 0, 0)
    struct.pack_into("<B5xHQ", region, 16 + 16 * 1, 1, 0, 5)
    struct.pack_into("<B5xHQ", region, 16 + 16 * 2, 1, 0, 3)
    seeds["split-inflight-recovery"] = seed(INFL, 2, 0, m, bytes(region))
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/fuzz-virtq-walk")
