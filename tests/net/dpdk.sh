#!/usr/bin/env bash
# tests/net/dpdk.sh NET PEER [TEST...] - vhost-user-net with DPDK 22.11
# (Debian package dpdk-dev) as the third-party peer, no hugepages.
#
#   NET   the vhost-user-net program        PEER  vh-net-peer (our front-end)
#   TEST  any of: sink sink-poll sink-packed loop-io loop-mac loop-packed
#         client gen mq frontend frontend-packed (default: all)
#
# DPDK testpmd runs interactively (commands on a FIFO): "stop" ends the
# forwarding but leaves the port up, so the back-end drains the ring before
# "quit" and counts can be compared exactly:
#   sink       txonly into --sink: testpmd TX-packets == our tx_frames
#   sink-poll  the same with --poll --cpu 1 (busy-polling worker)
#   sink-packed the same over packed rings (virtio_user packed_vq=1)
#   loop-io    io forwarding, tx_first burst, into --loop: what testpmd sent
#              came back (our tx_frames == rx_frames == testpmd TX-packets,
#              testpmd RX-packets within the 32-frame first burst of it)
#   loop-mac   the same with mac forwarding
#   loop-packed the same over packed rings
#   client     loop-io with testpmd listening (server=1), ours --client
#   gen        rxonly fed by --gen 64: testpmd receives, nothing dropped
#   mq         two queue pairs, txonly into --sink --queues 2
#   frontend   our front-end (PEER) against DPDK's net_vhost back-end (io
#              forwarding): frames out on TX and back on RX
#              (tests/interop/with-dpdk-vhost.sh); frontend-packed: packed
# Every test ends with PASS/FAIL; exit 0 when all passed, 77 when testpmd is
# missing. Bounded: every process runs under timeout. KEEP=1 keeps the logs.
set -u
NET=$1
PEER=$2
shift 2
TESTS=${*:-sink sink-poll sink-packed loop-io loop-mac loop-packed client gen mq frontend frontend-packed}
HERE=$(cd "$(dirname "$0")" && pwd)
WITH_DPDK=$HERE/../interop/with-dpdk-vhost.sh

