#!/usr/bin/env bash
# tests/tools/bench-fake.sh BENCH FAKE: vhost-user-bench against vh-fake-blk
# (tests/tools/fake_blk.c, a RAM disk on lib/server with fault injection):
# every ring kind verifies clean, and each injected fault — corrupt data,
# misdirected data, a bad status, a wrong used length, a hung or crashed
# back-end — ends the run with exit 1 and a line naming it precisely.
set -u
BENCH=$1
FAKE=$2
. "$(dirname "$0")/lib.sh"

# start_fake NAME ARGS...: a fresh fake back-end on $T/NAME.sock.
start_fake() {
	local sock=$T/$1.sock
	shift
	# Started directly (not under timeout) so that $! is the back-end
	# itself and cleanup can kill it; --lifetime bounds it regardless.
	"$FAKE" --socket "$sock" --lifetime 120 "$@" >"$T/fake-$(basename "$sock").log" 2>&1 &
	PIDS+=($!)
	wait_sock "$sock" $! || { echo "not ok - vh-fake-blk did not listen"; exit 1; }
}

start_fake good --size 16M --queues 2
S=$T/good.sock
expect "verify, split ring, one queue" 0 "verify: 32768 sectors checked, 0 mismatched" \
	"$BENCH" --socket "$S" --verify --iodepth 8 --quiet
expect "verify, packed rings, two queues, 16k blocks" 0 "rings: 2 x packed" \
	"$BENCH" --socket "$S" --verify --packed --queues 2 --iodepth 32 --bs 16k --quiet
expect "verify, packed, indirect tables, busy-polling" 0 "packed, .*indirect tables, poll mode" \
	"$BENCH" --socket "$S" --verify --packed --indirect --poll --iodepth 64 --size 4M --quiet
expect "verify, no EVENT_IDX, one region, SET_MEM_TABLE" 0 "EVENT_IDX off.*1 region \(SET_MEM_TABLE\)" \
	"$BENCH" --socket "$S" --verify --no-event-idx --regions 1 --mem-table set --iodepth 4 --size 2M --quiet
expect "verify with a count covers that many blocks" 0 "verify: 800 sectors checked, 0 mismatched" \
	"$BENCH" --socket "$S" --verify --count 100 --bs 4k --queues 2 --iodepth 3 --quiet
expect "verify write, then read in a second run" 0 "0 mismatched" \
	sh -c "'$BENCH' --socket '$S' --verify-phase write --seed 9 --size 1M --quiet &&
	       '$BENCH' --socket '$S' --verify-phase read --seed 9 --size 1M --bs 512 --quiet"
expect "reading another seed's data fails and says so" 1 "got lba [0-9]+ pass 1 seed 9 \(data of another seed" \
	"$BENCH" --socket "$S" --verify-phase read --seed 10 --size 1M --quiet
expect "a timed randrw run reports JSON" 0 '"result":"ok"' \
	"$BENCH" --socket "$S" --rw randrw --mix 70 --runtime 0.5 --iodepth 16 --queues 2 --json --quiet
if command -v python3 >/dev/null; then
	check "the JSON numbers are consistent" "python3 - '$T/out' <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
j = d['jobs'][0]
l = j['latency_ns']['all']
assert j['requests'] == j['reads'] + j['writes'] > 0
assert 0.4 < j['elapsed_s'] < 0.6
assert abs(j['iops'] - j['requests'] / j['elapsed_s']) < 1
assert 50 < 100.0 * j['reads'] / j['requests'] < 90
assert l['count'] == j['requests']
assert l['min'] <= l['p50'] <= l['p90'] <= l['p99'] <= l['p99.9'] <= l['max']
assert j['cpu']['frontend_s'] > 0 and 'backend_s' in j['cpu']
# Little's law: requests in flight = IOPS x mean latency (32 at all times
# but the first and last few microseconds of the window).
inflight = j['iops'] * l['mean'] / 1e9
assert 28 < inflight <= 32.5, inflight
PY"
fi
expect "--queues beyond the device is refused" 2 "--queues 3: the device has 2" \
	"$BENCH" --socket "$S" --queues 3
expect "a range past the end is refused" 2 "does not fit the device" \
	"$BENCH" --socket "$S" --size 17M
expect "a missing socket is one clear line" 1 "no such socket" \
	"$BENCH" --socket "$T/none.sock"
expect "--bad all: the fake answers as the bench wants" 3 \
	"result: 3 pass, 1 deviation, 0 fail" \
	"$BENCH" --socket "$S" --bad all --timeout 1
check "--bad: past-end, short-chain and ro-buffer pass" \
	"grep -c 'verdict: pass' '$T/out' | grep -qx 3"

# SIGINT: the run stops early and still prints its results.
"$BENCH" --socket "$S" --runtime 30 --iodepth 4 --quiet >"$T/int.out" 2>&1 &
BPID=$!
sleep 1
kill -INT $BPID
wait $BPID
rc=$?
check "SIGINT stops a timed run with results (exit 0)" \
	"[ $rc = 0 ] && grep -q 'in [0-9.]* s (interrupted)' '$T/int.out'"

# The bench as the socket server; the back-end connects.
"$BENCH" --server --socket "$T/srv.sock" --verify --size 1M --quiet >"$T/srv.out" 2>&1 &
BPID=$!
for _ in $(seq 100); do [ -S "$T/srv.sock" ] && break; sleep 0.05; done
"$FAKE" --connect "$T/srv.sock" --size 4M --lifetime 60 >/dev/null 2>&1 &
PIDS+=($!)
wait $BPID
rc=$?
check "--server: the back-end connects, verify passes" \
	"[ $rc = 0 ] && grep -q '0 mismatched' '$T/srv.out'"

start_fake corrupt --size 4M --corrupt-sector 77
expect "a corrupt byte is reported by sector and offset" 1 \
	"sector 77 byte 100: expected lba 77 pass 1 seed 1, got lba 77 .*corrupt" \
	"$BENCH" --socket "$T/corrupt.sock" --verify --iodepth 4 --quiet
start_fake misdir --size 4M --misdirect-sector 9
expect "data of another sector is reported with its origin" 1 \
	"sector 9 byte 8: expected lba 9 pass 1 seed 1, got lba 10" \
	"$BENCH" --socket "$T/misdir.sock" --verify --bs 8k --quiet
start_fake status --size 4M --status-sector 5:1
expect "a bad status stops the run with the request named" 1 \
	"WRITE of 4096 bytes at sector 0: status IOERR \(1\)" \
	"$BENCH" --socket "$T/status.sock" --rw write --count 10 --quiet
start_fake len --size 4M --len-delta -1
expect "a wrong used length stops the run" 1 \
	"used length 4096, expected 4097 \(data \+ status byte\)" \
	"$BENCH" --socket "$T/len.sock" --rw randread --count 10 --quiet
start_fake hang --size 4M --hang-after 20
expect "a back-end that stops completing is detected" 1 \
	"requests in flight, none completed within 1000 ms" \
	"$BENCH" --socket "$T/hang.sock" --rw randread --iodepth 4 --runtime 5 --timeout 1 --quiet
# It holds requests forever, so it cannot stop cleanly: not worth waiting.
kill -KILL "${PIDS[-1]}" 2>/dev/null
start_fake crash --size 4M --exit-after 500
expect "a back-end that dies mid-run: one line, exit 1" 1 \
	"the back-end hung up" \
	"$BENCH" --socket "$T/crash.sock" --rw randread --iodepth 4 --runtime 5 --quiet
finish
