#!/usr/bin/env bash
# tests/interop/with-qsd.sh - run a command next to a real vhost-user-blk
# back-end: qemu-storage-daemon (Debian package qemu-system-common) exporting
# a fresh raw image on a Unix socket.
#
#   tests/interop/with-qsd.sh [--size BYTES] [--queues N] [--timeout S] [--] CMD [ARG...]
#
# CMD runs with these variables exported:
#   VU_SOCK      the socket qemu-storage-daemon listens on (vhost-user-blk)
#   VU_IMG       the raw image file it exports (zero-filled)
#   VU_IMG_SIZE  the image size in bytes (default 64 MiB)
#   VU_QUEUES    the export's num-queues (default 2)
# The daemon keeps serving after a front-end disconnects, so CMD may connect
# several times. CMD runs under `timeout` (default 60 s); the exit status is
# CMD's (124 on timeout). Everything lives in a mktemp dir, removed on exit
# (KEEP=1 keeps it); the daemon is stopped by PID on every path.
set -u

SIZE=$((64 * 1024 * 1024))
QUEUES=2
TIMEOUT=60
while [ $# -gt 0 ]; do
	case "$1" in
	--size) SIZE=$2; shift 2 ;;
	--queues) QUEUES=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "with-qsd: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--size BYTES] [--queues N] [--timeout S] [--] CMD [ARG...]" >&2; exit 2; }

QSD_BIN=$(command -v qemu-storage-daemon) || {
	echo "with-qsd: qemu-storage-daemon not found (scripts/deps.sh installs qemu-system-common)" >&2
	exit 127
}

T=$(mktemp -d /tmp/vh-qsd.XXXXXX)
QSD_PID=""
cleanup() {
	if [ -n "$QSD_PID" ]; then
		kill -TERM "$QSD_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$QSD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$QSD_PID" 2>/dev/null
		wait "$QSD_PID" 2>/dev/null
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "with-qsd: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

IMG=$T/disk.img
SOCK=$T/vhost-user-blk.sock
truncate -s "$SIZE" "$IMG" || exit 1

# Bounded lifetime even if this script is killed without running its trap.
timeout $((TIMEOUT + 30)) "$QSD_BIN" \
	--blockdev "driver=file,node-name=file0,filename=$IMG,cache.direct=off" \
	--export "type=vhost-user-blk,id=exp0,node-name=file0,addr.type=unix,addr.path=$SOCK,writable=on,num-queues=$QUEUES,logical-block-size=512" \
	</dev/null >"$T/qsd.log" 2>&1 &
QSD_PID=$!

# It listens about 50 ms after start; allow 10 s.
for _ in $(seq 200); do
	[ -S "$SOCK" ] && break
	kill -0 "$QSD_PID" 2>/dev/null || break
	sleep 0.05
done
if [ ! -S "$SOCK" ]; then
	sed 's/^/qsd: /' "$T/qsd.log" >&2
	echo "with-qsd: qemu-storage-daemon did not listen on $SOCK" >&2
	exit 1
fi

export VU_SOCK=$SOCK VU_IMG=$IMG VU_IMG_SIZE=$SIZE VU_QUEUES=$QUEUES
timeout "$TIMEOUT" "$@"
rc=$?
if [ $rc -ne 0 ]; then
	[ $rc -eq 124 ] && echo "with-qsd: '$*' timed out after $TIMEOUT s" >&2
	if [ -s "$T/qsd.log" ]; then
		echo "with-qsd: last lines of the qemu-storage-daemon log:" >&2
		tail -n 20 "$T/qsd.log" | sed 's/^/qsd: /' >&2
	fi
fi
if ! kill -0 "$QSD_PID" 2>/dev/null; then
	echo "with-qsd: qemu-storage-daemon died during the run" >&2
	[ $rc -eq 0 ] && rc=1
fi
exit $rc