command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd missing (Debian package dpdk-dev)"; exit 77; }
T=$(mktemp -d /tmp/vh-net-dpdk.XXXXXX)
PIDS=()
N=0
cleanup() {
	local p
	exec 3>&- 2>/dev/null
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf /var/run/dpdk/vhnt$$-* 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
passed=0
failed=0
pass() { echo "PASS: dpdk $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: dpdk $*"; failed=$((failed + 1)); }

wait_for() { # FILE PATTERN SECONDS
	local i
	for i in $(seq $(($3 * 10))); do
		grep -aq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
wait_sock() { local i; for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done; return 1; }

# pmd_start LOG VDEV [testpmd args]: an interactive testpmd, commands on fd 3
pmd_start() {
	local log=$1 vdev=$2
	shift 2
	N=$((N + 1))
	rm -f "$T/in"
	mkfifo "$T/in"
	timeout 90 dpdk-testpmd -l 0,1 --main-lcore 1 --no-huge -m 512 --no-pci --no-shconf \
		--file-prefix=vhnt$$-$N --log-level=lib.eal:notice --vdev "$vdev" -- \
		--total-num-mbufs=16384 -i "$@" <"$T/in" >"$log" 2>&1 &
	PMD=$!
	PIDS+=($PMD)
	exec 3>"$T/in"
}
# pmd_cmd CMD...: one command per argument
pmd_cmd() { local c; for c in "$@"; do echo "$c" >&3; done; }
pmd_quit() {
	local i
	echo quit >&3
	exec 3>&-
	for i in $(seq 100); do kill -0 "$PMD" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PMD" 2>/dev/null
	wait "$PMD" 2>/dev/null
	rm -rf /var/run/dpdk/vhnt$$-$N
}
# acc LOG TX|RX: the "Accumulated forward statistics" count
acc() {
	tr -d '\033' <"$1" | grep -a -A3 'Accumulated forward statistics' |
		grep -a "$2-packets" | sed "s/.*$2-packets: *\([0-9]*\).*/\1/" | tail -1
}
# port LOG RX|TX: the port's own count since it started ("show port stats")
port() {
	tr -d '\033' <"$1" | grep -a -A2 'NIC statistics for port' | grep -a "$2-packets" |
		sed "s/.*$2-packets: *\([0-9]*\).*/\1/" | tail -1
}
# ours LOG NAME: our counter at exit
ours() { grep -o "exit: .*" "$1" | grep -o "$2=[0-9]*" | cut -d= -f2; }

net_start() { # LOG args...
	local log=$1
	shift
	"$NET" "$@" >"$log" 2>&1 &
	NP=$!
	PIDS+=($NP)
}
net_stop() {
	local i
	kill -TERM "$NP" 2>/dev/null
	for i in $(seq 100); do kill -0 "$NP" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$NP" 2>/dev/null
	wait "$NP"
}

# run_fwd NAME FWD VDEV_EXTRA NETARGS... : ours listening, testpmd client
run_fwd() {
	local name=$1 fwd=$2 extra=$3 sock=$T/$1.sock log=$T/$1
	shift 3
	net_start "$log.net" --socket-path "$sock" "$@"
	wait_sock "$sock" || { fail "$name: no socket: $(cat "$log.net")"; return 1; }
	pmd_start "$log.pmd" "net_virtio_user0,path=$sock,queues=${QUEUES:-1}$extra" \
		${PMDARGS:-}
	if ! wait_for "$log.pmd" "testpmd> " 40; then
		pmd_quit
		net_stop
		fail "$name: testpmd did not start: $(tail -3 "$log.pmd")"
		return 1
	fi
	pmd_cmd "set fwd $fwd"
	if [ "$fwd" = txonly ] || [ "$fwd" = rxonly ]; then pmd_cmd start; else pmd_cmd "start tx_first"; fi
	sleep "${SECS:-3}"
	pmd_cmd stop
	sleep 1 # the port is still up: the back-end drains what is queued
	pmd_cmd "show port stats 0"
	sleep 0.5
	pmd_quit
	net_stop
	NRC=$?
}

check_sink() { # name
	local log=$T/$1 tx ot
	tx=$(acc "$log.pmd" TX)
	ot=$(ours "$log.net" tx_frames)
	if [ "$NRC" = 0 ] && [ "${tx:-0}" -gt 0 ] && [ "$tx" = "$ot" ]; then
		pass "$1: testpmd sent $tx frames, vhost-user-net --sink counted $ot"
	else
		fail "$1: testpmd TX-packets=${tx:-?}, our tx_frames=${ot:-?}, exit $NRC; $(grep -a -i 'error\|fail' "$log.net" | head -3)"
	fi
}

check_loop() { # name
	local log=$T/$1 tx rx ot orx bad
	tx=$(acc "$log.pmd" TX)
	rx=$(acc "$log.pmd" RX)
	ot=$(ours "$log.net" tx_frames)
	orx=$(ours "$log.net" rx_frames)
	bad=$(($(ours "$log.net" tx_dropped) + $(ours "$log.net" tx_bad) + $(ours "$log.net" rx_dropped)))
	if [ "$NRC" = 0 ] && [ "${rx:-0}" -gt 0 ] && [ "$tx" = "$ot" ] && [ "$ot" = "$orx" ] &&
		[ "$bad" = 0 ] && [ $((tx - rx)) -ge 0 ] && [ $((tx - rx)) -le 32 ]; then
		pass "$1: testpmd sent $tx and received $rx frames back ($((tx - rx)) of the first burst still in its RX ring); vhost-user-net looped $orx"
	else
		fail "$1: testpmd TX=${tx:-?} RX=${rx:-?}, ours tx_frames=${ot:-?} rx_frames=${orx:-?} drops/bad=$bad, exit $NRC"
	fi
}

for t in $TESTS; do
	case $t in
	sink) run_fwd sink txonly "" --sink && check_sink sink ;;
	sink-poll) run_fwd sink-poll txonly "" --sink --poll=500000 --cpu 1 && check_sink sink-poll ;;
	sink-packed) run_fwd sink-packed txonly ",packed_vq=1" --sink && check_sink sink-packed ;;
	loop-io) run_fwd loop-io io "" --loop && check_loop loop-io ;;
	loop-mac) run_fwd loop-mac mac "" --loop && check_loop loop-mac ;;
	loop-packed) run_fwd loop-packed io ",packed_vq=1" --loop && check_loop loop-packed ;;
	gen)
		if run_fwd gen rxonly "" --gen 64; then
			rx=$(acc "$T/gen.pmd" RX)
			prx=$(port "$T/gen.pmd" RX)
			orx=$(ours "$T/gen.net" rx_frames)
			drop=$(($(ours "$T/gen.net" rx_dropped) + $(ours "$T/gen.net" rx_bad_bufs)))
			# The port counts everything it took (testpmd also drains
			# the queue before "start"); after "stop" the back-end can
			# still fill the 256 buffers of testpmd's RX ring.
			if [ "$NRC" = 0 ] && [ "${rx:-0}" -gt 0 ] && [ "${prx:-0}" -ge "$rx" ] &&
				[ "$orx" -ge "$prx" ] && [ $((orx - prx)) -le 256 ] && [ "$drop" = 0 ]; then
				pass "gen: testpmd received $rx frames of 64 bytes while forwarding, its port $prx; --gen made $orx ($((orx - prx)) left in its RX ring)"
			else
				fail "gen: testpmd RX=${rx:-?} port RX=${prx:-?}, ours rx_frames=${orx:-?} dropped=$drop, exit $NRC"
			fi
		fi
		;;
	mq)
		QUEUES=2 PMDARGS="--rxq=2 --txq=2" run_fwd mq txonly "" --sink --queues 2 &&
			check_sink mq
		;;
	client)
		sock=$T/client.sock
		pmd_start "$T/client.pmd" "net_virtio_user0,path=$sock,queues=1,server=1"
		if ! wait_sock "$sock"; then
			pmd_quit
			fail "client: testpmd (server=1) did not listen: $(tail -3 "$T/client.pmd")"
			continue
		fi
		net_start "$T/client.net" --socket-path "$sock" --client --loop
		if wait_for "$T/client.pmd" "testpmd> " 40; then
			sleep 2 # the vhost-user set-up happens after the connect
			pmd_cmd "set fwd io" "start tx_first"
			sleep "${SECS:-3}"
			pmd_cmd stop
			sleep 1
		fi
		pmd_quit
		net_stop
		NRC=$?
		check_loop client
		;;
	frontend | frontend-packed)
		[ -x "$WITH_DPDK" ] || { fail "$t: $WITH_DPDK missing"; continue; }
		args=(--frames 2000 --size 256)
		[ $t = frontend-packed ] && args+=(--packed)
		if out=$("$WITH_DPDK" --timeout 60 -- "$PEER" "${args[@]}" 2>&1); then
			pass "$t: our front-end against DPDK net_vhost: $(echo "$out" | grep '^PASS' | sed 's/^PASS: //')"
		else
			# The peer's own verdict first, then testpmd's last words.
			fail "$t: $(echo "$out" | grep -a -e '^FAIL' -e '^with-dpdk-vhost:' | head -4)
$(echo "$out" | grep -a '^testpmd: ' | head -60)"
		fi
		;;
	*) fail "unknown test $t" ;;
	esac
done
echo "dpdk: $passed passed, $failed failed"
[ $failed = 0 ]
