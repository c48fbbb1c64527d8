#!/usr/bin/env bash
# bench/engine/run.sh — requests/s through our back-end engine
# (vh-bench-engine: vh_server + null device <- our driver queue) and, in the
# same run, alternating with it, the DPDK pair: dpdk-testpmd net_vhost
# (rxonly, the vhost dequeue) <- net_virtio_user (txonly), 64-byte packets.
#
#   bench/engine/run.sh [BUILD_DIR]        (default: build)
#   env: REPS=5 (runs per configuration), SECS=4 (seconds per run),
#        DPDK=0 to skip the DPDK runs, ENGINE=path/to/vh-bench-engine
#
# Placement (2 cores): our driver thread on CPU 0, the server worker on
# CPU 1; DPDK's virtio_user forwarding lcore on CPU 0, net_vhost's on CPU 1
# (each process's main lcore on the other CPU, as /work/shared/interop/
# dpdk-pair.sh does). Use a release build (meson --buildtype=release).
# Prints every run, then medians with min..max spreads and ratios.
set -u
BUILD=${1:-build}
ENGINE=${ENGINE:-$BUILD/bench/engine/vh-bench-engine}
REPS=${REPS:-5}
SECS=${SECS:-4}
DPDK=${DPDK:-1}

[ -x "$ENGINE" ] || { echo "FAIL: $ENGINE not built"; exit 1; }
if [ "$DPDK" = 1 ] && ! command -v dpdk-testpmd >/dev/null; then
	echo "dpdk-testpmd missing (Debian package dpdk-dev): DPDK runs skipped"
	DPDK=0
fi

T=$(mktemp -d /tmp/vh-engine.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf /var/run/dpdk/vhe$$* 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
RES=$T/results # lines: "<config> <rate>"

ours() { # $1 = label, rest = engine args
	local label=$1 out rate
	shift
	out=$(timeout $((SECS + 20)) "$ENGINE" --seconds "$SECS" "$@") || {
		echo "  $label: FAILED"
		return
	}
	rate=${out##*: }
	rate=${rate%% *}
	echo "  $out"
	echo "$label $rate" >>"$RES"
}

eal() { # $1 prefix, $2 lcore args
	echo "--no-huge -m 512 --no-pci --no-shconf --file-prefix=$1 --log-level=lib.eal:notice $2"
}
PMD="--total-num-mbufs=16384 --stats-period 1"

dpdk() { # $1 = label, $2 = extra virtio_user args
	local label=$1 extra=$2 sock=$T/dpdk.sock be=$T/be.log fe=$T/fe.log
	local bp fp i rate
	rm -f "$sock"
	timeout $((SECS + 30)) dpdk-testpmd $(eal vhe$$b "-l 0,1") \
		--vdev "net_vhost0,iface=$sock,client=0,queues=1" -- $PMD \
		--forward-mode=rxonly </dev/null >"$be" 2>&1 &
	bp=$!
	PIDS+=($bp)
	for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
	timeout $((SECS + 30)) dpdk-testpmd $(eal vhe$$f "-l 0,1 --main-lcore 1") \
		--vdev "net_virtio_user0,path=$sock,queues=1,queue_size=1024$extra" \
		-- $PMD --forward-mode=txonly </dev/null >"$fe" 2>&1 &
	fp=$!
	PIDS+=($fp)
	# DPDK takes ~2 s to connect and start forwarding.
	sleep $((SECS + 3))
	kill -INT $fp 2>/dev/null
	wait $fp 2>/dev/null
	kill -INT $bp 2>/dev/null
	wait $bp 2>/dev/null
	rm -rf /var/run/dpdk/vhe$$* 2>/dev/null
	# Median of the back-end's per-second Rx-pps samples, without the
	# first and last (partial) seconds.
	rate=$(tr -d '\033' <"$be" | grep -a 'Rx-pps:' | awk '{print $2}' |
		awk '$1>0' | python3 -c '
import sys
v = [int(x) for x in sys.stdin.read().split()]
v = v[1:-1] if len(v) > 3 else v
v.sort()
print(v[len(v) // 2] if v else 0)')
	echo "  dpdk $label: net_vhost rxonly Rx-pps median $rate"
	[ "${rate:-0}" -gt 0 ] && echo "$label $rate" >>"$RES"
}

echo "engine: $ENGINE; $REPS runs x $SECS s per configuration, alternating"
echo "+ $ENGINE --seconds $SECS [--packed] --chain 1|3 --mode poll|event"
[ "$DPDK" = 1 ] && echo "+ dpdk-testpmd $(eal vhe-b "-l 0,1") --vdev net_vhost0,iface=SOCK,client=0,queues=1 -- $PMD --forward-mode=rxonly" &&
	echo "+ dpdk-testpmd $(eal vhe-f "-l 0,1 --main-lcore 1") --vdev net_virtio_user0,path=SOCK,queues=1,queue_size=1024[,packed_vq=1] -- $PMD --forward-mode=txonly"
for rep in $(seq "$REPS"); do
	echo "run $rep/$REPS"
	for layout in split packed; do
		P=""
		[ $layout = packed ] && P=--packed
		for chain in 1 3; do
			for mode in poll event; do
				ours "ours-$layout-c$chain-$mode" $P --chain $chain --mode $mode
			done
		done
		ours "ours-$layout-c1-poll-copy" $P --chain 1 --mode poll --copy
		if [ "$DPDK" = 1 ]; then
			if [ $layout = packed ]; then
				dpdk "dpdk-packed" ",packed_vq=1"
			else
				dpdk "dpdk-split" ""
			fi
		fi
	done
done

echo
echo "summary (req/s or packets/s; median, min..max over $REPS runs):"
python3 - "$RES" <<'EOF'
import sys, collections
runs = collections.OrderedDict()
for line in open(sys.argv[1]):
    k, v = line.split()
    runs.setdefault(k, []).append(float(v))
med = {}
for k, v in runs.items():
    s = sorted(v)
    med[k] = s[len(s) // 2]
    print(f"  {k:28s} {med[k] / 1e6:7.2f} M  ({s[0] / 1e6:.2f}..{s[-1] / 1e6:.2f})")
print("ratios ours/DPDK (same layout, median):")
for k in med:
    if not k.startswith("ours-"):
        continue
    layout = k.split("-")[1]
    d = med.get("dpdk-" + layout)
    if d:
        print(f"  {k:28s} {med[k] / d:5.2f}x  (goal >= 0.5x)")
EOF
