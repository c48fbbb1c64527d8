#!/usr/bin/env bash
# bench/blk/run.sh - vhost-user-blk against qemu-storage-daemon's
# vhost-user-blk export, both driven by vhost-user-bench (our front-end, the
# same meter for both), runs alternating in one script.
#
#   bench/blk/run.sh [BUILD_DIR]        (default: build; use a release build)
#
# env (defaults in brackets):
#   REPS [3]            runs per configuration and back-end
#   RUNTIME [4] RAMP [1] seconds measured / warmed up per run
#   KINDS [file null]   file: a 1 GiB raw file in /dev/shm (written full
#                       first): ours with --aio io_uring (and "auto", the
#                       tmpfs copy path, when OURS_FILE="auto io_uring"),
#                       QSD with aio=io_uring,cache.direct=off
#                       null: ours --null, QSD driver=null-co
#   MODES [event poll]  event: no polling anywhere: the bench sleeps on the
#                       call eventfd, ours --poll-us 0, QSD poll-max-ns=0
#                       poll: the bench busy-polls the used ring, ours
#                       --poll-us $POLL_US, QSD's iothread with its default
#                       adaptive polling (poll-max-ns 32768)
#   RWS [randread randwrite]  QDS [1 32 128]  QUEUES [1 2]
#   OURS_FILE [io_uring]      --aio values of ours on the file kind
#   OURS_VARIANTS       more instances of ours, each word NAME=ARGS with the
#                       extra arguments comma-separated, e.g.
#                       "b1=--batch=1 b4=--batch=4" (run as ours-NAME)
#   POLL_US [32]        ours' busy-poll window in poll mode
#   BE_CPU [0] FE_CPU [1]  cores: every back-end thread (ours: one worker for
#                       all queues, -t; QSD: the whole daemon, one iothread)
#                       on BE_CPU, every bench queue thread on FE_CPU
#   OUT                 directory for the results (default: a mktemp dir)
#
# Each configuration is run REPS times per back-end in ABBA order (ours
# first on odd repetitions, QSD first on even), each pair under
# `flock /tmp/vh-bench.lock` so no other benchmark on the machine overlaps.
# Per run: IOPS, p50/p99 latency, the CPU time each side used per request
# (vhost-user-bench reads the back-end's /proc/PID/stat), and the back-end's
# resident memory sampled mid-run from /proc/PID/status: RssAnon+RssFile,
# i.e. VmRSS without RssShmem (the guest memory the back-end maps).
# The summary (bench/blk/summary.py) prints medians, min..max and ratios.
set -u
BUILD=${1:-build}
BLK=${BLK:-$BUILD/devices/blk/vhost-user-blk}
BENCH=${BENCH:-$BUILD/tools/vhost-user-bench}
REPS=${REPS:-3}
RUNTIME=${RUNTIME:-4}
RAMP=${RAMP:-1}
KINDS=${KINDS:-file null}
MODES=${MODES:-event poll}
RWS=${RWS:-randread randwrite}
QDS=${QDS:-1 32 128}
QUEUES=${QUEUES:-1 2}
OURS_FILE=${OURS_FILE:-io_uring}
POLL_US=${POLL_US:-32}
BE_CPU=${BE_CPU:-0}
FE_CPU=${FE_CPU:-1}
HERE=$(cd "$(dirname "$0")" && pwd)

[ -x "$BLK" ] || { echo "FAIL: $BLK not built"; exit 1; }
[ -x "$BENCH" ] || { echo "FAIL: $BENCH not built"; exit 1; }
QSD=$(command -v qemu-storage-daemon) ||
	{ echo "FAIL: qemu-storage-daemon missing (Debian package qemu-system-x86)"; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "FAIL: needs 2 CPUs"; exit 1; }

OUT=${OUT:-$(mktemp -d /tmp/vh-bench-blk.XXXXXX)}
mkdir -p "$OUT"
IMGS=/dev/shm/vh-bench-blk.$$ # one image per back-end: each locks its own
RES=$OUT/results.tsv
: >"$RES"
declare -A PID=() SOCK=()
stop_all() {
	local k
	for k in "${!PID[@]}"; do kill -TERM "${PID[$k]}" 2>/dev/null; done
	for k in "${!PID[@]}"; do
		for _ in $(seq 50); do kill -0 "${PID[$k]}" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "${PID[$k]}" 2>/dev/null
		wait "${PID[$k]}" 2>/dev/null
	done
	PID=()
	SOCK=()
}
trap 'stop_all; rm -f "$IMGS".*.img' EXIT
trap 'exit 130' INT TERM

image() { # name: its 1 GiB raw file in /dev/shm, written full once
	local f=$IMGS.$1.img
	if [ ! -f "$f" ]; then
		dd if=/dev/urandom of="$f" bs=1M count=1024 status=none ||
			{ echo "FAIL: cannot write $f" >&2; exit 1; }
	fi
	echo "$f"
}

wait_sock() { # name
	for _ in $(seq 200); do
		[ -S "${SOCK[$1]}" ] && return 0
		kill -0 "${PID[$1]}" 2>/dev/null || break
		sleep 0.05
	done
	cat "$OUT/$1.log" >&2
	echo "FAIL: back-end $1 did not start"
	exit 1
}

