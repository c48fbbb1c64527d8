#!/usr/bin/env bash
# bench/run-rtt.sh - build libvhost for measuring and run the protocol
# round-trip benchmark (docs/PERFORMANCE.md, "Protocol round trip").
#
#   bench/run-rtt.sh [--no-rt] [--syscalls] [vh-bench-rtt options...]
#
# Builds $VH_BENCH_BUILDDIR (default build-bench: release, -O2, no
# sanitizers, no tests), then runs build-bench/bench/vh-bench-rtt with the options
# given (default: 21 rounds x 10000 round trips, CPUs 0 and 1; --diag adds
# the variants that take the difference apart; --json for scripts).
#
# Both processes run SCHED_FIFO (chrt -f 50, inherited through fork) when
# this shell may do so: on a shared 2-CPU machine that keeps other jobs from
# running in the middle of a round trip, which otherwise makes the spread
# several times larger than the effect measured. They still block in the
# kernel exactly as before. --no-rt runs them as ordinary processes.
#
# --syscalls: afterwards count the system calls each side makes per round
# trip, per variant, with strace (a separate run: strace slows everything
# down, so its times mean nothing, but its counts are exact). Each variant
# runs twice, with N and 2N round trips; the difference divided by N is the
# per-round-trip count, free of set-up calls.
set -euo pipefail
cd "$(dirname "$0")/.."

B=${VH_BENCH_BUILDDIR:-build-bench}
SYSCALLS=0
RT=1
ARGS=()
for a in "$@"; do
	case $a in
	--syscalls) SYSCALLS=1 ;;
	--no-rt) RT=0 ;;
	*) ARGS+=("$a") ;;
	esac
done

if [ ! -f "$B/build.ninja" ]; then
	meson setup "$B" --buildtype=release -Doptimization=2 \
		-Db_sanitize=none -Dtests=disabled >/dev/null
fi
ninja -C "$B" bench/vh-bench-rtt >/dev/null
BIN=$B/bench/vh-bench-rtt

PREFIX=()
if [ $RT = 1 ] && command -v chrt >/dev/null && chrt -f 50 true 2>/dev/null; then
	PREFIX=(chrt -f 50)
fi
echo "# ${PREFIX[*]} $BIN ${ARGS[*]}" >&2
"${PREFIX[@]}" "$BIN" "${ARGS[@]}"

[ $SYSCALLS = 1 ] || exit 0
command -v strace >/dev/null || {
	echo "run-rtt.sh: --syscalls needs strace" >&2
	exit 1
}
N=2000
TMP=$(mktemp -d /tmp/vh-rtt-strace.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
VARIANTS=$("$BIN" --list | awk '{print $1}')
echo
echo "system calls per round trip (strace -f; requester = front-end side," \
	"responder = back-end side)"
for v in $VARIANTS; do
	for n in $N $((2 * N)); do
		strace -f -qq -o "$TMP/$v.$n" "$BIN" --only "$v" --rounds 1 \
			--iters "$n" --warmup 1 >/dev/null 2>&1
	done
	python3 - "$TMP/$v.$N" "$TMP/$v.$((2 * N))" "$N" "$v" <<'EOF'
import collections, re, sys

def count(path):
    """Calls per syscall name, split into requester (the first pid seen,
    the parent) and responder (every other pid)."""
    sides = {"requester": collections.Counter(), "responder": collections.Counter()}
    first = None
    for line in open(path):
        m = re.match(r"(\d+)\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]", line)
        if not m or "resumed>" in line and "<..." not in line:
            continue
        if "<... " in line:  # the second half of an interrupted call
            continue
        pid, name = m.groups()
        first = first or pid
        sides["requester" if pid == first else "responder"][name] += 1
    return sides

a, b = count(sys.argv[1]), count(sys.argv[2])
n, name = int(sys.argv[3]), sys.argv[4]
parts, total = [], 0.0
for side in ("requester", "responder"):
    per = {k: (b[side][k] - a[side][k]) / n for k in b[side]}
    per = {k: v for k, v in per.items() if v >= 0.05}
    s = sum(per.values())
    total += s
    parts.append(f"{side} {s:.2f} (" +
                 ", ".join(f"{k} {v:.2f}" for k, v in sorted(per.items())) + ")")
print(f"  {name:20s} {total:5.2f}  " + "; ".join(parts))
EOF
done
