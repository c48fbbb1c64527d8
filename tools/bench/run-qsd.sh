#!/usr/bin/env bash
# tools/bench/run-qsd.sh [BENCH]: vhost-user-bench against qemu-storage-daemon,
# the matrix of docs/vhost-user-bench.md ("Numbers"): 4 KiB randread and
# randwrite, QD 1/32/128, 1 and 2 queues, poll and event completion, on
#   file: a 1 GiB raw file in /dev/shm (written once, so no holes), aio=io_uring
#   null: driver=null-co
# QSD runs its export in one iothread; the whole daemon is pinned to QSD_CPU,
# the bench's queue threads to BENCH_CPUS. Prints one line per run and keeps
# every JSON object in $OUT/<kind>-<rw>-qd<N>-q<N>-<mode>.json.
#
# Env: RUNTIME (default 5 s), RAMP (1 s), QSD_CPU (0), BENCH_CPUS (1),
#      KINDS ("file null"), OUT (a mktemp dir), POLL_NS (QSD iothread
#      poll-max-ns; default QEMU's own).
set -u
BENCH=${1:-build/tools/vhost-user-bench}
RUNTIME=${RUNTIME:-5}
RAMP=${RAMP:-1}
QSD_CPU=${QSD_CPU:-0}
BENCH_CPUS=${BENCH_CPUS:-1}
KINDS=${KINDS:-file null}
QSD=$(command -v qemu-storage-daemon) || { echo "qemu-storage-daemon is not installed" >&2; exit 77; }
[ -x "$BENCH" ] || { echo "no bench at $BENCH" >&2; exit 2; }
OUT=${OUT:-$(mktemp -d /tmp/vh-bench-qsd.XXXXXX)}
mkdir -p "$OUT"
IMG=/dev/shm/vh-bench-qsd.$$.img
SOCK=$OUT/qsd.sock
QPID=""
stop_qsd() {
	[ -n "$QPID" ] || return 0
	kill -TERM "$QPID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	QPID=""
}
trap 'stop_qsd; rm -f "$IMG"' EXIT
trap 'exit 130' INT TERM

start_qsd() { # kind
	local dev
	rm -f "$SOCK"
	case $1 in
	file)
		[ -f "$IMG" ] || dd if=/dev/zero of="$IMG" bs=1M count=1024 status=none
		dev="driver=file,node-name=disk0,filename=$IMG,cache.direct=off,aio=io_uring" ;;
	null)
		dev="driver=null-co,node-name=disk0,size=1073741824" ;;
	esac
	taskset -c "$QSD_CPU" "$QSD" --blockdev "$dev" \
		--object "iothread,id=iot0${POLL_NS:+,poll-max-ns=$POLL_NS}" \
		--export "type=vhost-user-blk,id=exp0,node-name=disk0,iothread=iot0,addr.type=unix,addr.path=$SOCK,writable=on,num-queues=2,logical-block-size=512" \
		</dev/null >"$OUT/qsd-$1.log" 2>&1 &
	QPID=$!
	for _ in $(seq 200); do [ -S "$SOCK" ] && return 0; kill -0 $QPID 2>/dev/null || break; sleep 0.05; done
	cat "$OUT/qsd-$1.log" >&2
	echo "qemu-storage-daemon did not start ($1)" >&2
	exit 1
}

# fe_cores / be_cores: cores each side used; "!" marks a polling front-end
# that did not get its core (shared CPU: that row measures the machine).
printf '%-5s %-10s %4s %2s %-5s %10s %8s %8s %8s %8s %9s %8s %8s %8s %8s\n' \
	kind rw qd q mode IOPS "MB/s" "mean_us" "p50_us" "p99_us" "p99.9_us" \
	"fe_us/io" "be_us/io" fe_cores be_cores
for kind in $KINDS; do
	start_qsd "$kind"
	for rw in randread randwrite; do
		for q in 1 2; do
			for qd in 1 32 128; do
				for mode in poll event; do
					j=$OUT/$kind-$rw-qd$qd-q$q-$mode.json
					"$BENCH" --socket "$SOCK" --rw "$rw" --bs 4k \
						--iodepth "$qd" --queues "$q" --cpus "$BENCH_CPUS" \
						--runtime "$RUNTIME" --ramp "$RAMP" --quiet --json \
						$([ "$mode" = poll ] && echo --poll) >"$j" ||
						{ echo "run failed: $j" >&2; cat "$j" >&2; continue; }
					python3 - "$j" "$kind" "$rw" "$qd" "$q" "$mode" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
j = d["jobs"][0]
l = j["latency_ns"]["all"]
c = j["cpu"]
print("%-5s %-10s %4s %2s %-5s %10.0f %8.1f %8.1f %8.1f %8.1f %9.1f %8.2f %8s %7.2f%s %8s" % (
    sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6],
    j["iops"], j["mb_s"], l["mean"] / 1e3, l["p50"] / 1e3, l["p99"] / 1e3,
    l["p99.9"] / 1e3, c.get("frontend_ns_per_request", 0) / 1e3,
    "%.2f" % (c["backend_ns_per_request"] / 1e3) if "backend_ns_per_request" in c else "-",
    c["frontend_cores"], "!" if c.get("contended") else " ",
    "%.2f" % c["backend_cores"] if "backend_cores" in c else "-"))
PY
				done
			done
		done
	done
	stop_qsd
done
echo "JSON: $OUT"
