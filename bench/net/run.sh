#!/usr/bin/env bash
# bench/net/run.sh - vhost-user-net against DPDK's own vhost back-end, with
# DPDK testpmd's net_virtio_user (a third-party front-end) driving both.
#
#   bench/net/run.sh [BUILD_DIR]             (default: build)
#   env: REPS=5 (runs per configuration), SECS=6 (seconds per run),
#        SIZE=64 (frame bytes), DIRS="tx rx", NET=path/to/vhost-user-net,
#        QSIZE=1024 (virtio_user ring size), KEEP=1 (keep the logs)
#
# Direction "tx" (front-end TX -> back-end, the vhost dequeue):
#   testpmd net_virtio_user txonly, SIZE-byte frames, one queue pair, into
#     (a) ours:  vhost-user-net --sink --poll --cpu 1 (reads every frame)
#     (b) DPDK:  testpmd net_vhost --forward-mode=rxonly
# Direction "rx" (back-end -> front-end RX, the vhost enqueue):
#   testpmd net_virtio_user rxonly, fed by
#     (a) ours:  vhost-user-net --gen SIZE --poll --cpu 1
#     (b) DPDK:  testpmd net_vhost --forward-mode=txonly --txpkts=SIZE
#
# Placement (2 CPUs): the virtio_user forwarding lcore on CPU 0 (its main
# lcore on CPU 1); the back-end's data path on CPU 1 (our worker, or
# net_vhost's forwarding lcore; its main lcore on CPU 0). Runs alternate
# ours/DPDK (ABBA order per repetition) so drifting load hits both.
#
# The rate of a run is the median of testpmd virtio_user's per-second
# samples (Tx-pps for "tx", Rx-pps for "rx"), the first and last second
# dropped: the same meter for both back-ends. Our own counters are printed
# as a cross-check. The summary gives the ratio of the medians and the
# median of the per-repetition ratios ("paired"). Use a release build (meson setup --buildtype=release).
set -u
BUILD=${1:-build}
NET=${NET:-$BUILD/devices/net/vhost-user-net}
REPS=${REPS:-5}
SECS=${SECS:-6}
SIZE=${SIZE:-64}
DIRS=${DIRS:-tx rx}
QSIZE=${QSIZE:-1024}

[ -x "$NET" ] || { echo "FAIL: $NET not built"; exit 1; }
command -v dpdk-testpmd >/dev/null ||
	{ echo "FAIL: dpdk-testpmd missing (Debian package dpdk-dev)"; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "FAIL: needs 2 CPUs"; exit 1; }

