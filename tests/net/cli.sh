#!/usr/bin/env bash
# tests/net/cli.sh NET PEER - the vhost-user-net program's conventions:
# --help/--version/--print-capabilities, usage errors (one line, exit 2),
# serving --loop on --socket-path and on an inherited --fd to vh-net-peer
# (our front-end), a second front-end after the first, --client waiting for
# a socket that is not there yet, and a clean SIGTERM (exit 0, counters).
set -u
NET=$1
PEER=$2
T=$(mktemp -d /tmp/vh-net-cli.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

wait_sock() { local i; for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }
stop() { # PID -> its exit status after SIGTERM (bounded)
	local i
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
}

# --- information options ---------------------------------------------------
"$NET" --help >"$T/out" 2>&1 && grep -q '^Usage: vhost-user-net' "$T/out" &&
	ok "--help" || bad "--help"
"$NET" --version | grep -qx 'vhost-user-net [0-9.]*' && ok "--version" || bad "--version"
caps=$("$NET" --print-capabilities)
echo "$caps" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d == {"type": "net"}' &&
	ok "--print-capabilities: $(echo $caps)" || bad "--print-capabilities: $caps"

# --- usage errors: exit 2, one line on stderr -------------------------------
usage_err() { # label, args...
	local label=$1 rc
	shift
	"$NET" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc = 2 ] && [ "$(wc -l <"$T/err")" = 1 ]; then
		ok "$label: exit 2, '$(cat "$T/err")'"
	else
		bad "$label: exit $rc, stderr: $(cat "$T/err")"
	fi
}
usage_err "no arguments"
usage_err "no back-end" --socket-path "$T/x.sock"
usage_err "two back-ends" --socket-path "$T/x.sock" --loop --sink
usage_err "unknown option" --socket-path "$T/x.sock" --loop --frobnicate
usage_err "frame too small" --socket-path "$T/x.sock" --gen 10
usage_err "both path and fd" --socket-path "$T/x.sock" --fd 3 --loop
usage_err "bad MAC" --socket-path "$T/x.sock" --loop --mac 1:2:3
usage_err "bad queue count" --socket-path "$T/x.sock" --loop --queues 0
usage_err "bad CPU list" --socket-path "$T/x.sock" --loop --cpu x
[ -e "$T/x.sock" ] && bad "a usage error left a socket" || ok "usage errors leave no socket"

# --- a run-time error: exit 1, one line -------------------------------------
"$NET" --socket-path /nonexistent-dir/s.sock --loop >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && ok "unusable path: exit 1, '$(cat "$T/err")'" ||
	bad "unusable path: exit $rc: $(cat "$T/err")"

# --- --socket-path: two front-ends in a row, then SIGTERM ------------------
"$NET" --socket-path "$T/s.sock" --loop >"$T/net.log" 2>&1 &
NP=$!
PIDS+=($NP)
wait_sock "$T/s.sock" || bad "no listening socket"
timeout 20 "$PEER" "$T/s.sock" --frames 300 --size 200 >"$T/p1" 2>&1 && ok "$(cat "$T/p1")" ||
	bad "first front-end: $(cat "$T/p1")"
timeout 20 "$PEER" "$T/s.sock" --frames 100 --size 60 --packed >"$T/p2" 2>&1 && ok "$(cat "$T/p2")" ||
	bad "second front-end: $(cat "$T/p2")"
stop $NP
rc=$?
[ $rc = 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc"
grep -q 'exit: tx_frames=400 .*rx_frames=400 ' "$T/net.log" &&
	ok "counters: $(grep -o 'tx_frames=[0-9]*\|rx_frames=[0-9]*' "$T/net.log" | tr '\n' ' ')" ||
	bad "counters: $(cat "$T/net.log")"
[ -e "$T/s.sock" ] && bad "socket left behind" || ok "socket removed at exit"

# --- --fd: an inherited listening socket ----------------------------------
python3 - "$NET" "$T/fd.sock" >"$T/fd.log" 2>&1 <<'EOF' &
import os, signal, socket, subprocess, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[2]); s.listen(1)
p = subprocess.Popen([sys.argv[1], "--fd", str(s.fileno()), "--loop"], pass_fds=[s.fileno()])
s.close()
open(sys.argv[2] + ".pid", "w").write(str(p.pid))
sys.exit(p.wait())
EOF
PY=$!
PIDS+=($PY)
for i in $(seq 100); do [ -s "$T/fd.sock.pid" ] && break; sleep 0.05; done
timeout 20 "$PEER" "$T/fd.sock" --frames 50 >"$T/p3" 2>&1 && ok "--fd: $(cat "$T/p3")" ||
	bad "--fd: $(cat "$T/p3")"
kill -TERM "$(cat "$T/fd.sock.pid" 2>/dev/null)" 2>/dev/null
wait $PY
rc=$?
[ $rc = 0 ] && ok "--fd: exit 0 after SIGTERM" || bad "--fd: exit $rc: $(cat "$T/fd.log")"

# --- --client: waits for the socket, then serves ----------------------------
"$NET" --socket-path "$T/c.sock" --client --sink >"$T/c.log" 2>&1 &
CP=$!
PIDS+=($CP)
sleep 0.5
kill -0 $CP 2>/dev/null && ok "--client: waits while nobody listens" || bad "--client exited: $(cat "$T/c.log")"
stop $CP
rc=$?
[ $rc = 0 ] && ok "--client: exit 0 after SIGTERM" || bad "--client: exit $rc"

if [ $fails = 0 ]; then echo "PASS: vhost-user-net command line"; exit 0; fi
echo "FAIL: vhost-user-net command line ($fails failures)"
exit 1
