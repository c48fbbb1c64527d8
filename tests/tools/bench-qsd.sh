#!/usr/bin/env bash
# tests/tools/bench-qsd.sh BENCH: vhost-user-bench against a real
# third-party back-end, qemu-storage-daemon's vhost-user-blk export on a
# raw image: --verify (1 and 2 queues) passes; a byte changed in the image
# behind the daemon's back is reported by sector; what the bench refuses it
# refuses in one line; --bad past-end and short-chain get the answers QEMU
# 7.2 gives (documented in docs/vhost-user-bench.md) and the daemon lives.
# Skips (exit 77) only when qemu-storage-daemon is not installed.
set -u
BENCH=$1
QSD=$(command -v qemu-storage-daemon) || {
	echo "SKIP: qemu-storage-daemon is not installed (Debian package qemu-system-common)"
	exit 77
}
. "$(dirname "$0")/lib.sh"

IMG=$T/disk.img
S=$T/qsd.sock
truncate -s 16M "$IMG"
# -k: a daemon that ignores the relayed SIGTERM is killed 5 s later.
timeout -k 5 300 "$QSD" \
	--blockdev "driver=file,node-name=file0,filename=$IMG,cache.direct=off" \
	--export "type=vhost-user-blk,id=exp0,node-name=file0,addr.type=unix,addr.path=$S,writable=on,num-queues=2,logical-block-size=512" \
	</dev/null >"$T/qsd.log" 2>&1 &
QPID=$!
PIDS+=($QPID)
wait_sock "$S" $QPID || { cat "$T/qsd.log"; echo "not ok - qemu-storage-daemon did not listen"; exit 1; }

expect "verify a count of blocks, one queue" 0 "verify: 4096 sectors checked, 0 mismatched" \
	"$BENCH" --socket "$S" --verify --count 512 --iodepth 16 --quiet
expect "verify 2 queues, 64k blocks, whole 16M image" 0 "verify: 32768 sectors checked, 0 mismatched" \
	"$BENCH" --socket "$S" --verify --queues 2 --iodepth 8 --bs 64k --quiet
expect "verify with indirect tables and polling" 0 "0 mismatched" \
	"$BENCH" --socket "$S" --verify --indirect --poll --iodepth 32 --size 4M --quiet
expect "verify write phase" 0 "0 mismatched|verify-write" \
	"$BENCH" --socket "$S" --verify-phase write --size 1M --quiet
printf 'XXXX' | dd of="$IMG" bs=1 seek=$((77 * 512 + 100)) conv=notrunc status=none
expect "a byte changed in the image is reported by sector and offset" 1 \
	"sector 77 byte 100: expected lba 77 pass 1 seed 1, got lba 77 pass 1 seed 1 \(right header, corrupt data" \
	"$BENCH" --socket "$S" --verify-phase read --size 1M --quiet
expect "--packed is refused: QSD offers no RING_PACKED" 2 "does not offer VIRTIO_F_RING_PACKED" \
	"$BENCH" --socket "$S" --packed
expect "--bad past-end: IOERR for all three (READ used len deviates)" 3 \
	"WRITE of 512 bytes at sector 32768.*$" \
	"$BENCH" --socket "$S" --bad past-end
check "--bad past-end: every answer was IOERR" \
	"[ \$(grep -c 'answer: status 1,' '$T/out') = 3 ]"
expect "--bad short-chain: QSD drops the request and lives on" 3 \
	"answer: none -> deviation.*" \
	"$BENCH" --socket "$S" --bad short-chain --timeout 1
check "qemu-storage-daemon is still running" "kill -0 $QPID"
expect "a run after the bad ones still works" 0 "randread: [0-9]+ requests" \
	"$BENCH" --socket "$S" --count 1000 --iodepth 8 --quiet
finish
