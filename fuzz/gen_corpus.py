#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the protocol fuzz targets.

    python3 fuzz/gen_corpus.py            # rewrites fuzz/corpus/fuzz-backend*,
                                          # fuzz/corpus/fuzz-frontend-*

Each seed is a short, valid conversation in the input format of its target
(fuzz/fuzz_stream.h for the message records; the preamble of each target is
described at the top of its .c file), plus a few classic malformed streams.
Every seed stays under 1 KiB. Numbers follow include/vhost/proto.h.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Header flags.
V1, REPLY, NEED_REPLY = 0x1, 0x4, 0x8

# Front-end requests.
(GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE,
 SET_LOG_BASE, SET_LOG_FD, SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE,
 GET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR,
 GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
 SET_VRING_ENABLE, SEND_RARP, NET_SET_MTU, SET_BACKEND_REQ_FD, IOTLB_MSG,
 SET_VRING_ENDIAN, GET_CONFIG, SET_CONFIG, CREATE_CRYPTO_SESSION,
 CLOSE_CRYPTO_SESSION, POSTCOPY_ADVISE, POSTCOPY_LISTEN, POSTCOPY_END,
 GET_INFLIGHT_FD, SET_INFLIGHT_FD, GPU_SET_SOCKET, RESET_DEVICE, VRING_KICK,
 GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG, SET_STATUS, GET_STATUS,
 GET_SHARED_OBJECT, SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE,
 GET_SHMEM_CONFIG) = range(1, 45)

# Back-end requests.
(B_IOTLB_MSG, B_CONFIG_CHANGE, B_HOST_NOTIFIER, B_VRING_CALL, B_VRING_ERR,
 B_OBJ_ADD, B_OBJ_REMOVE, B_OBJ_LOOKUP, B_SHMEM_MAP, B_SHMEM_UNMAP) = range(1, 11)

# Protocol feature bits.
PF = dict(MQ=0, LOG_SHMFD=1, RARP=2, REPLY_ACK=3, NET_MTU=4, BACKEND_REQ=5,
          CROSS_ENDIAN=6, CRYPTO_SESSION=7, PAGEFAULT=8, CONFIG=9,
          BACKEND_SEND_FD=10, HOST_NOTIFIER=11, INFLIGHT_SHMFD=12,
          RESET_DEVICE=13, INBAND_NOTIFICATIONS=14, CONFIGURE_MEM_SLOTS=15,
          STATUS=16, XEN_MMAP=17, SHARED_OBJECT=18, DEVICE_STATE=19,
          GET_VRING_BASE_INFLIGHT=20, GPA_ADDRESSES=21, SHMEM=22)

VERSION_1, ACCESS_PLATFORM, PROTOCOL_FEATURES = 1 << 32, 1 << 33, 1 << 30

# Record control byte (fuzz_stream.h).
FD_EVENT, FD_MEM, FD_SOCK = 0, 1, 2


def pf(*names):
    v = 0
    for n in names:
        v |= 1 << PF[n]
    return v


def rec(req, payload=b"", flags=V1, nfds=0, kind=FD_EVENT, size=None):
    """One message record: ctl byte, header, payload."""
    ctl = min(nfds, 10) | (kind << 4)
    n = len(payload) if size is None else size
    return bytes([ctl]) + struct.pack("<III", req, flags, n) + payload


def u64(v):
    return struct.pack("<Q", v)


def state(index, num):
    return struct.pack("<II", index, num)


def region(gpa, size, uva, off=0):
    return struct.pack("<QQQQ", gpa, size, uva, off)


def vring_addr(index, desc, used, avail, log=0, flags=0):
    return struct.pack("<IIQQQQ", index, flags, desc, used, avail, log)


def inflight(size, off, nq, qs):
    return struct.pack("<QQHHI", size, off, nq, qs, 0)


def iotlb(iova, size, uaddr, perm, typ):
    return struct.pack("<QQQBB6x", iova, size, uaddr, perm, typ)


def config_hdr(off, size, flags=0):
    return struct.pack("<III", off, size, flags)


def mmap_req(shmid, fd_off, shm_off, length, flags):
    return struct.pack("<B7xQQQQ", shmid, fd_off, shm_off, length, flags)


UUID = bytes(range(16))

# --------------------------------------------------------------------------
# fuzz-backend: preamble [features][pf 3 bytes][num_queues][behaviour][opts][0]
# --------------------------------------------------------------------------
ALL_PF = (1 << 23) - 1 & ~pf("XEN_MMAP")


