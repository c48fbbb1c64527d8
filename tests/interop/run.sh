#!/usr/bin/env bash
# tests/interop/run.sh - libvhost against real third-party vhost-user peers.
#
#   tests/interop/run.sh [--builddir DIR] [CHECK...]
#
# DIR (default: build) is a configured and compiled meson build directory,
# relative to the repository root or absolute. With CHECK names, only those
# run. Each check prints one line: `PASS: name`, `FAIL: name (reason)` or
# `SKIP: name (reason)`, with the log of a failed check indented below it.
# The last line is `interop: N passed, N failed, N skipped`; the exit status
# is 1 when anything failed.
#
# Checks:
#   interop-qsd          tests/frontend/interop-qsd against qemu-storage-daemon
#   interop-dpdk         tests/frontend/interop-dpdk against DPDK testpmd net_vhost
#   probe-qsd            vhost-user-probe (text and --json) against qemu-storage-daemon
#   probe-dpdk           vhost-user-probe (text and --json) against DPDK net_vhost
#   probe-example        vhost-user-probe (--json, then text) against
#                        examples/vhost-user-example-backend with 2 queues and
#                        4096 sectors: both probes show them (the back-end serves
#                        one front-end after another); the back-end exits 0 on
#                        SIGTERM and removes its socket
#   probe-missing-socket vhost-user-probe on a path with no socket: non-zero
#                        exit and a message, promptly
# A peer that is missing (deps.sh installs them) or a binary of ours that was
# not built is a FAIL, never a skip.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILDDIR=build
ONLY=()
while [ $# -gt 0 ]; do
	case "$1" in
	--builddir) BUILDDIR=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) ONLY+=("$1"); shift ;;
	esac
