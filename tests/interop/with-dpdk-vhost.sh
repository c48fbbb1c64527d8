#!/usr/bin/env bash
# tests/interop/with-dpdk-vhost.sh - run a command next to a real vhost-user
# net back-end: DPDK testpmd (Debian package dpdk-dev) with a net_vhost port
# listening on a Unix socket, in io forwarding mode (a frame the front-end
# sends on a TX ring comes back on the RX ring).
#
#   tests/interop/with-dpdk-vhost.sh [--queues N] [--timeout S] [--] CMD [ARG...]
#
# CMD runs with VU_SOCK (the socket) exported, once testpmd has started
# forwarding (its log says so). No hugepages are needed: EAL
# runs with --no-huge -m 512 --no-pci --no-shconf and a file prefix unique to
# this run, whose /var/run/dpdk/<prefix> directory (created even with
# --no-shconf when root) is removed on exit. testpmd accepts a new front-end
# after the previous one disconnects. CMD runs under `timeout` (default 60 s);
# the exit status is CMD's (124 on timeout); on failure testpmd's vhost
# state changes and last lines go to stderr. KEEP=1 keeps the temp dir.
set -u

QUEUES=1
TIMEOUT=60
while [ $# -gt 0 ]; do
	case "$1" in
	--queues) QUEUES=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "with-dpdk-vhost: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--queues N] [--timeout S] [--] CMD [ARG...]" >&2; exit 2; }

TESTPMD=$(command -v dpdk-testpmd) || {
	echo "with-dpdk-vhost: dpdk-testpmd not found (scripts/deps.sh installs dpdk-dev)" >&2
	exit 127
}

T=$(mktemp -d /tmp/vh-dpdk.XXXXXX)
PREFIX=vhlib$$
PMD_PID=""
cleanup() {
	if [ -n "$PMD_PID" ]; then
		# SIGINT: testpmd prints its totals and exits 0.
		kill -INT "$PMD_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$PMD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PMD_PID" 2>/dev/null
		wait "$PMD_PID" 2>/dev/null
	fi
	rm -rf "/var/run/dpdk/$PREFIX" "/run/dpdk/$PREFIX" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "with-dpdk-vhost: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SOCK=$T/vhost-net.sock
# testpmd wants a main lcore and a forwarding lcore; on a one-CPU machine
# both lcores share CPU 0.
if [ "$(nproc)" -ge 2 ]; then LCORES=(-l "0,1"); else LCORES=(--lcores "0@0,1@0"); fi

# --stats-period keeps testpmd from waiting for Enter on stdin; the smaller
# mbuf pool fits in -m 512. timeout bounds it even if our trap never runs.
timeout $((TIMEOUT + 30)) "$TESTPMD" "${LCORES[@]}" --no-huge -m 512 --no-pci \
	--no-shconf --file-prefix="$PREFIX" --log-level=lib.eal:notice \
	--vdev "net_vhost0,iface=$SOCK,client=0,queues=$QUEUES" -- \
	--total-num-mbufs=16384 --stats-period 1 --forward-mode=io \
	</dev/null >"$T/testpmd.log" 2>&1 &
PMD_PID=$!

for _ in $(seq 200); do
	[ -S "$SOCK" ] && break
	kill -0 "$PMD_PID" 2>/dev/null || break
	sleep 0.05
done
if [ ! -S "$SOCK" ]; then
	tail -n 30 "$T/testpmd.log" | sed 's/^/testpmd: /' >&2
	echo "with-dpdk-vhost: dpdk-testpmd did not listen on $SOCK" >&2
	exit 1
fi

# The socket exists once the port is configured, before testpmd starts
# forwarding: a front-end that connects and sends in that window sees its
# frames sit unforwarded (one CI run: TX-packets 0 for the whole run).
# Start CMD once testpmd says it forwards.
for _ in $(seq 400); do
	grep -aq "packet forwarding - ports=" "$T/testpmd.log" && break
	kill -0 "$PMD_PID" 2>/dev/null || break
	sleep 0.05
done
if ! grep -aq "packet forwarding - ports=" "$T/testpmd.log"; then
	tail -n 30 "$T/testpmd.log" | sed 's/^/testpmd: /' >&2
	echo "with-dpdk-vhost: dpdk-testpmd did not start forwarding within 20 s" >&2
	exit 1
fi

export VU_SOCK=$SOCK
timeout "$TIMEOUT" "$@"
rc=$?
if [ $rc -ne 0 ]; then
	[ $rc -eq 124 ] && echo "with-dpdk-vhost: '$*' timed out after $TIMEOUT s" >&2
	echo "with-dpdk-vhost: the vhost state changes testpmd logged:" >&2
	grep -a -e 'VHOST_CONFIG' -e 'link state' -e 'forwarding' "$T/testpmd.log" |
		head -n 60 | sed 's/^/testpmd: /' >&2
	echo "with-dpdk-vhost: last lines of the testpmd log:" >&2
	tr -d '\033' <"$T/testpmd.log" | grep -av -e '-pps:' -e '^ *$' | tail -n 20 |
		sed 's/^/testpmd: /' >&2
fi
if ! kill -0 "$PMD_PID" 2>/dev/null; then
	echo "with-dpdk-vhost: dpdk-testpmd died during the run" >&2
	[ $rc -eq 0 ] && rc=1
fi
exit $rc