def be_preamble(feat=0x05, pfs=ALL_PF, nq=1, behaviour=0, opts=0):
    return bytes([feat]) + struct.pack("<I", pfs)[:3] + bytes([nq, behaviour, opts, 0])


FEATS = VERSION_1 | ACCESS_PLATFORM | PROTOCOL_FEATURES  # preamble byte 0x05


def be_negotiate(pfs):
    return (rec(GET_FEATURES) + rec(GET_PROTOCOL_FEATURES) +
            rec(SET_PROTOCOL_FEATURES, u64(pfs)) +
            rec(SET_FEATURES, u64(FEATS)) + rec(SET_OWNER))


def backend_seeds():
    s = {}
    s["negotiate"] = be_preamble() + be_negotiate(pf("MQ", "REPLY_ACK", "CONFIG", "CONFIGURE_MEM_SLOTS")) + \
        rec(GET_QUEUE_NUM) + rec(GET_MAX_MEM_SLOTS) + rec(RESET_OWNER)
    ack = V1 | NEED_REPLY
    s["rings"] = be_preamble() + be_negotiate(pf("REPLY_ACK")) + \
        rec(SET_MEM_TABLE, struct.pack("<II", 1, 0) +
            region(0, 0x10000, 0x7f0000000000), flags=ack, nfds=1, kind=FD_MEM) + \
        rec(SET_VRING_NUM, state(0, 256), flags=ack) + \
        rec(SET_VRING_ADDR, vring_addr(0, 0x7f0000000000, 0x7f0000002000,
                                       0x7f0000001000), flags=ack) + \
        rec(SET_VRING_BASE, state(0, 0)) + \
        rec(SET_VRING_KICK, u64(0), nfds=1) + \
        rec(SET_VRING_CALL, u64(1), nfds=1) + \
        rec(SET_VRING_ERR, u64(0x100)) + \
        rec(SET_VRING_ENABLE, state(0, 1), flags=ack) + \
        rec(GET_VRING_BASE, state(0, 0))
    s["device"] = be_preamble() + \
        be_negotiate(pf("REPLY_ACK", "CONFIG", "STATUS", "RESET_DEVICE",
                        "NET_MTU", "RARP", "CROSS_ENDIAN")) + \
        rec(GET_CONFIG, config_hdr(0, 16) + bytes(16)) + \
        rec(SET_CONFIG, config_hdr(8, 4) + b"\1\2\3\4", flags=ack) + \
        rec(SET_STATUS, u64(0x0f), flags=ack) + rec(GET_STATUS) + \
        rec(NET_SET_MTU, u64(1500), flags=ack) + \
        rec(SEND_RARP, bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56, 0, 0])) + \
        rec(SET_VRING_ENDIAN, state(0, 0), flags=ack) + rec(RESET_DEVICE)
    s["memslots"] = be_preamble() + \
        be_negotiate(pf("REPLY_ACK", "CONFIGURE_MEM_SLOTS", "LOG_SHMFD")) + \
        rec(GET_MAX_MEM_SLOTS) + \
        rec(ADD_MEM_REG, u64(0) + region(0, 0x10000, 0x7f0000000000),
            flags=ack, nfds=1, kind=FD_MEM) + \
        rec(ADD_MEM_REG, u64(0) + region(0x100000, 0x10000, 0x7f0000100000),
            flags=ack, nfds=1, kind=FD_MEM) + \
        rec(REM_MEM_REG, u64(0) + region(0, 0x10000, 0x7f0000000000), flags=ack) + \
        rec(SET_LOG_BASE, struct.pack("<QQ", 4096, 0), nfds=1, kind=FD_MEM) + \
        rec(SET_LOG_FD, nfds=1, flags=ack)
    s["channel"] = be_preamble() + \
        be_negotiate(pf("REPLY_ACK", "BACKEND_REQ", "BACKEND_SEND_FD",
                        "HOST_NOTIFIER", "SHARED_OBJECT", "INFLIGHT_SHMFD",
                        "DEVICE_STATE", "SHMEM")) + \
        rec(SET_BACKEND_REQ_FD, flags=ack, nfds=1, kind=FD_SOCK) + \
        rec(SET_VRING_ENABLE, state(0, 1)) + \
        rec(GET_INFLIGHT_FD, inflight(0, 0, 1, 256)) + \
        rec(SET_INFLIGHT_FD, inflight(4096, 0, 1, 256), nfds=1, kind=FD_MEM) + \
        rec(GET_SHARED_OBJECT, UUID) + \
        rec(SET_DEVICE_STATE_FD, state(0, 0), nfds=1, kind=FD_SOCK) + \
        rec(CHECK_DEVICE_STATE) + rec(GET_SHMEM_CONFIG)
    s["iommu-postcopy"] = be_preamble() + \
        be_negotiate(pf("REPLY_ACK", "BACKEND_REQ", "PAGEFAULT",
                        "CRYPTO_SESSION", "INBAND_NOTIFICATIONS")) + \
        rec(IOTLB_MSG, iotlb(0x1000, 0x1000, 0x7f0000000000, 3, 2), flags=ack) + \
        rec(IOTLB_MSG, iotlb(0, 0, 0, 0, 3)) + \
        rec(POSTCOPY_ADVISE) + rec(POSTCOPY_LISTEN, flags=ack) + rec(POSTCOPY_END) + \
        rec(CREATE_CRYPTO_SESSION, bytes(32)) + \
        rec(CLOSE_CRYPTO_SESSION, u64(1), flags=ack) + \
        rec(VRING_KICK, state(0, 0)) + rec(GPU_SET_SOCKET, nfds=1, kind=FD_SOCK)
    # Malformed streams, each stopping at its first error.
    s["bad-version"] = be_preamble() + rec(GET_FEATURES, flags=0x2)
    s["reply-flag"] = be_preamble() + rec(GET_FEATURES, flags=V1 | REPLY)
    s["truncated"] = be_preamble() + rec(SET_VRING_NUM, state(0, 256))[:-3]
    s["too-many-fds"] = be_preamble() + rec(SET_MEM_TABLE, struct.pack("<II", 1, 0) +
                                            region(0, 0x10000, 0), nfds=10)
    s["ring-out-of-range"] = be_preamble(nq=1) + rec(SET_VRING_NUM, state(7, 256))
    s["sparse-device"] = be_preamble(opts=1, behaviour=0x0b) + \
        be_negotiate(pf("REPLY_ACK", "CONFIG")) + \
        rec(GET_CONFIG, config_hdr(0, 8) + bytes(8)) + \
        rec(GET_VRING_BASE, state(0, 0))
    return s

