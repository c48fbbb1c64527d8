#!/usr/bin/env bash
# tests/guest/run.sh - libvhost's kernel layer (include/vhost/kern.h) against
# the real in-kernel vhost drivers, in one throwaway QEMU (TCG) guest.
#
#   tests/guest/run.sh [TEST...]
#
# TESTS (default all): net net-vhost-hdr vsock scsi bad vdpa — see
# tests/guest/vht_*.c. The guest runs Debian's own kernel (the current
# linux-image-amd64 ABI, fetched with `apt-get download`, unpacked with
# dpkg-deb, never installed) with a busybox initramfs that holds:
#   - the vhost, tun/tap, vsock and LIO modules of that package;
#   - vringh/vdpa/vdpa_sim/vdpa_sim_net/vhost_vdpa built out of tree from
#     linux-source (tests/guest/vdpa-modules.sh): Debian has CONFIG_VDPA
#     unset; if that build fails, vdpa is a SKIP with the reason;
#   - vht, a static binary of lib/ (util proto transport mem virtq kern) and
#     tests/guest/*.c built here with gcc -static.
# The kernel, busybox, initramfs and QEMU steps are tests/guest/kernel.sh.
# Everything fetched or built is cached in $VH_GUEST_CACHE (default
# /var/cache/libvhost-guest, else ~/.cache/libvhost-guest), keyed by kernel
# version and by a hash of the sources, so a warm run only boots.
#
# Output: one line per test, `PASS: kern-<test> (detail)`, `FAIL: ...` or
# `SKIP: ...`, failure details indented below; then
# `guest: N passed, N failed, N skipped`. Exit 1 when anything failed.
# Env: VH_GUEST_CACHE, VH_GUEST_TIMEOUT (whole guest, default 240 s),
# VERBOSE=1 (print the guest console), KEEP=1 (keep the work folder).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ALL=(net net-vhost-hdr vsock scsi bad vdpa)
TESTS=("$@")
[ ${#TESTS[@]} -eq 0 ] && TESTS=("${ALL[@]}")
for t in "${TESTS[@]}"; do
	case " ${ALL[*]} " in *" $t "*) ;; *)
		echo "run.sh: unknown test $t (${ALL[*]})" >&2
		exit 2
		;;
	esac
done
TIMEOUT=${VH_GUEST_TIMEOUT:-240}
# Kernel, busybox, initramfs and QEMU helpers, shared with other guest tests.
. "$HERE/kernel.sh"

# Scratch space in memory when there is some: unpacking and removing the
# 400 MB kernel package is much faster there.
T=$(mktemp -d /dev/shm/vh-guest.XXXXXX 2>/dev/null || mktemp -d /tmp/vh-guest.XXXXXX)
QP=""
cleanup() {
	[ -n "$QP" ] && kill -KILL "$QP" 2>/dev/null && wait "$QP" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "run.sh: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now_ms() { echo $(($(date +%s%N) / 1000000)); }
T_START=$(now_ms)
say() { echo "guest: $*"; }
# Every test fails with the same reason (nothing could run).
fail_all() {
	local t
	for t in "${TESTS[@]}"; do echo "FAIL: kern-$t ($1)"; done
	echo "guest: 0 passed, ${#TESTS[@]} failed, 0 skipped"
	exit 1
}

# ---- tools ------------------------------------------------------------------
need=()
for c in qemu-system-x86_64:qemu-system-x86 cpio:cpio depmod:kmod gzip:gzip \
	gcc:gcc make:make xz:xz-utils strip:binutils dpkg-deb:dpkg; do
	command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
done
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
[ -f /usr/include/linux/vhost.h ] || need+=(linux-libc-dev)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		say "installing ${need[*]}"
		{ compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null || apt-get update -q; } >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"${need[@]}" >/dev/null 2>&1 || fail_all "cannot install ${need[*]}"
	else
		fail_all "missing packages: ${need[*]} (scripts/deps.sh installs them)"
	fi
fi

# ---- the kernel: Debian's current linux-image-amd64 -------------------------
vhk_setup || fail_all "$VHK_ERR"
CACHE=$VHK_CACHE KVER=$VHK_KVER KPV=$VHK_KPV
# Modules the tests load, dependencies first (resolved with modules.dep).
MODS=(tun tap vhost_net vsock vhost_vsock configfs target_core_mod
	target_core_file vhost_scsi vhost_iotlb vhost irqbypass)

t=$(now_ms)
vhk_kernel "$T" "${MODS[@]}" || fail_all "could not fetch or unpack $VHK_KPKG / busybox-static"
[ "$VHK_PREPARED" = 1 ] && say "kernel $KVER ($KPV) fetched and unpacked in $(($(now_ms) - t)) ms"

# ---- vDPA simulator modules (out of tree) -----------------------------------
VDPA_SKIP=""
VC=$CACHE/vdpa-$KVER-$KPV
case " ${TESTS[*]} " in *" vdpa "*)
	if [ ! -f "$VC/ready" ]; then
		t=$(now_ms)
		if bash "$HERE/vdpa-modules.sh" "$KVER" "$KPV" "$CACHE/debs" "$VC" >"$T/vdpa-build.log" 2>&1; then
			say "vDPA modules built in $(($(now_ms) - t)) ms"
		else
			VDPA_SKIP="out-of-tree vDPA modules for $KVER could not be built: $(tail -1 "$T/vdpa-build.log" | sed 's/^vdpa-modules: //')"
			sed 's/^/    /' "$T/vdpa-build.log"
		fi
	fi
	;;
esac