T=$(mktemp -d /tmp/vh-bench-net.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf /var/run/dpdk/vhbn$$* 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RES=$T/results # lines: "<dir> <who> <pps>"

eal() { # $1 file prefix, $2 lcore args
	echo "--no-huge -m 512 --no-pci --no-shconf --file-prefix=$1 --log-level=lib.eal:notice $2"
}
PMD="--total-num-mbufs=16384 --stats-period 1"
FE_LC="-l 0,1 --main-lcore 1" # virtio_user forwarding lcore on CPU 0
BE_LC="-l 0,1"                # net_vhost forwarding lcore on CPU 1

wait_sock() { local i; for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done; return 1; }
stop_int() { # SIGINT (testpmd prints totals), bounded
	local i
	kill -INT "$1" 2>/dev/null
	for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# median of the per-second samples of LOG's "$2-pps:" above 0; the first
# (traffic starts within it) and the last (it may end within it) are dropped
# when there are enough
rate() {
	tr -d '\033' <"$1" | grep -a "$2-pps:" | awk '$2>0 {print $2}' |
		awk '{a[NR]=$1} END{f=(NR>=3)?2:1; l=(NR>=4)?NR-1:NR; for(i=f;i<=l;i++) print a[i]}' |
		sort -n | awk '{a[NR]=$1} END{if(NR==0){print 0; exit} print a[int((NR+1)/2)]}'
}
acc() { tr -d '\033' <"$1" | grep -a -A2 'Accumulated forward statistics' | grep -a "$2-packets" | awk '{print $2}' | tail -1; }

# frontend DIR SOCK LOG: the virtio_user testpmd, SECS seconds of traffic
frontend() {
	local fwd=txonly
	[ "$1" = rx ] && fwd=rxonly
	timeout $((SECS + 30)) dpdk-testpmd $(eal vhbn$$f "$FE_LC") \
		--vdev "net_virtio_user0,path=$2,queues=1,queue_size=$QSIZE" -- $PMD \
		--forward-mode=$fwd --txpkts=$SIZE </dev/null >"$3" 2>&1 &
	FP=$!
	PIDS+=($FP)
	sleep $((SECS + 3)) # ~2-3 s to start forwarding
	stop_int $FP
	rm -rf /var/run/dpdk/vhbn$$f* 2>/dev/null
}

run_ours() { # $1 = dir
	local sock=$T/ours.sock log=$T/ours-$1.log fe=$T/fe-ours-$1.log r mode
	mode=(--sink)
	[ "$1" = rx ] && mode=(--gen "$SIZE")
	rm -f "$sock"
	"$NET" --socket-path "$sock" "${mode[@]}" --poll --cpu 1 >"$log" 2>&1 &
	local np=$!
	PIDS+=($np)
	wait_sock "$sock" || { echo "  ours $1: no socket"; cat "$log"; return; }
	frontend "$1" "$sock" "$fe"
	kill -TERM $np
	wait $np 2>/dev/null
	if [ "$1" = tx ]; then r=$(rate "$fe" Tx); else r=$(rate "$fe" Rx); fi
	printf '  %-3s ours %6.2f Mpps   (testpmd %s=%s; ours: %s)\n' "$1" \
		"$(echo "$r / 1000000" | bc -l)" \
		"$([ "$1" = tx ] && echo TX || echo RX)" \
		"$(acc "$fe" "$([ "$1" = tx ] && echo TX || echo RX)")" \
		"$(grep -o '[tr]x_frames=[0-9]*' "$log" | tr '\n' ' ')"
	echo "$1 ours $r" >>"$RES"
}

run_dpdk() { # $1 = dir
	local sock=$T/dpdk.sock log=$T/dpdk-$1.log fe=$T/fe-dpdk-$1.log r fwd=rxonly
	[ "$1" = rx ] && fwd=txonly
	rm -f "$sock"
	timeout $((SECS + 40)) dpdk-testpmd $(eal vhbn$$b "$BE_LC") \
		--vdev "net_vhost0,iface=$sock,client=0,queues=1" -- $PMD \
		--forward-mode=$fwd --txpkts=$SIZE </dev/null >"$log" 2>&1 &
	local bp=$!
	PIDS+=($bp)
	wait_sock "$sock" || { echo "  dpdk $1: no socket"; tail "$log"; return; }
	frontend "$1" "$sock" "$fe"
	stop_int $bp
	rm -rf /var/run/dpdk/vhbn$$b* 2>/dev/null
	if [ "$1" = tx ]; then r=$(rate "$fe" Tx); else r=$(rate "$fe" Rx); fi
	printf '  %-3s dpdk %6.2f Mpps   (testpmd %s=%s; net_vhost RX=%s TX=%s)\n' "$1" \
		"$(echo "$r / 1000000" | bc -l)" \
		"$([ "$1" = tx ] && echo TX || echo RX)" \
		"$(acc "$fe" "$([ "$1" = tx ] && echo TX || echo RX)")" \
		"$(acc "$log" RX)" "$(acc "$log" TX)"
	echo "$1 dpdk $r" >>"$RES"
}

echo "vhost-user-net benchmark: $SIZE-byte frames, $REPS runs x $SECS s per configuration, ring $QSIZE"
echo "  ours: $NET ($("$NET" --version))"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
for i in $(seq "$REPS"); do
	for d in $DIRS; do
		if [ $((i % 2)) = 1 ]; then run_ours "$d"; run_dpdk "$d"
		else run_dpdk "$d"; run_ours "$d"; fi
	done
done
echo "  load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

summary() { # $1 dir $2 who -> "median min max" in Mpps
	awk -v d="$1" -v w="$2" '$1==d && $2==w {print $3/1e6}' "$RES" | sort -n |
		awk '{a[NR]=$1} END{if(NR==0){print "0 0 0"; exit} print a[int((NR+1)/2)], a[1], a[NR]}'
}
# The median of the per-repetition ratios: the two runs of a repetition
# are adjacent (ABBA), so a slow phase of the machine that spans both
# cancels out, where the ratio of medians depends on which side it hit.
paired() { # $1 dir -> median of ours_i / dpdk_i
	awk -v d="$1" '$1==d && $2=="ours" {o[++no]=$3} $1==d && $2=="dpdk" {p[++np]=$3}
		END{n=(no<np)?no:np; for(i=1;i<=n;i++) if(p[i]>0) print o[i]/p[i]}' "$RES" |
		sort -n | awk '{a[NR]=$1} END{if(NR==0){print 0; exit} print a[int((NR+1)/2)]}'
}
echo
printf '%-4s %-22s %-22s %-10s %s\n' dir "ours Mpps (min..max)" "DPDK Mpps (min..max)" "ours/DPDK" "paired"
for d in $DIRS; do
	read -r om omin omax < <(summary "$d" ours)
	read -r dm dmin dmax < <(summary "$d" dpdk)
	ratio=$(echo "if ($dm > 0) $om / $dm else 0" | bc -l)
	printf '%-4s %5.2f (%5.2f..%5.2f)    %5.2f (%5.2f..%5.2f)    %.2fx      %.2fx\n' \
		"$d" "$om" "$omin" "$omax" "$dm" "$dmin" "$dmax" "$ratio" "$(paired "$d")"
done