# --------------------------------------------------------------------------
# fuzz-frontend-reply: preamble [opts][wanted pf 3 bytes], then the replies to
# the fixed request sequence of fuzz_frontend_reply.c.
# --------------------------------------------------------------------------


def rep(req, payload=b"", nfds=0, kind=FD_MEM):
    return rec(req, payload, flags=V1 | REPLY, nfds=nfds, kind=kind)


def fe_preamble(opts, want=0xffffff):
    return bytes([opts]) + struct.pack("<I", want)[:3]


def fe_negotiate(pfs, feats=FEATS):
    return rep(GET_FEATURES, u64(feats)) + rep(GET_PROTOCOL_FEATURES, u64(pfs))


def reply_seeds():
    s = {}
    ack0 = u64(0)
    # Memory and rings only (skip groups 2 and 3).
    p = pf("MQ", "LOG_SHMFD", "REPLY_ACK", "CONFIGURE_MEM_SLOTS")
    s["rings"] = fe_preamble(0x18) + fe_negotiate(p) + \
        rep(GET_QUEUE_NUM, u64(2)) + rep(GET_MAX_MEM_SLOTS, u64(32)) + \
        rep(SET_LOG_BASE, u64(0)) + rep(SET_VRING_NUM, ack0) + \
        rep(GET_VRING_BASE, state(0, 42))
    # Device group only.
    p = pf("CONFIG", "STATUS", "INFLIGHT_SHMFD", "NET_MTU", "RARP",
           "CROSS_ENDIAN", "RESET_DEVICE", "REPLY_ACK")
    s["device"] = fe_preamble(0x14) + fe_negotiate(p) + \
        rep(GET_CONFIG, config_hdr(0, 16) + bytes(range(16))) + \
        rep(GET_STATUS, u64(0x0f)) + \
        rep(GET_INFLIGHT_FD, inflight(4096, 0, 1, 256), nfds=1) + \
        rep(NET_SET_MTU, ack0) + rep(IOTLB_MSG, ack0)
    # Migration, shared objects, crypto, channel.
    p = pf("PAGEFAULT", "SHARED_OBJECT", "DEVICE_STATE", "CRYPTO_SESSION",
           "BACKEND_REQ", "REPLY_ACK")
    s["migration"] = fe_preamble(0x0c) + fe_negotiate(p) + \
        rep(POSTCOPY_ADVISE, nfds=1, kind=FD_EVENT) + rep(POSTCOPY_END, u64(0)) + \
        rep(GET_SHARED_OBJECT, UUID, nfds=1) + \
        rep(SET_DEVICE_STATE_FD, u64(0), nfds=1, kind=FD_SOCK) + \
        rep(CHECK_DEVICE_STATE, u64(0)) + \
        rep(CREATE_CRYPTO_SESSION, u64(7) + bytes(56)) + \
        rep(SET_BACKEND_REQ_FD, ack0)
    # Error forms the front-end must accept: empty GET_CONFIG, no inflight
    # area, shared object not found, failed device state.
    p = pf("CONFIG", "INFLIGHT_SHMFD", "SHARED_OBJECT", "DEVICE_STATE")
    s["error-forms"] = fe_preamble(0x04) + fe_negotiate(p) + \
        rep(GET_CONFIG) + rep(GET_INFLIGHT_FD, inflight(0, 0, 0, 0)) + \
        rep(GET_SHARED_OBJECT) + rep(SET_DEVICE_STATE_FD, u64(0x105)) + \
        rep(CHECK_DEVICE_STATE, u64(1))
    # vh_frontend_negotiate() and acks on everything.
    p = pf("REPLY_ACK", "MQ")
    s["ack-always"] = fe_preamble(0x1b) + fe_negotiate(p) + \
        rep(SET_FEATURES, ack0) + rep(SET_OWNER, ack0) + rep(GET_QUEUE_NUM, u64(1)) + \
        rep(SET_MEM_TABLE, ack0) + rep(SET_LOG_FD, ack0) + rep(SET_VRING_NUM, ack0) + \
        rep(SET_VRING_ADDR, ack0) + rep(SET_VRING_BASE, u64(22))
    # No protocol features at all; then a reply to the wrong request.
    s["legacy"] = fe_preamble(0x00) + rep(GET_FEATURES, u64(VERSION_1)) + \
        rep(GET_VRING_BASE, state(0, 1))
    return s