# ---- the static test binary -------------------------------------------------
SRCS=("$ROOT"/lib/util/*.c "$ROOT"/lib/proto/*.c "$ROOT"/lib/frontend/transport.c
	"$ROOT"/lib/mem/*.c "$ROOT"/lib/virtq/*.c "$ROOT"/lib/kern/*.c)
TSRCS=("$HERE"/*.c)
HASH=$(cat "${SRCS[@]}" "${TSRCS[@]}" "$ROOT"/lib/*/*.h "$ROOT"/include/vhost/*.h |
	sha256sum | cut -c1-16)
VHT=$CACHE/vht-$HASH/vht
if [ ! -x "$VHT" ]; then
	t=$(now_ms)
	O=$T/obj
	mkdir -p "$O"
	export VH_CFLAGS="-std=c11 -D_GNU_SOURCE -fno-strict-aliasing -O2 -Wall -Wextra -Werror -pthread"
	export VH_INC=$ROOT/include
	# One compiler per core; the library goes into an archive so only the
	# objects the tests need are linked.
	printf '%s\n' "${SRCS[@]}" "${TSRCS[@]}" | while read -r f; do
		echo "$f $O/$(echo "${f#"$ROOT"/}" | tr / _).o"
	done >"$T/objs"
	if xargs -P "$(nproc)" -L1 sh -c 'exec gcc $VH_CFLAGS -I"$VH_INC" -c "$0" -o "$1"' \
		<"$T/objs" >"$T/cc.log" 2>&1 &&
		ar rcs "$O/libvh.a" "$O"/lib_*.o &&
		gcc -static -pthread -o "$O/vht" "$O"/tests_guest_*.o "$O/libvh.a" >>"$T/cc.log" 2>&1; then
		rm -rf "$CACHE"/vht-*
		mkdir -p "$(dirname "$VHT")" && cp "$O/vht" "$VHT"
		say "static test binary built in $(($(now_ms) - t)) ms"
	else
		sed 's/^/    /' "$T/cc.log" | head -30
		fail_all "the static test binary does not build"
	fi
fi

# ---- initramfs ----------------------------------------------------------------
R=$T/root
vhk_rootfs "$R" && cp "$VHT" "$R/bin/vht" &&
	cp "$HERE/init.sh" "$R/init" && chmod +x "$R/init" || fail_all "initramfs"
if [[ " ${TESTS[*]} " == *" vdpa "* ]] && [ -z "$VDPA_SKIP" ] && [ -f "$VC/ready" ]; then
	for m in vringh vdpa vdpa_sim vdpa_sim_net vhost_vdpa; do
		cp "$VC/$m.ko" "$R/modules/" && echo "$m.ko" >>"$R/modules/order"
	done
fi
cat >"$R/etc/vht.conf" <<EOF
TESTS="${TESTS[*]}"
VDPA_SKIP="$VDPA_SKIP"
TEST_TIMEOUT=60
WWPN=naa.5001405000000001
NEXUS=naa.5001405000000002
TPGT=1
EOF
vhk_initrd "$R" "$T/initrd.gz" || fail_all "cpio"

# ---- boot -----------------------------------------------------------------------
t=$(now_ms)
vhk_qemu_cmd "$T/initrd.gz" "$T/console.log"
timeout "$TIMEOUT" "${VHK_QEMU[@]}" </dev/null >"$T/qemu.log" 2>&1 &
QP=$!
wait "$QP"
qrc=$?
QP=""
GUEST_MS=$(($(now_ms) - t))
tr -d '\r' <"$T/console.log" >"$T/console.txt" 2>/dev/null
[ "${VERBOSE:-0}" = 1 ] && sed 's/^/  | /' "$T/console.txt"

# ---- verdicts -------------------------------------------------------------------
np=0 nf=0 ns=0
for name in "${TESTS[@]}"; do
	line=$(grep -a -m1 "^VHT-RESULT [A-Z]* $name " "$T/console.txt")
	if [ -z "$line" ]; then
		ex=$(grep -a -m1 "^VHT-EXIT $name " "$T/console.txt" | awk '{print $3}')
		echo "FAIL: kern-$name (no result: ${ex:+exit status $ex}${ex:-the guest stopped before it (qemu status $qrc)})"
		nf=$((nf + 1))
		# What the test printed, for the reader of the failure.
		sed -n "/^VHT-BEGIN $name\$/,/^VHT-EXIT $name /p" "$T/console.txt" | tail -25 | sed 's/^/    /'
		[ -s "$T/qemu.log" ] && sed 's/^/    qemu: /' "$T/qemu.log" | head -5
		continue
	fi
	read -r _ stat _ <<<"$line"
	detail=${line#VHT-RESULT $stat $name }
	echo "$stat: kern-$name ($detail)"
	case $stat in
	PASS) np=$((np + 1)) ;;
	SKIP) ns=$((ns + 1)) ;;
	*)
		nf=$((nf + 1))
		sed -n "/^VHT-BEGIN $name\$/,/^VHT-RESULT [A-Z]* $name /p" "$T/console.txt" |
			grep -av '^VHT-' | tail -25 | sed 's/^/    /'
		;;
	esac
done
# A kernel splat fails the run even when every test passed.
if grep -a '^VHT-DMESG' "$T/console.txt" | grep -aE 'BUG:|Oops|Call Trace|WARNING:' >"$T/splat"; then
	echo "FAIL: kern-dmesg (the guest kernel logged a BUG, Oops or WARNING)"
	sed 's/^VHT-DMESG /    /' "$T/splat"
	nf=$((nf + 1))
fi
say "kernel $KVER, guest boot+tests+poweroff $((GUEST_MS / 1000)).$((GUEST_MS % 1000 / 100)) s, whole run $((($(now_ms) - T_START) / 1000)) s, cache $CACHE"
echo "guest: $np passed, $nf failed, $ns skipped"
[ $nf -eq 0 ]