done
case "$BUILDDIR" in /*) B=$BUILDDIR ;; *) B=$ROOT/$BUILDDIR ;; esac

PROBE=$B/tools/vhost-user-probe
EXAMPLE=$B/examples/vhost-user-example-backend
CHECK=(python3 "$HERE/probe_check.py")
T=$(mktemp -d /tmp/vh-interop.XXXXXX)
BG_PID=""
cleanup() {
	[ -n "$BG_PID" ] && { kill -KILL "$BG_PID" 2>/dev/null; wait "$BG_PID" 2>/dev/null; }
	if [ "${KEEP:-0}" = 1 ]; then echo "run.sh: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

npass=0 nfail=0 nskip=0 # nothing skips today: a missing peer fails
LOG="" # the log of the check that is running
pass() { echo "PASS: $1${2:+ ($2)}"; npass=$((npass + 1)); }
fail() {
	echo "FAIL: $1 ($2)"
	nfail=$((nfail + 1))
	[ -s "$LOG" ] && tail -n 40 "$LOG" | sed 's/^/    /'
	return 0
}
wanted() {
	[ ${#ONLY[@]} -eq 0 ] && return 0
	local c
	for c in "${ONLY[@]}"; do [ "$c" = "$1" ] && return 0; done
	return 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
took() { echo "$(($(now_ms) - $1)) ms"; }

# need_bin NAME PATH: our binary exists and is executable, or the check fails.
need_bin() {
	[ -x "$2" ] && return 0
	fail "$1" "${2#"$ROOT"/} not built"
	return 1
}
# need_peer NAME CMD: a third-party peer is installed, or the check fails.
need_peer() {
	command -v "$2" >/dev/null 2>&1 && return 0
	fail "$1" "$2 not installed (scripts/deps.sh installs it)"
	return 1
}

# run_wrapped NAME WRAPPER BIN: BIN (an interop test program) next to a peer.
run_wrapped() {
	local name=$1 wrapper=$2 bin=$3 peer=$4 t0 rc
	wanted "$name" || return 0
	LOG=$T/$name.log
	need_peer "$name" "$peer" || return 0
	need_bin "$name" "$bin" || return 0
	t0=$(now_ms)
	bash "$HERE/$wrapper" --timeout 120 -- "$bin" >"$LOG" 2>&1
	rc=$?
	case $rc in
	0) pass "$name" "$(took "$t0")" ;;
	77) fail "$name" "exited 77 (skip) although the peer is running" ;;
	124) fail "$name" "timed out" ;;
	*) fail "$name" "exit status $rc" ;;
	esac
}

# probe_peer NAME WRAPPER PEER TYPE CHECK-ARGS...
probe_peer() {
	local name=$1 wrapper=$2 peer=$3 type=$4 t0 rc why
	shift 4
	wanted "$name" || return 0
	LOG=$T/$name.log
	need_peer "$name" "$peer" || return 0
	need_bin "$name" "$PROBE" || return 0
	t0=$(now_ms)
	# Both forms against the same peer instance: it accepts one front-end
	# after another.
	bash "$HERE/$wrapper" --timeout 60 -- bash -c '
		"$1" --type "$2" "$VU_SOCK" >"$3.txt" || { echo "text probe exited $?"; exit 1; }
		"$1" --json --type "$2" "$VU_SOCK" >"$3.json" || { echo "--json probe exited $?"; exit 1; }
		' probe "$PROBE" "$type" "$T/$name" >"$LOG" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$name" "probe or peer failed, status $rc"
		return 0
	fi
	{ echo "--- text output:"; cat "$T/$name.txt"; echo "--- json output:"; cat "$T/$name.json"; } >>"$LOG"
	if ! why=$("${CHECK[@]}" --text "$T/$name.txt" "$@"); then
		fail "$name" "text output: $why"
	elif ! why=$("${CHECK[@]}" --json "$T/$name.json" "$@"); then
		fail "$name" "json output: $why"
	else
		pass "$name" "$(took "$t0")"
	fi
}

probe_example() {
	local name=probe-example sock=$T/example.sock t0 rc why
	local want=(--feature VERSION_1 --feature CONFIG --feature REPLY_ACK
		--value queue_num=2 --value capacity=4096)
	wanted "$name" || return 0
	LOG=$T/$name.log
	need_bin "$name" "$EXAMPLE" || return 0
	need_bin "$name" "$PROBE" || return 0
	t0=$(now_ms)
	"$EXAMPLE" --socket-path "$sock" --num-queues 2 --capacity 4096 \
		</dev/null >"$LOG" 2>&1 &
	BG_PID=$!
	for _ in $(seq 200); do
		[ -S "$sock" ] && break
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -S "$sock" ]; then
		fail "$name" "the example back-end did not listen on its socket"
		return 0
	fi
	# Two front-ends one after the other: JSON, then text; both must show
	# what the back-end was configured with.
	if ! timeout 30 "$PROBE" --json --type blk "$sock" >"$T/$name.json" 2>>"$LOG"; then
		fail "$name" "--json probe failed (status $?)"
		return 0
	fi
	if ! timeout 30 "$PROBE" --type blk "$sock" >"$T/$name.txt" 2>>"$LOG"; then
		fail "$name" "second (text) probe failed (status $?)"
		return 0
	fi
	{ echo "--- text output:"; cat "$T/$name.txt"; echo "--- json output:"; cat "$T/$name.json"; } >>"$LOG"
	if ! why=$("${CHECK[@]}" --json "$T/$name.json" "${want[@]}"); then
		fail "$name" "json output: $why"
		return 0
	fi
	if ! why=$("${CHECK[@]}" --text "$T/$name.txt" "${want[@]}"); then
		fail "$name" "text output: $why"
		return 0
	fi
	kill -TERM "$BG_PID"
	for _ in $(seq 100); do kill -0 "$BG_PID" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$BG_PID" 2>/dev/null; then
		fail "$name" "the example back-end did not exit within 5 s of SIGTERM"
		return 0
	fi
	wait "$BG_PID"
	rc=$?
	BG_PID=""
	if [ $rc -ne 0 ]; then
		fail "$name" "the example back-end exited $rc after SIGTERM"
	elif [ -e "$sock" ]; then
		fail "$name" "the example back-end left its socket behind"
	else
		pass "$name" "$(took "$t0")"
	fi
}

probe_missing() {
	local name=probe-missing-socket rc
	wanted "$name" || return 0
	LOG=$T/$name.log
	need_bin "$name" "$PROBE" || return 0
	timeout 10 "$PROBE" "$T/no-such-dir/none.sock" >"$LOG" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		fail "$name" "exit status 0 for a missing socket"
	elif [ $rc -eq 124 ]; then
		fail "$name" "hung for 10 s"
	elif [ $rc -ge 128 ]; then
		fail "$name" "killed by signal $((rc - 128))"
	elif [ ! -s "$LOG" ]; then
		fail "$name" "exit status $rc but no message"
	else
		pass "$name" "status $rc: $(head -n 1 "$LOG")"
	fi
}

cd "$ROOT" || exit 1
[ -d "$B" ] || echo "run.sh: warning: build directory $B does not exist" >&2

QSD_SECTORS=$((64 * 1024 * 1024 / 512)) # with-qsd.sh's default image size

run_wrapped interop-qsd with-qsd.sh "$B/tests/frontend/interop-qsd" qemu-storage-daemon
run_wrapped interop-dpdk with-dpdk-vhost.sh "$B/tests/frontend/interop-dpdk" dpdk-testpmd
probe_peer probe-qsd with-qsd.sh qemu-storage-daemon blk \
	--feature VERSION_1 --feature CONFIG --feature MQ \
	--value capacity=$QSD_SECTORS --value queue_num=2
probe_peer probe-dpdk with-dpdk-vhost.sh dpdk-testpmd net \
	--feature VERSION_1 --feature MQ --feature REPLY_ACK --value queue_num=128
probe_example
probe_missing

echo "interop: $npass passed, $nfail failed, $nskip skipped"
[ $nfail -eq 0 ]
