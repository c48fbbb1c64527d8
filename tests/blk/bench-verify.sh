#!/usr/bin/env bash
# tests/blk/bench-verify.sh - vhost-user-bench --verify (tools/bench: write a
# pattern over the disk, read it back, compare every byte) against our
# vhost-user-blk and, with the same workloads, against a real third-party
# back-end: qemu-storage-daemon (tests/interop/with-qsd.sh).
#
#   tests/blk/bench-verify.sh [--builddir DIR]
#
# Checks (one line each, PASS/FAIL/SKIP like tests/guest/run.sh):
#   bench-verify-ours-split    2 queues on 2 threads, iodepth 16, 4 KiB, an
#                              image in /tmp (io_uring, O_DIRECT)
#   bench-verify-ours-packed   packed ring, indirect tables, iodepth 32, an
#                              image in /dev/shm (copies in the worker)
#   bench-verify-ours-4k       --logical-block-size 4096, 16 KiB blocks
#   bench-verify-ours-sync     --aio sync on an image in /tmp (ext4, O_DIRECT)
#   bench-verify-ours-restart  the write half, SIGTERM, a new back-end on the
#                              same image, the read half (--verify-phase)
#   bench-bad-ours             --bad past-end, short-chain, ro-buffer --strict
#   bench-verify-qsd-split     the same workloads against qemu-storage-daemon
#   bench-verify-qsd-4k        (QSD offers no packed ring: that one is not run)
# DIR (default build) holds devices/blk/vhost-user-blk and
# tools/vhost-user-bench. Exit 1 when anything failed.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILDDIR=build
while [ $# -gt 0 ]; do
	case "$1" in
	--builddir) BUILDDIR=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-verify.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$BUILDDIR" in /*) B=$BUILDDIR ;; *) B=$ROOT/$BUILDDIR ;; esac
