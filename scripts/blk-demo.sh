#!/usr/bin/env bash
# scripts/blk-demo.sh - libvhost's main job in one command: build, serve a
# disk image with our vhost-user-blk back-end, and measure it with our
# vhost-user-bench front-end (no VM needed):
#
#   1. install what is missing (scripts/deps.sh) and build (meson + ninja);
#   2. start devices/blk/vhost-user-blk on a temporary 256 MiB image in
#      /dev/shm (2 queues on 2 threads; the image is mapped and the queue
#      threads copy: the default engine on tmpfs);
#   3. vhost-user-bench --verify: write a pattern over the whole disk, read
#      it back and compare every byte; the bench prints the negotiated
#      virtio and vhost-user features, the device's config and the results;
#   4. 4 KiB random reads and writes at queue depth 32 for a few seconds;
#   5. stop the back-end with SIGTERM: it exits 0 and removes its socket.
#
#   scripts/blk-demo.sh [--size SIZE] [--runtime S] [--image PATH]
#
# --image serves an existing raw image or block device instead (careful:
# the demo writes to it). Everything else lives in a temporary folder that
# is removed on exit. Env: VH_BUILDDIR (default build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=${VH_BUILDDIR:-build}
SIZE=256M
RUNTIME=3
IMAGE=""
while [ $# -gt 0 ]; do
	case "$1" in
	--size) SIZE=$2; shift 2 ;;
	--runtime) RUNTIME=$2; shift 2 ;;
	--image) IMAGE=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "blk-demo: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done
BUILD_LOG=/tmp/libvhost-blk-demo-build.log
step() { printf '\n== %s\n' "$*"; }

step "dependencies and build ($B/, log $BUILD_LOG)"
bash scripts/deps.sh
{
	if [ -f "$B/build.ninja" ]; then
		meson setup --reconfigure "$B"
	else
		meson setup "$B" --buildtype=debugoptimized
	fi && meson compile -C "$B"
} >"$BUILD_LOG" 2>&1 || {
	tail -n 30 "$BUILD_LOG" >&2
	echo "blk-demo: the build failed (log: $BUILD_LOG)" >&2
	exit 1
}
BLK=$ROOT/$B/devices/blk/vhost-user-blk
BENCH=$ROOT/$B/tools/vhost-user-bench
for bin in "$BLK" "$BENCH"; do
	[ -x "$bin" ] || { echo "blk-demo: $bin was not built" >&2; exit 1; }
done
echo "built $B/devices/blk/vhost-user-blk and $B/tools/vhost-user-bench"

T=$(mktemp -d /tmp/vh-blk-demo.XXXXXX)
BE_PID=""
cleanup() {
	if [ -n "$BE_PID" ]; then
		kill -KILL "$BE_PID" 2>/dev/null || true
		wait "$BE_PID" 2>/dev/null || true
	fi
	rm -rf "$T"
	[ -n "${SHM_IMG:-}" ] && rm -f "$SHM_IMG"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$IMAGE" ]; then
	# /dev/shm when there is room: the numbers then measure the data
	# path, not the disk.
	# Allocated up front: a tmpfs image without holes is served through
	# a mapping (the default engine there, docs/blk.md).
	SHM_IMG=$(mktemp /dev/shm/vh-blk-demo.XXXXXX.img 2>/dev/null || true)
	if [ -n "$SHM_IMG" ] && fallocate -l "$SIZE" "$SHM_IMG" 2>/dev/null; then
		IMAGE=$SHM_IMG
		echo "image: $IMAGE, $SIZE, allocated"
	else
		[ -n "$SHM_IMG" ] && rm -f "$SHM_IMG"
		SHM_IMG=""
		IMAGE=$T/disk.img
		truncate -s "$SIZE" "$IMAGE"
		echo "image: $IMAGE, $SIZE, sparse"
	fi
fi
SOCK=$T/blk.sock

step "start the back-end"
echo "+ vhost-user-blk --socket-path $SOCK --blk-file $IMAGE --num-queues 2"
"$BLK" --socket-path "$SOCK" --blk-file "$IMAGE" --num-queues 2 -v \
	</dev/null 2>"$T/blk.log" &
BE_PID=$!
for _ in $(seq 500); do
	[ -S "$SOCK" ] && break
	kill -0 "$BE_PID" 2>/dev/null || break
	sleep 0.01
done
if [ ! -S "$SOCK" ]; then
	cat "$T/blk.log" >&2
	echo "blk-demo: vhost-user-blk did not start" >&2
	exit 1
fi
sed -n '1p' "$T/blk.log"

step "vhost-user-bench --verify (write a pattern everywhere, read back, compare)"
echo "+ vhost-user-bench --socket $SOCK --verify --queues 2 --iodepth 16"
"$BENCH" --socket "$SOCK" --verify --queues 2 --iodepth 16 --quiet

for rw in randread randwrite; do
	step "vhost-user-bench $rw, 4 KiB, queue depth 32, ${RUNTIME} s"
	echo "+ vhost-user-bench --socket $SOCK --rw $rw --bs 4k --iodepth 32 --runtime $RUNTIME"
	"$BENCH" --socket "$SOCK" --rw "$rw" --bs 4k --iodepth 32 \
		--runtime "$RUNTIME" --quiet | grep -vE '^  (device|rings|range|features|protocol):'
done

step "stop the back-end (SIGTERM)"
kill -TERM "$BE_PID"
rc=0
wait "$BE_PID" || rc=$?
BE_PID=""
grep -E 'ring [0-9]+ stopped|stopped;' "$T/blk.log" | sed 's/^/  /' || true
if [ $rc -ne 0 ]; then
	echo "blk-demo: vhost-user-blk exited $rc" >&2
	exit 1
fi
if [ -e "$SOCK" ]; then
	echo "blk-demo: the socket $SOCK was left behind" >&2
	exit 1
fi
echo "vhost-user-blk exited 0 and removed $SOCK"
echo
echo "blk-demo: OK"
