#!/usr/bin/env bash
# bench/blk/scale.sh - how vhost-user-blk's own resident memory grows with
# queues and with devices served by one process, under load.
#
#   bench/blk/scale.sh [BUILD_DIR]      (default: build)
#
# env: QUEUE_STEPS [1 2 4 8 16 32 64]  DEVICE_STEPS [1 2 4 8 16 32]
#      SECS [3]  BE_CPU [0]  FE_CPU [1]
#
# queues:  one process, --null, N queues; vhost-user-bench --queues N
#          --iodepth 32 drives them all. Two layouts: one worker thread per
#          queue (-t 1, the default) and one worker for all (-t N).
# devices: one process serving D devices (options separated by "--"), each
#          --null with one queue; D vhost-user-bench processes at once,
#          QD 8 each.
# Memory is sampled from /proc/PID/status in the middle of the load:
# "own" = RssAnon + RssFile (VmRSS without RssShmem, the guest memory the
# back-end maps), also RssAnon alone and the thread count.
set -u
BUILD=${1:-build}
BLK=${BLK:-$BUILD/devices/blk/vhost-user-blk}
BENCH=${BENCH:-$BUILD/tools/vhost-user-bench}
QUEUE_STEPS=${QUEUE_STEPS:-1 2 4 8 16 32 64}
DEVICE_STEPS=${DEVICE_STEPS:-1 2 4 8 16 32}
SECS=${SECS:-3}
BE_CPU=${BE_CPU:-0}
FE_CPU=${FE_CPU:-1}

[ -x "$BLK" ] || { echo "FAIL: $BLK not built"; exit 1; }
[ -x "$BENCH" ] || { echo "FAIL: $BENCH not built"; exit 1; }
T=$(mktemp -d /tmp/vh-blk-scale.XXXXXX)
BPID=""
stop_be() {
	[ -n "$BPID" ] || return 0
	kill -TERM "$BPID" 2>/dev/null
	wait "$BPID" 2>/dev/null
	BPID=""
}
trap 'stop_be; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

start_be() { # sockets to wait for, then the program's arguments
	local n=$1
	shift
	"$BLK" "$@" </dev/null >"$T/be.log" 2>&1 &
	BPID=$!
	for _ in $(seq 200); do
		[ "$(find "$T" -name '*.sock' | wc -l)" -ge "$n" ] && return 0
		kill -0 "$BPID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/be.log"
	echo "FAIL: vhost-user-blk did not start"
	exit 1
}

sample() { # label: print one row from the back-end's status
	awk -v l="$1" '/^VmRSS/{v=$2} /^RssAnon/{a=$2} /^RssFile/{f=$2}
	     /^RssShmem/{s=$2} /^Threads/{t=$2}
	     END{printf "| %s | %d | %d | %d | %d | %d |\n", l, a + f, a, s, v, t}' \
		"/proc/$BPID/status"
}

idle() { # label: the same row before any front-end connected
	sample "$1 (idle)"
}

echo "### queues (one process, --null, vhost-user-bench --queues N --iodepth 32)"
echo
echo "| queues, threads | own KiB (anon+file) | anon KiB | guest shmem KiB | VmRSS KiB | threads |"
echo "|---|---:|---:|---:|---:|---:|"
for t in 1 all; do
	for q in $QUEUE_STEPS; do
		qpt=1
		[ "$t" = all ] && qpt=$q
		rm -f "$T"/*.sock
		start_be 1 -s "$T/q.sock" --null -n "$q" -t "$qpt" --cpus "$BE_CPU"
		[ "$q" = 1 ] && [ "$t" = 1 ] && idle "1 queue"
		taskset -c "$FE_CPU" "$BENCH" --socket "$T/q.sock" --queues "$q" \
			--iodepth 32 --runtime "$SECS" --quiet >"$T/b.out" 2>&1 &
		b=$!
		sleep "$(awk -v s="$SECS" 'BEGIN{print s / 2 + 0.3}')"
		sample "$q queues, $([ "$t" = all ] && echo "1 thread" || echo "$q threads")"
		wait "$b" || { cat "$T/b.out"; echo "FAIL: bench (queues $q)"; exit 1; }
		stop_be
	done
done

echo
echo "### devices (one process, D devices of one queue, D vhost-user-bench at QD 8)"
echo
echo "| devices | own KiB (anon+file) | anon KiB | guest shmem KiB | VmRSS KiB | threads |"
echo "|---|---:|---:|---:|---:|---:|"
for d in $DEVICE_STEPS; do
	args=()
	rm -f "$T"/*.sock
	for i in $(seq "$d"); do
		[ "$i" -gt 1 ] && args+=(--)
		args+=(-s "$T/d$i.sock" --null --cpus "$BE_CPU")
	done
	start_be "$d" "${args[@]}"
	pids=()
	for i in $(seq "$d"); do
		taskset -c "$FE_CPU" "$BENCH" --socket "$T/d$i.sock" --iodepth 8 \
			--runtime "$SECS" --quiet >"$T/b$i.out" 2>&1 &
		pids+=($!)
	done
	sleep "$(awk -v s="$SECS" 'BEGIN{print s / 2 + 0.5}')"
	sample "$d"
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { cat "$T/b$((i + 1)).out"; echo "FAIL: bench (device $((i + 1)) of $d)"; exit 1; }
	done
	stop_be
done