# --------------------------------------------------------------------------
# fuzz-frontend-backend-req: preamble [offered pf 3 bytes][behaviour], then
# back-end requests on the channel.
# --------------------------------------------------------------------------


def backend_req_seeds():
    s = {}
    ack = V1 | NEED_REPLY
    everything = ALL_PF
    pre = struct.pack("<I", everything)[:3] + bytes([0])
    s["all-requests"] = pre + \
        rec(B_IOTLB_MSG, iotlb(0x1000, 0, 0, 3, 1), flags=ack) + \
        rec(B_CONFIG_CHANGE, flags=ack) + \
        rec(B_HOST_NOTIFIER, struct.pack("<QQQ", 0, 4096, 0), nfds=1, kind=FD_MEM) + \
        rec(B_HOST_NOTIFIER, struct.pack("<QQQ", 0x100, 0, 0), flags=ack) + \
        rec(B_VRING_CALL, state(0, 0), flags=ack) + \
        rec(B_VRING_ERR, state(0, 0)) + \
        rec(B_OBJ_ADD, UUID, flags=ack) + rec(B_OBJ_LOOKUP, UUID) + \
        rec(B_OBJ_REMOVE, UUID) + \
        rec(B_SHMEM_MAP, mmap_req(0, 0, 0, 4096, 1), flags=ack, nfds=1, kind=FD_MEM) + \
        rec(B_SHMEM_UNMAP, mmap_req(0, 0, 0, 4096, 0), flags=ack)
    s["config-changes"] = pre + rec(B_CONFIG_CHANGE) * 6
    # Only CONFIG and REPLY_ACK: the rest are refused as not negotiated.
    pre = struct.pack("<I", pf("CONFIG", "REPLY_ACK"))[:3] + bytes([0x05])
    s["few-features"] = pre + rec(B_CONFIG_CHANGE, flags=ack) + \
        rec(B_OBJ_LOOKUP, UUID)
    pre = struct.pack("<I", everything)[:3] + bytes([0x08])
    s["no-callbacks"] = pre + rec(B_OBJ_LOOKUP, UUID) + \
        rec(B_VRING_CALL, state(1, 0), flags=ack) + \
        rec(B_SHMEM_MAP, mmap_req(0, 0, 0, 4096, 1), nfds=1, kind=FD_MEM)
    s["bad-flags"] = struct.pack("<I", everything)[:3] + bytes([0]) + \
        rec(B_CONFIG_CHANGE, flags=V1 | REPLY)
    return s


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        if len(data) >= 1024:
            sys.exit(f"{target}/{name}: {len(data)} bytes, over 1 KiB")
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seeds)} seeds")


write("fuzz-backend", backend_seeds())
write("fuzz-frontend-reply", reply_seeds())
write("fuzz-frontend-backend-req", backend_req_seeds())