BLK=$B/devices/blk/vhost-user-blk
BENCH=$B/tools/vhost-user-bench
T=$(mktemp -d /tmp/vh-blk-bench.XXXXXX)
BE_PID=""
cleanup() {
	[ -n "$BE_PID" ] && kill -KILL "$BE_PID" 2>/dev/null && wait "$BE_PID" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "bench-verify.sh: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

np=0 nf=0 ns=0
pass() { echo "PASS: $1${2:+ ($2)}"; np=$((np + 1)); }
skip() { echo "SKIP: $1 ($2)"; ns=$((ns + 1)); }
fail() {
	echo "FAIL: $1 ($2)"
	nf=$((nf + 1))
	[ -s "$T/out" ] && tail -n 12 "$T/out" | sed 's/^/    /'
	[ -s "$T/err" ] && tail -n 5 "$T/err" | sed 's/^/    /'
	[ -s "$T/be.log" ] && tail -n 5 "$T/be.log" | sed 's/^/    be: /'
}
for bin in "$BLK" "$BENCH"; do
	[ -x "$bin" ] || { echo "FAIL: bench-verify ($bin is not built)"; exit 1; }
done

# be_start IMAGE ARGS...: our back-end on $T/blk.sock.
be_start() {
	local img=$1 i
	shift
	rm -f "$T/blk.sock"
	"$BLK" --socket-path "$T/blk.sock" --blk-file "$img" "$@" </dev/null 2>"$T/be.log" &
	BE_PID=$!
	for _ in $(seq 500); do
		[ -S "$T/blk.sock" ] && return 0
		kill -0 "$BE_PID" 2>/dev/null || break
		sleep 0.01
	done
	return 1
}
be_stop() { # -> 0 when it exited 0 and removed its socket
	local rc=0
	kill -TERM "$BE_PID" 2>/dev/null
	wait "$BE_PID" || rc=$?
	BE_PID=""
	[ $rc -eq 0 ] && [ ! -e "$T/blk.sock" ]
}
# summary of a --json run: "IOPS n, n sectors checked"
digest() {
	python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
parts = []
for j in o.get("jobs", []):
    v = j.get("verify") or {}
    parts.append("%s %.0f IOPS" % (j.get("name", "?"), j.get("iops", 0)))
    if v:
        parts.append("%d sectors, %d mismatched" % (v.get("sectors", 0), v.get("mismatched", 0)))
print(", ".join(parts))' "$1" 2>/dev/null
}
# ours NAME IMAGE_SIZE BACKEND_ARGS -- BENCH_ARGS
ours() {
	local name=$1 size=$2 img=${IMG:-/dev/shm/vh-bench-verify-$$.img} be=() b=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do be+=("$1"); shift; done
	shift
	b=("$@")
	truncate -s "$size" "$img"
	if ! be_start "$img" "${be[@]}"; then
		fail "$name" "vhost-user-blk did not start: $(tail -1 "$T/be.log")"
		rm -f "$img"
		return
	fi
	if timeout 120 "$BENCH" --socket "$T/blk.sock" --quiet --json "${b[@]}" >"$T/out" 2>"$T/err" &&
		grep -q '"result":"ok"' "$T/out"; then
		if be_stop; then pass "$name" "$(digest "$T/out")"; else fail "$name" "the back-end did not exit 0 / left its socket"; fi
	else
		fail "$name" "vhost-user-bench ${b[*]} failed"
		be_stop
	fi
	rm -f "$img"
}

IMG=$T/disk.img ours bench-verify-ours-split 64M --num-queues 2 -- --verify --queues 2 --iodepth 16
ours bench-verify-ours-packed 64M -- --verify --packed --indirect --iodepth 32
ours bench-verify-ours-4k 64M --logical-block-size 4096 -- --verify --bs 16k --iodepth 8
IMG=$T/disk.img ours bench-verify-ours-sync 32M --aio sync --direct on -- --verify --iodepth 8

# The write half, a new back-end process, the read half.
img=/dev/shm/vh-bench-verify-$$.img
truncate -s 32M "$img"
if be_start "$img" && timeout 60 "$BENCH" --socket "$T/blk.sock" --quiet --verify --verify-phase write --seed 7 >"$T/out" 2>&1 &&
	be_stop && be_start "$img" &&
	timeout 60 "$BENCH" --socket "$T/blk.sock" --quiet --verify --verify-phase read --seed 7 >"$T/out" 2>&1 &&
	grep -q ' 0 mismatched' "$T/out" && be_stop; then
	pass bench-verify-ours-restart "$(grep -m1 'verify:' "$T/out" | sed 's/^ *//')"
else
	fail bench-verify-ours-restart "the read half did not find the write half's data"
	[ -n "$BE_PID" ] && be_stop
fi

# --bad: the answers the spec asks for (see docs/vhost-user-bench.md).
if be_start "$img"; then
	ok=1
	for c in past-end short-chain ro-buffer; do
		timeout 60 "$BENCH" --socket "$T/blk.sock" --bad "$c" --strict >"$T/out" 2>&1 || { ok=0; break; }
	done
	if [ $ok = 1 ] && be_stop; then pass bench-bad-ours "past-end, short-chain, ro-buffer: pass under --strict"
	else fail bench-bad-ours "--bad $c --strict failed"; [ -n "$BE_PID" ] && be_stop; fi
fi
rm -f "$img"

# The same against qemu-storage-daemon.
if ! command -v qemu-storage-daemon >/dev/null; then
	skip bench-verify-qsd-split "qemu-storage-daemon not installed (scripts/deps.sh)"
	skip bench-verify-qsd-4k "qemu-storage-daemon not installed (scripts/deps.sh)"
else
	for c in "bench-verify-qsd-split --verify --queues 2 --iodepth 16" \
		"bench-verify-qsd-4k --verify --bs 16k --iodepth 8"; do
		name=${c%% *}
		# shellcheck disable=SC2086
		if bash "$ROOT/tests/interop/with-qsd.sh" --size $((64 << 20)) --queues 2 -- \
			bash -c "exec \"$BENCH\" --socket \"\$VU_SOCK\" --quiet --json ${c#* }" >"$T/out" 2>"$T/err" &&
			grep -q '"result":"ok"' "$T/out"; then
			pass "$name" "$(digest "$T/out")"
		else
			fail "$name" "vhost-user-bench against qemu-storage-daemon failed"
		fi
	done
fi
echo "bench-verify: $np passed, $nf failed, $ns skipped"
[ $nf -eq 0 ]
