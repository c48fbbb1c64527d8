#!/usr/bin/env bash
# scripts/demo.sh - install what is missing, build, and show libvhost at work
# on an embedded default (no arguments):
#
#   1. start our back-end, examples/vhost-user-example-backend (built on the
#      dispatcher), on a temporary socket;
#   2. probe it with our front-end tool, tools/vhost-user-probe, which prints
#      the negotiation decoded by name (features, protocol features, queues,
#      memory slots, config space decoded as virtio-blk), then stop it with
#      SIGTERM and show the back-end's log of the same conversation;
#   3. probe a third-party back-end the same way: qemu-storage-daemon serving
#      a temporary 64 MiB raw image as vhost-user-blk.
#
# Everything runs in a temporary directory and is stopped on exit.
# Env: VH_BUILDDIR (default build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=${VH_BUILDDIR:-build}
BUILD_LOG=/tmp/libvhost-demo-build.log

bash scripts/deps.sh

echo "build: meson + ninja in $B/ (log: $BUILD_LOG)"
{
	if [ -f "$B/build.ninja" ]; then
		meson setup --reconfigure "$B"
	else
		meson setup "$B" --buildtype=debugoptimized
	fi && meson compile -C "$B"
} >"$BUILD_LOG" 2>&1 || {
	tail -n 30 "$BUILD_LOG" >&2
	echo "demo: the build failed (log: $BUILD_LOG)" >&2
	exit 1
}

PROBE=$ROOT/$B/tools/vhost-user-probe
EXAMPLE=$ROOT/$B/examples/vhost-user-example-backend
for bin in "$PROBE" "$EXAMPLE"; do
	[ -x "$bin" ] || { echo "demo: $bin was not built" >&2; exit 1; }
done

T=$(mktemp -d /tmp/vh-demo.XXXXXX)
BE_PID=""
cleanup() {
	if [ -n "$BE_PID" ]; then
		kill -KILL "$BE_PID" 2>/dev/null || true
		wait "$BE_PID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

SOCK=$T/example.sock
echo
echo "== 1. our back-end: examples/vhost-user-example-backend --socket-path $SOCK"
"$EXAMPLE" --socket-path "$SOCK" </dev/null >"$T/backend.log" 2>&1 &
BE_PID=$!
for _ in $(seq 200); do
	[ -S "$SOCK" ] && break
	kill -0 "$BE_PID" 2>/dev/null || break
	sleep 0.05
done
[ -S "$SOCK" ] || {
	cat "$T/backend.log" >&2
	echo "demo: the example back-end did not listen on $SOCK" >&2
	exit 1
}
echo "\$ vhost-user-probe --type blk $SOCK"
timeout 30 "$PROBE" --type blk "$SOCK"
kill -TERM "$BE_PID"
rc=0
wait "$BE_PID" || rc=$?
BE_PID=""
echo "-- the back-end's side (its log; stopped by SIGTERM, exit status $rc):"
sed 's/^/   | /' "$T/backend.log"
[ $rc -eq 0 ] || exit 1

echo
echo "== 2. a third-party back-end: qemu-storage-daemon, vhost-user-blk export of a 64 MiB image"
echo "\$ vhost-user-probe --type blk \$VU_SOCK"
bash tests/interop/with-qsd.sh --timeout 30 -- \
	sh -c 'echo "(VU_SOCK=$VU_SOCK)"; exec "$0" --type blk "$VU_SOCK"' "$PROBE"

echo
echo "demo: done"