start_ours() { # name kind mode aio [extra args]
	local s=$OUT/$1.sock store poll=0 extra=${5:-}
	rm -f "$s"
	case $2 in
	file) store="--blk-file $(image "$1") --aio $4" ;;
	null) store="--null=1G" ;;
	esac
	[ "$3" = poll ] && poll=$POLL_US
	# shellcheck disable=SC2086 # store is two words on purpose
	"$BLK" --socket-path "$s" $store --num-queues 2 --queues-per-thread 2 \
		--poll-us "$poll" --cpus "$BE_CPU" ${extra//,/ } </dev/null >"$OUT/$1.log" 2>&1 &
	PID[$1]=$!
	SOCK[$1]=$s
	wait_sock "$1"
}

start_qsd() { # name kind mode
	local s=$OUT/$1.sock dev poll=""
	rm -f "$s"
	case $2 in
	file) dev="driver=file,node-name=disk0,filename=$(image "$1"),cache.direct=off,aio=io_uring" ;;
	null) dev="driver=null-co,node-name=disk0,size=1073741824" ;;
	esac
	[ "$3" = event ] && poll=",poll-max-ns=0"
	taskset -c "$BE_CPU" "$QSD" --blockdev "$dev" \
		--object "iothread,id=iot0$poll" \
		--export "type=vhost-user-blk,id=exp0,node-name=disk0,iothread=iot0,addr.type=unix,addr.path=$s,writable=on,num-queues=2,logical-block-size=512" \
		</dev/null >"$OUT/$1.log" 2>&1 &
	PID[$1]=$!
	SOCK[$1]=$s
	wait_sock "$1"
}

rss_sample() { # pid delay file: RssAnon+RssFile and VmRSS (KiB) mid-run
	sleep "$2"
	awk '/^VmRSS/{v=$2} /^RssAnon/{a=$2} /^RssFile/{f=$2} /^RssShmem/{s=$2}
	     END{print a+f, v, s}' "/proc/$1/status" >"$3" 2>/dev/null
}

one_run() { # name kind mode rw q qd rep
	local n=$1 j rf mid
	j=$OUT/$2-$3-$4-q$5-qd$6-$1-$7.json
	rf=$j.rss
	mid=$(awk -v r="$RAMP" -v t="$RUNTIME" 'BEGIN{print r + t / 2}')
	rss_sample "${PID[$n]}" "$mid" "$rf" &
	local sp=$!
	taskset -c "$FE_CPU" "$BENCH" --socket "${SOCK[$n]}" --rw "$4" --bs 4k \
		--iodepth "$6" --queues "$5" --cpus "$FE_CPU" --runtime "$RUNTIME" \
		--ramp "$RAMP" --quiet --json --backend-pid "${PID[$n]}" \
		$([ "$3" = poll ] && echo --poll) >"$j" 2>"$j.err"
	local rc=$?
	wait "$sp"
	if [ $rc -ne 0 ]; then
		echo "run failed ($n $2 $3 $4 q$5 qd$6): $(head -c 300 "$j.err")" >&2
		return 1
	fi
	python3 - "$j" "$rf" "$2" "$3" "$4" "$5" "$6" "$n" "$7" >>"$RES" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
j = d["jobs"][0]
l = j["latency_ns"]["all"]
c = j["cpu"]
try:
    own, vm, shm = open(sys.argv[2]).read().split()
except (OSError, ValueError):
    own = vm = shm = "-"
print("\t".join(sys.argv[3:10] + [
    "%.0f" % j["iops"], "%.1f" % (l["p50"] / 1e3), "%.1f" % (l["p99"] / 1e3),
    "%.2f" % (c.get("frontend_ns_per_request", 0) / 1e3),
    "%.2f" % (c.get("backend_ns_per_request", 0) / 1e3),
    "%.2f" % c.get("backend_cores", 0), own, vm,
    "1" if c.get("contended") else "0"]))
PY
	tail -n 1 "$RES" | awk -F'\t' '{printf "%-5s %-5s %-9s q%s qd%-3s %-10s #%s %9s IOPS p99 %7s us be %5s us/io rss %s KiB\n",
		$1, $2, $3, $4, $5, $6, $7, $8, $10, $12, $14}'
}

printf '# kind\tmode\trw\tq\tqd\tbackend\trep\tiops\tp50_us\tp99_us\tfe_us_io\tbe_us_io\tbe_cores\trss_own_kib\tvmrss_kib\tfe_contended\n' >"$OUT/header.tsv"
for kind in $KINDS; do
	for mode in $MODES; do
		names=()
		if [ "$kind" = file ]; then
			for a in $OURS_FILE; do
				start_ours "ours-$a" file "$mode" "$a"
				names+=("ours-$a")
			done
		else
			start_ours ours null "$mode" -
			names+=(ours)
		fi
		for v in ${OURS_VARIANTS:-}; do
			a=io_uring
			[ "$kind" = file ] && a=${OURS_FILE%% *}
			start_ours "ours-${v%%=*}" "$kind" "$mode" "$a" "${v#*=}"
			names+=("ours-${v%%=*}")
		done
		start_qsd qsd "$kind" "$mode"
		for rw in $RWS; do
			for q in $QUEUES; do
				for qd in $QDS; do
					for rep in $(seq "$REPS"); do
						order=("${names[@]}" qsd)
						if [ $((rep % 2)) = 0 ]; then
							order=(qsd "${names[@]}")
						fi
						exec 9>/tmp/vh-bench.lock
						flock 9
						for n in "${order[@]}"; do
							one_run "$n" "$kind" "$mode" "$rw" "$q" "$qd" "$rep"
						done
						flock -u 9
						exec 9>&-
					done
				done
			done
		done
		stop_all
	done
done
cat "$OUT/header.tsv" "$RES" >"$OUT/all.tsv"
python3 "$HERE/summary.py" "$OUT/all.tsv"
echo "results: $OUT/all.tsv"
