# Shared by the tests/tools scripts: TAP-like lines, expectations on a
# command's exit code and output, process cleanup by PID.
T=$(mktemp -d /tmp/vh-bench-test.XXXXXX)
PIDS=()
NTEST=0
NFAIL=0

cleanup() {
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_sock PATH PID: until PATH is a socket (10 s), or the process died.
wait_sock() {
	for _ in $(seq 200); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# expect DESC RC PATTERN CMD...: CMD exits RC and its stdout+stderr match
# the extended regular expression PATTERN ("" matches anything).
expect() {
	local desc=$1 want=$2 pat=$3 rc t0 ms
	shift 3
	NTEST=$((NTEST + 1))
	t0=$(date +%s%N)
	timeout 60 "$@" >"$T/out" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$rc" = "$want" ] && { [ -z "$pat" ] || grep -Eq -- "$pat" "$T/out"; }; then
		echo "ok $NTEST - $desc ($ms ms)"
	else
		NFAIL=$((NFAIL + 1))
		echo "not ok $NTEST - $desc (exit $rc, wanted $want; pattern '$pat')"
		sed 's/^/#   /' "$T/out" | tail -n 25
	fi
}

# check DESC COMMAND-STRING: a shell condition.
check() {
	NTEST=$((NTEST + 1))
	if eval "$2"; then
		echo "ok $NTEST - $1"
	else
		NFAIL=$((NFAIL + 1))
		echo "not ok $NTEST - $1"
	fi
}

finish() {
	echo "1..$NTEST"
	[ "$NFAIL" = 0 ] && exit 0
	echo "# $NFAIL of $NTEST failed"
	exit 1
}
