#!/usr/bin/env bash
# scripts/test.sh - install what is missing, build, and run every libvhost test.
#
#   scripts/test.sh [--quick] [--no-asan]
#
#   1. scripts/deps.sh (Debian packages; as root or through sudo)
#   2. build `build` (gcc, debugoptimized) and run its meson tests
#   3. build `build-asan` (gcc, ASan+UBSan) and run its meson tests, leaks
#      included                                         (not with --no-asan)
#   4. clang-format --dry-run --Werror on every C file  (one test)
#   5. build `build-fuzz` (clang, libFuzzer, ASan+UBSan), run each fuzz-*
#      target for FUZZ_SECONDS on a copy of its corpus, then the meson tests
#      of that build (clang-built unit tests, corpus replays) (not with --quick)
#   6. tests/interop/run.sh: our code against qemu-storage-daemon, DPDK
#      testpmd and our example back-end                 (not with --quick)
#
# Every build, meson test, fuzz target and interop check counts as one test.
# Prints a summary table, then the closing line `N passed, N failed, N skipped`;
# exits 1 when anything failed.
# Env: FUZZ_SECONDS (default 20); VH_BUILDDIR (default build: the builds are
# $VH_BUILDDIR, $VH_BUILDDIR-asan and $VH_BUILDDIR-fuzz, logs go to
# $VH_BUILDDIR-testlogs).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

QUICK=0
ASAN=1
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--no-asan) ASAN=0 ;;
	-h | --help)
		sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "test.sh: unknown option $1 (try --help)" >&2
		exit 2
		;;
	esac
	shift
done

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
B=${VH_BUILDDIR:-build}
B_ASAN=$B-asan
B_FUZZ=$B-fuzz
case $B in /*) LOGS=$B-testlogs ;; *) LOGS=$ROOT/$B-testlogs ;; esac
rm -rf "$LOGS"
mkdir -p "$LOGS"

SAN_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)

# ---- results -------------------------------------------------------------
R_STAT=() R_NAME=() R_TIME=() R_INFO=()
npass=0 nfail=0 nskip=0
# result PASS|FAIL|SKIP NAME SECONDS [INFO]
result() {
	R_STAT+=("$1") R_NAME+=("$2") R_TIME+=("$3") R_INFO+=("${4:-}")
	case $1 in
	PASS) npass=$((npass + 1)) ;;
	FAIL) nfail=$((nfail + 1)) ;;
	SKIP) nskip=$((nskip + 1)) ;;
	esac
	printf '%-4s %s%s\n' "$1" "$2" "${4:+ ($4)}"
}
step() { printf '\n== %s\n' "$*"; }
# show_tail FILE: the end of a log, indented, for a failure.
show_tail() { tail -n "${2:-25}" "$1" | sed 's/^/    | /'; }

summary() {
	step "summary"
	local i
	printf '%-4s  %-44s %7s  %s\n' "" "test" "time" "detail"
	for i in "${!R_NAME[@]}"; do
		printf '%-4s  %-44s %7s  %s\n' "${R_STAT[$i]}" "${R_NAME[$i]}" \
			"${R_TIME[$i]}" "${R_INFO[$i]:0:90}"
	done
	echo "logs: ${LOGS#"$ROOT"/}/"
	echo
	echo "$npass passed, $nfail failed, $nskip skipped"
}

# ---- steps ---------------------------------------------------------------
# configure DIR LOG [meson options...]: set up or reconfigure a build dir;
# the compiler comes from CC in the environment.
configure() {
	local dir=$1 log=$2
	shift 2
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >>"$log" 2>&1 && return 0
		echo "reconfigure failed, wiping $dir" >>"$log"
		meson setup --wipe "$dir" "$@" >>"$log" 2>&1
	else
		rm -rf "$dir"
		meson setup "$dir" "$@" >>"$log" 2>&1
	fi
}

# build NAME DIR CC [meson options...]: configure and compile; one test.
build() {
	local name=$1 dir=$2 cc=$3 log=$LOGS/${1//\//-}.log t0=$SECONDS
	shift 3
	if CC=$cc configure "$dir" "$log" "$@" && meson compile -C "$dir" >>"$log" 2>&1; then
		result PASS "$name" $((SECONDS - t0)) "$dir"
		return 0
	fi
	result FAIL "$name" $((SECONDS - t0)) "see ${log#"$ROOT"/}"
	grep -E -m 12 'error:|ERROR:|undefined reference|^FAILED:' "$log" | sed 's/^/    | /'
	return 1
}

# meson_tests LABEL DIR [ENV...]: run the meson tests of DIR; each test is
# one result, read from meson's testlog.json.
meson_tests() {
	local label=$1 dir=$2 log=$LOGS/$1-meson-test.log t0=$SECONDS rc
	shift 2
	rm -f "$dir/meson-logs/testlog.json"
	# --no-stdsplit: one log with stdout and stderr in the order written.
	env "$@" meson test -C "$dir" --no-rebuild --print-errorlogs --no-stdsplit \
		--timeout-multiplier 3 >"$log" 2>&1
	rc=$?
	local parsed=$LOGS/$label-results.tsv
	python3 - "$dir/meson-logs/testlog.json" "$LOGS/$label-failed" >"$parsed" <<'EOF'
import json, os, re, sys
path, faildir = sys.argv[1], sys.argv[2]
if not os.path.exists(path):
    sys.exit(0)
for line in open(path, encoding="utf-8", errors="replace"):
    line = line.strip()
    if not line:
        continue
    t = json.loads(line)
    res = t.get("result", "ERROR")
    stat = {"OK": "PASS", "EXPECTEDFAIL": "PASS", "SKIP": "SKIP"}.get(res, "FAIL")
    # meson 1.0 names a test "project:suite / name".
    full = t.get("name", "?")
    suite, sep, name = full.partition(" / ")
    name = suite.split(":")[-1] + "/" + name if sep else full
    info = "" if stat == "PASS" else res.lower()
    # cmocka's own count of test cases, for the detail column.
    m = re.search(r"\[  PASSED  \] (\d+) test",
                  (t.get("stdout") or "") + (t.get("stderr") or ""))
    if m and stat == "PASS":
        info = m.group(1) + " cases"
    out = ""
    if stat == "FAIL":
        os.makedirs(faildir, exist_ok=True)
        out = os.path.join(faildir, name.replace("/", "_") + ".log")
        with open(out, "w") as f:
            f.write((t.get("stdout") or "") + (t.get("stderr") or ""))
        info += ", log " + os.path.relpath(out)
    # \x1f: a separator `read` does not merge the way it merges tabs.
    print("\x1f".join([stat, name, str(round(t.get("duration", 0))), info, out]))
EOF
	local n=0 stat name secs info out
	while IFS=$'\x1f' read -r stat name secs info out; do
		n=$((n + 1))
		result "$stat" "$label/$name" "$secs" "$info"
		[ -n "$out" ] && [ -f "$out" ] && show_tail "$out" 30
	done <"$parsed"
	if [ $n -eq 0 ]; then
		result FAIL "$label/meson-test" $((SECONDS - t0)) \
			"no unit test ran (meson test exit $rc)"
		show_tail "$log" 10
	elif [ $rc -ne 0 ] && ! grep -q '^FAIL' "$parsed"; then
		result FAIL "$label/meson-test" $((SECONDS - t0)) "meson test exit $rc"
		show_tail "$log" 10
	fi
}

format_check() {
	local t0=$SECONDS log=$LOGS/format.log dirs=() d files
	for d in lib include tools examples devices tests fuzz bench; do
		[ -d "$d" ] && dirs+=("$d")
	done
	mapfile -t files < <(find "${dirs[@]}" -path fuzz/corpus -prune -o \
		-type f \( -name '*.c' -o -name '*.h' \) -print | sort)
	if [ ${#files[@]} -eq 0 ]; then
		result SKIP format 0 "no C files yet"
		return
	fi
	if clang-format --dry-run --Werror "${files[@]}" >"$log" 2>&1; then
		result PASS format $((SECONDS - t0)) "${#files[@]} files"
	else
		local bad
		bad=$(grep -oE '^[^:]+\.[ch]:[0-9]+' "$log" | cut -d: -f1 | sort -u)
		result FAIL format $((SECONDS - t0)) \
			"$(echo "$bad" | grep -c .) file(s) need clang-format -i"
		echo "$bad" | sed 's/^/    | /'
	fi
}

fuzz_targets() {
	local t0=$SECONDS bins=() bin name src work log stats sub d
	if [ "$FUZZ_SECONDS" -le 0 ] 2>/dev/null; then
		result SKIP fuzz 0 "FUZZ_SECONDS=$FUZZ_SECONDS"
		return
	fi
	# The executables named fuzz-* under fuzz/ that meson declares now (a stale binary
	# left in the build dir by an older tree does not count), wherever
	# they sit under fuzz/.
	mapfile -t bins < <(meson introspect "$B_FUZZ" --targets | python3 -c '
import json, os, sys
top = os.path.join(os.path.abspath(sys.argv[1]), "fuzz") + os.sep
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["name"].startswith("fuzz-"):
        for f in t["filename"]:
            if f.startswith(top):
                print(f)' "$B_FUZZ" | sort)
	if [ ${#bins[@]} -eq 0 ]; then
		result SKIP fuzz 0 "no fuzz-* target is built yet: fuzz/meson.build declares none"
		return
	fi
	mkdir -p "$LOGS/fuzz-artifacts"
	for bin in "${bins[@]}"; do
		name=${bin##*/}
		case $bin in /*) ;; *) bin=$ROOT/$bin ;; esac
		t0=$SECONDS
		log=$LOGS/$name.log
		src=""
		sub=${bin%/*}
		sub=${sub#*"$B_FUZZ"/fuzz}
		for d in "fuzz/corpus/$name" "fuzz/corpus/${name#fuzz-}" \
			"fuzz$sub/corpus/$name" "fuzz$sub/corpus/${name#fuzz-}"; do
			[ -d "$d" ] && { src=$d; break; }
		done
		# Work on a copy: libFuzzer adds new inputs to its first corpus dir.
		work=$(mktemp -d "/tmp/vh-$name.XXXXXX")
		mkdir -p "$work/corpus"
		[ -n "$src" ] && cp -r "$src/." "$work/corpus/"
		(cd "$work" && env ASAN_OPTIONS=detect_leaks=1 \
			UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			timeout $((FUZZ_SECONDS + 120)) "$bin" \
			-max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$LOGS/fuzz-artifacts/$name-" \
			corpus) >"$log" 2>&1
		local rc=$?
		rm -rf "$work"
		stats=$(grep -m1 'number_of_executed_units' "$log" | awk '{print $2}')
		if [ $rc -ne 0 ]; then
			local art
			art=$(grep -a -m1 -o 'Test unit written to .*' "$log" | sed 's/.* to //')
			result FAIL "fuzz/$name" $((SECONDS - t0)) \
				"exit $rc; input ${art:-not saved}; log ${log#"$ROOT"/}"
			{
				grep -a -E -m1 -A 12 '==ERROR|runtime error:|ERROR: libFuzzer|deadly signal' "$log"
				grep -a -E -m1 '^SUMMARY' "$log"
			} | head -n 16 | sed 's/^/    | /'
		elif [ -z "$src" ]; then
			result FAIL "fuzz/$name" $((SECONDS - t0)) \
				"no corpus: add fuzz/corpus/$name/"
		else
			result PASS "fuzz/$name" $((SECONDS - t0)) "${stats:-?} runs"
		fi
	done
}

# Runs a checker script that prints PASS/FAIL/SKIP lines; each line is a test.
# $1 label, $2 log name, then the command.
checks() {
	local label=$1 logname=$2 t0=$SECONDS log rc stat name info n=0 nf=0
	shift 2
	log=$LOGS/$logname.log
	"$@" >"$log" 2>&1
	rc=$?
	# Show the details of failures (run.sh indents them under the FAIL line).
	while IFS= read -r line; do
		if [[ $line =~ ^(PASS|FAIL|SKIP):\ ([^ ]+)(\ \((.*)\))?$ ]]; then
			stat=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]} info=${BASH_REMATCH[4]}
			n=$((n + 1))
			[ "$stat" = FAIL ] && nf=$((nf + 1))
			result "$stat" "$label/$name" - "$info"
		elif [[ $line == "    "* ]]; then
			echo "    |${line:3}"
		fi
	done <"$log"
	if [ $n -eq 0 ] || { [ $rc -ne 0 ] && [ $nf -eq 0 ]; }; then
		result FAIL "$label" $((SECONDS - t0)) "$* exit $rc"
		show_tail "$log" 15
	fi
}

interop() {
	checks interop interop env "${SAN_ENV[@]}" bash tests/interop/run.sh --builddir "$1"
}

# ---- main ----------------------------------------------------------------
T_START=$SECONDS
ASAN_OK=0
step "dependencies (scripts/deps.sh)"
if ! bash scripts/deps.sh; then
	result FAIL deps 0 "scripts/deps.sh failed"
	summary
	exit 1
fi

step "build and unit tests: gcc, debugoptimized ($B)"
build build/gcc "$B" gcc --buildtype=debugoptimized &&
	meson_tests gcc "$B"

if [ $ASAN = 1 ]; then
	step "build and unit tests: gcc, ASan+UBSan ($B_ASAN)"
	build build/asan "$B_ASAN" gcc --buildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false &&
		ASAN_OK=1 && meson_tests asan "$B_ASAN" "${SAN_ENV[@]}"
fi

step "formatting (clang-format --dry-run --Werror)"
format_check

if [ $QUICK = 0 ]; then
	step "fuzzing: clang, libFuzzer, ASan+UBSan, ${FUZZ_SECONDS}s per target ($B_FUZZ)"
	if build build/fuzz "$B_FUZZ" clang --buildtype=debugoptimized -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false; then
		fuzz_targets
		# The same build holds every unit test compiled by clang under
		# ASan+UBSan (clang's UBSan checks more), and the corpus replays.
		step "unit tests: clang, ASan+UBSan ($B_FUZZ)"
		meson_tests clang "$B_FUZZ" "${SAN_ENV[@]}"
	fi

	# Interop runs on the sanitizer build when there is one: real peers'
	# replies then go through ASan+UBSan too.
	IB=$B
	[ $ASAN_OK = 1 ] && IB=$B_ASAN
	step "interop: real peers (tests/interop/run.sh --builddir $IB)"
	interop "$IB"

	# One TCG guest boot runs kernel vhost-net, -vsock, -scsi, -vdpa and the
	# bad-use checks through the real drivers (docs/kernel.md).
	step "kernel vhost in a guest (tests/guest/run.sh)"
	checks guest guest bash tests/guest/run.sh

	# vhost-user-blk against real peers: vhost-user-bench --verify and --bad
	# against ours and qemu-storage-daemon; a QEMU TCG guest driving ours
	# (1 and 2 queues, packed, SIGKILL + reconnect mid-I/O).
	step "vhost-user-blk: bench against ours and qemu-storage-daemon"
	checks blk-bench blk-bench env "${SAN_ENV[@]}" bash tests/blk/bench-verify.sh --builddir "$IB"
	step "vhost-user-blk: QEMU guest (tests/blk/qemu-guest.sh)"
	checks blk-guest blk-guest bash tests/blk/qemu-guest.sh --builddir "$B"
fi

echo
echo "total time: $((SECONDS - T_START)) s"
summary
[ $nfail -eq 0 ]
