#!/usr/bin/env bash
# tests/blk/qemu-guest.sh - our vhost-user-blk (devices/blk) behind QEMU's
# vhost-user-blk-pci, driven by Linux's own virtio_blk driver in a TCG guest.
#
#   tests/blk/qemu-guest.sh [--builddir DIR]
#
# One boot (QEMU TCG, 2 vCPUs, guest RAM in a shared memfd, Debian's kernel
# and a busybox initramfs: tests/guest/kernel.sh), three disks, each served
# by its own vhost-user-blk process (built in DIR, default build) from a
# 64 MiB raw image, every chardev with reconnect=1:
#   vda  1 queue, split ring
#   vdb  2 queues on 2 back-end threads, split ring
#   vdc  packed ring (packed=on)
# Checks (one line each):
#   blk-guest-1q       the guest writes 4 MiB of pseudo-random data with dd,
#                      drops caches, reads it back: checksums match; after
#                      power-off the host finds the same bytes in the image
#   blk-guest-2q       the same on vdb from both vCPUs (taskset, O_DIRECT):
#                      the guest has 2 hardware queues and the back-end
#                      served requests on both rings
#   blk-guest-packed   the same on vdc with the packed ring negotiated
#   blk-guest-restart-write  vdb's back-end is killed (SIGKILL) and started
#                      again while 4 dd processes write 16 MiB (4 KiB O_DIRECT
#                      requests); QEMU reconnects and the in-flight region
#                      resubmits what the dead one held: every dd completes,
#                      the data reads back right, in the guest and in the image
#   blk-guest-restart-read   the same on vdc (packed) while 4 dd read 16 MiB
# The back-ends then get SIGTERM: each exits 0 and removes its socket.
#
# Output: `PASS: name (detail)`, `FAIL: name (reason)` or `SKIP: ...` per
# check, details of failures indented below, then
# `blk-guest: N passed, N failed, N skipped`; exit 1 when anything failed.
# Env: VH_GUEST_CACHE (kernel cache, see tests/guest/kernel.sh),
# VH_GUEST_TIMEOUT (whole guest, default 180 s), VERBOSE=1 (print the guest
# console and the back-end logs), KEEP=1 (keep the work folder).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILDDIR=build
while [ $# -gt 0 ]; do
	case "$1" in
	--builddir) BUILDDIR=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "qemu-guest.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$BUILDDIR" in /*) B=$BUILDDIR ;; *) B=$ROOT/$BUILDDIR ;; esac
BLK=$B/devices/blk/vhost-user-blk
TIMEOUT=${VH_GUEST_TIMEOUT:-180}
CHECKS=(blk-guest-1q blk-guest-2q blk-guest-packed blk-guest-restart-write
	blk-guest-restart-read)
. "$ROOT/tests/guest/kernel.sh"

T=$(mktemp -d /tmp/vh-blk-guest.XXXXXX)
QP=""
declare -A BE_PID=()
cleanup() {
	local d
	[ -n "$QP" ] && kill -KILL "$QP" 2>/dev/null && wait "$QP" 2>/dev/null
	for d in "${!BE_PID[@]}"; do
		kill -KILL "${BE_PID[$d]}" 2>/dev/null && wait "${BE_PID[$d]}" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ]; then echo "qemu-guest.sh: kept $T"; else rm -rf "$T"; fi
	[ -n "${SHM_IMG:-}" ] && [ "${KEEP:-0}" != 1 ] && rm -f "$SHM_IMG"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
T_START=$(vhk_now_ms)
fail_all() {
	local c
	for c in "${CHECKS[@]}"; do echo "FAIL: $c ($1)"; done
	echo "blk-guest: 0 passed, ${#CHECKS[@]} failed, 0 skipped"
	exit 1
}

# ---- what we need -------------------------------------------------------------
[ -x "$BLK" ] || fail_all "$BLK is not built (meson compile -C $BUILDDIR)"
need=()
for c in qemu-system-x86_64:qemu-system-x86 cpio:cpio depmod:kmod gzip:gzip dpkg-deb:dpkg; do
	command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
done
[ ${#need[@]} -eq 0 ] || fail_all "missing packages: ${need[*]} (scripts/deps.sh installs them)"
vhk_setup || fail_all "$VHK_ERR"
t=$(vhk_now_ms)
vhk_kernel "$T" virtio_pci virtio_blk || fail_all "$VHK_ERR"
[ "$VHK_PREPARED" = 1 ] && echo "blk-guest: kernel $VHK_KVER fetched and unpacked in $(($(vhk_now_ms) - t)) ms"

# ---- the guest ------------------------------------------------------------------
R=$T/root
vhk_rootfs "$R" || fail_all "$VHK_ERR"
{
	vhk_init_head
	cat <<'EOF'
echo "GUEST-BOOTED $(cut -d' ' -f1 /proc/uptime)"
for i in $(seq 200); do [ -b /dev/vdc ] && break; sleep 0.05; done
sum() { md5sum | cut -d' ' -f1; }
res() { echo "GUEST-RESULT $*"; }
# 16 MiB of pseudo-random data, and its four 4 MiB slices.
dd if=/dev/urandom of=/tmp/r bs=1M count=16 2>/dev/null
for i in 0 1 2 3; do dd if=/tmp/r of=/tmp/s$i bs=1M skip=$((i * 4)) count=4 2>/dev/null; done
RSUM=$(sum </tmp/r)
echo "GUEST-SUMS $RSUM $(sum </tmp/s0) $(sum </tmp/s1) $(sum </tmp/s2)"
for d in vda vdb vdc; do
	echo "GUEST-DISK $d $(cat /sys/block/$d/size) sectors $(ls /sys/block/$d/mq | wc -l) queues"
done

# Buffered: write, fsync, drop caches, read back.
basic() { # name dev slice
	want=$(sum </tmp/s$3)
	dd if=/tmp/s$3 of=/dev/$2 bs=64k conv=fsync 2>/dev/null || { res FAIL $1 "dd write failed"; return; }
	echo 3 >/proc/sys/vm/drop_caches
	got=$(dd if=/dev/$2 bs=64k count=64 2>/dev/null | sum)
	if [ "$got" = "$want" ]; then res PASS $1 "$want"; else res FAIL $1 "read $got, wrote $want"; fi
}
basic blk-guest-1q vda 0
basic blk-guest-packed vdc 2
# vdb: O_DIRECT from each vCPU in turn, so both hardware queues carry I/O.
want=$(sum </tmp/s1)
ok=1
taskset 1 dd if=/tmp/s1 of=/dev/vdb bs=64k count=32 oflag=direct 2>/dev/null || ok=0
taskset 2 dd if=/tmp/s1 of=/dev/vdb bs=64k skip=32 seek=32 count=32 oflag=direct 2>/dev/null || ok=0
echo 3 >/proc/sys/vm/drop_caches
got=$( (taskset 2 dd if=/dev/vdb bs=64k count=32 iflag=direct 2>/dev/null
	taskset 1 dd if=/dev/vdb bs=64k skip=32 count=32 iflag=direct 2>/dev/null) | sum)
if [ $ok = 1 ] && [ "$got" = "$want" ]; then res PASS blk-guest-2q "$want"; else res FAIL blk-guest-2q "dd ok=$ok, read $got, wrote $want"; fi

# Restart while writing: 4 writers of 4 MiB in 4 KiB O_DIRECT requests at
# 16 MiB on vdb; the host kills the back-end when it sees the mark.
echo "GUEST-MARK restart-write-start"
pids=""
for i in 0 1 2 3; do
	taskset $((1 << (i % 2))) dd if=/tmp/s$i of=/dev/vdb bs=4k seek=$((4096 + i * 1024)) oflag=direct 2>/tmp/e$i &
	pids="$pids $!"
done
ok=1
for p in $pids; do wait $p || ok=0; done
echo "GUEST-MARK restart-write-done"
echo 3 >/proc/sys/vm/drop_caches
got=$(dd if=/dev/vdb bs=1M skip=16 count=16 iflag=direct 2>/dev/null | sum)
if [ $ok = 1 ] && [ "$got" = "$RSUM" ]; then res PASS blk-guest-restart-write "$RSUM"
else res FAIL blk-guest-restart-write "dd ok=$ok ($(cat /tmp/e0 /tmp/e1 | tr '\n' ' ')), read $got, wrote $RSUM"; fi

# Restart while reading: 16 MiB at 16 MiB on vdc, read by 4 readers.
dd if=/tmp/r of=/dev/vdc bs=1M seek=16 conv=fsync 2>/dev/null
echo 3 >/proc/sys/vm/drop_caches
echo "GUEST-MARK restart-read-start"
pids=""
for i in 0 1 2 3; do
	(taskset $((1 << (i % 2))) dd if=/dev/vdc bs=4k skip=$((4096 + i * 1024)) count=1024 iflag=direct 2>/dev/null | sum >/tmp/g$i) &
	pids="$pids $!"
done
for p in $pids; do wait $p; done
echo "GUEST-MARK restart-read-done"
ok=1
for i in 0 1 2 3; do [ "$(cat /tmp/g$i)" = "$(sum </tmp/s$i)" ] || ok=0; done
if [ $ok = 1 ]; then res PASS blk-guest-restart-read "$RSUM"; else res FAIL blk-guest-restart-read "a reader got other data"; fi
echo "GUEST-DONE $(cut -d' ' -f1 /proc/uptime)"
dmesg | grep -E 'virtio_blk|vd[abc]|I/O error|BUG:|Oops|Call Trace|WARNING:' | tail -20 | sed 's/^/GUEST-DMESG /'
poweroff -f
EOF
} >"$R/init"
chmod +x "$R/init"
vhk_initrd "$R" "$T/initrd.gz" || fail_all "$VHK_ERR"

# ---- the back-ends --------------------------------------------------------------
declare -A BE_ARGS=([a]="--num-queues 1" [b]="--num-queues 2 --queues-per-thread 1" [c]="--num-queues 1")
be_start() { # disk letter; log appended to $T/be-X.log
	local d=$1 i
	# shellcheck disable=SC2086
	"$BLK" --socket-path "$T/$d.sock" --blk-file "$T/$d.img" -v ${BE_ARGS[$d]} \
		</dev/null >>"$T/be-$d.log" 2>&1 &
	BE_PID[$d]=$!
	for _ in $(seq 500); do
		[ -S "$T/$d.sock" ] && grep -q "listening on" "$T/be-$d.log" && return 0
		kill -0 "${BE_PID[$d]}" 2>/dev/null || break
		sleep 0.01
	done
	return 1
}
for d in a b c; do
	truncate -s 64M "$T/$d.img"
done
# Disk b (2 queues, and the restart-while-writing check) is a fully
# allocated image on tmpfs: served through the mapping (the default engine
# there); a and c are sparse files in /tmp: io_uring (or pread / pwrite
# when /tmp is tmpfs).
SHM_IMG=$(mktemp /dev/shm/vh-blk-guest.XXXXXX.img 2>/dev/null) &&
	fallocate -l 64M "$SHM_IMG" && ln -sf "$SHM_IMG" "$T/b.img" ||
	fail_all "cannot create a 64 MiB image in /dev/shm"
for d in a b c; do
	be_start $d || fail_all "vhost-user-blk did not start: $(tail -1 "$T/be-$d.log")"
done
grep -q "mapped (tmpfs" "$T/be-b.log" ||
	fail_all "disk b is not served through the mapping: $(head -1 "$T/be-b.log")"


# ---- boot ---------------------------------------------------------------------------
VHK_SMP=2 VHK_SHARED_MEM=1 vhk_qemu_cmd "$T/initrd.gz" "$T/console.log"
VHK_QEMU+=(-chardev "socket,id=ca,path=$T/a.sock,reconnect=1"
	-device "vhost-user-blk-pci,chardev=ca,num-queues=1"
	-chardev "socket,id=cb,path=$T/b.sock,reconnect=1"
	-device "vhost-user-blk-pci,chardev=cb,num-queues=2"
	-chardev "socket,id=cc,path=$T/c.sock,reconnect=1"
	-device "vhost-user-blk-pci,chardev=cc,num-queues=1,packed=on")
t=$(vhk_now_ms)
timeout "$TIMEOUT" "${VHK_QEMU[@]}" </dev/null >"$T/qemu.log" 2>&1 &
QP=$!
# Kill a back-end when the guest says it started the I/O; note whether the
# I/O was still running at that moment.
declare -A KILLED=() MIDIO=()
kill_restart() { # disk letter, phase name
	local d=$1 ph=$2
	sleep 0.3
	kill -KILL "${BE_PID[$d]}" 2>/dev/null
	wait "${BE_PID[$d]}" 2>/dev/null
	grep -aq "GUEST-MARK $ph-done" "$T/console.log" && MIDIO[$ph]=0 || MIDIO[$ph]=1
	echo "--- killed (SIGKILL) during $ph; restarting" >>"$T/be-$d.log"
	be_start "$d" || echo "--- restart failed" >>"$T/be-$d.log"
	KILLED[$ph]=1
}
touch "$T/console.log"
while kill -0 "$QP" 2>/dev/null; do
	if [ -z "${KILLED[restart-write]:-}" ] && grep -aq "GUEST-MARK restart-write-start" "$T/console.log"; then
		kill_restart b restart-write
	fi
	if [ -z "${KILLED[restart-read]:-}" ] && grep -aq "GUEST-MARK restart-read-start" "$T/console.log"; then
		kill_restart c restart-read
	fi
	sleep 0.02
done
wait "$QP"
qrc=$?
QP=""
GUEST_MS=$(($(vhk_now_ms) - t))
tr -d '\r' <"$T/console.log" >"$T/console.txt"

# ---- stop the back-ends: exit 0, socket removed ------------------------------------
declare -A BE_RC=()
for d in a b c; do
	kill -TERM "${BE_PID[$d]}" 2>/dev/null
	wait "${BE_PID[$d]}"
	BE_RC[$d]=$?
	[ -e "$T/$d.sock" ] && BE_RC[$d]="${BE_RC[$d]}, socket left behind"
	unset "BE_PID[$d]"
done
if [ "${VERBOSE:-0}" = 1 ]; then
	sed 's/^/  | /' "$T/console.txt"
	for d in a b c; do sed "s/^/  be-$d | /" "$T/be-$d.log"; done
fi

# ---- verdicts -------------------------------------------------------------------------
np=0 nf=0 ns=0
img_sum() { dd if="$T/$1.img" bs=1M skip="$2" count="$3" 2>/dev/null | md5sum | cut -d' ' -f1; }
read -r _ RSUM S0 S1 S2 < <(grep -a -m1 '^GUEST-SUMS ' "$T/console.txt")
declare -A HOST=()
HOST[blk-guest-1q]="$(img_sum a 0 4) ${S0:-}"
HOST[blk-guest-2q]="$(img_sum b 0 4) ${S1:-}"
HOST[blk-guest-packed]="$(img_sum c 0 4) ${S2:-}"
HOST[blk-guest-restart-write]="$(img_sum b 16 16) ${RSUM:-}"
HOST[blk-guest-restart-read]="$(img_sum c 16 16) ${RSUM:-}"
verdict() { # name PASS|FAIL detail
	echo "$2: $1 ($3)"
	case $2 in PASS) np=$((np + 1)) ;; SKIP) ns=$((ns + 1)) ;; *) nf=$((nf + 1)) ;; esac
}
for name in "${CHECKS[@]}"; do
	line=$(grep -a -m1 "^GUEST-RESULT [A-Z]* $name " "$T/console.txt")
	if [ -z "$line" ]; then
		verdict "$name" FAIL "no result: the guest stopped before it (qemu status $qrc)"
		tail -15 "$T/console.txt" | sed 's/^/    /'
		[ -s "$T/qemu.log" ] && sed 's/^/    qemu: /' "$T/qemu.log" | head -5
		continue
	fi
	read -r _ stat _ detail <<<"$line"
	read -r hsum gsum <<<"${HOST[$name]}"
	why=""
	[ "$stat" = PASS ] || why="guest: $detail"
	[ -z "$why" ] && [ "$hsum" != "$gsum" ] && why="the image holds md5 $hsum, the guest wrote $gsum"
	case $name in
	blk-guest-2q)
		q=$(grep -a -m1 '^GUEST-DISK vdb ' "$T/console.txt" | awk '{print $5}')
		n1=$(grep -a -m1 'ring 1 stopped after' "$T/be-b.log" | sed 's/.*after \([0-9]*\).*/\1/')
		[ -z "$why" ] && [ "$q" != 2 ] && why="the guest has ${q:-?} hardware queues on vdb, not 2"
		[ -z "$why" ] && [ "${n1:-0}" -eq 0 ] && why="the back-end's ring 1 served no request"
		detail="4 MiB from 2 vCPUs, 2 guest queues, ring 1 served ${n1:-0} requests, md5 $gsum"
		;;
	blk-guest-restart-*)
		ph=${name#blk-guest-}
		[ -z "$why" ] && [ -z "${KILLED[$ph]:-}" ] && why="the back-end was never killed"
		[ -z "$why" ] && [ "${MIDIO[$ph]:-0}" != 1 ] && why="the guest had finished before the kill"
		detail="SIGKILL mid-I/O, restarted, QEMU reconnected; 16 MiB, md5 $gsum in guest and image"
		;;
	*) detail="4 MiB written, caches dropped, read back; md5 $gsum in guest and image" ;;
	esac
	if [ -n "$why" ]; then verdict "$name" FAIL "$why"; else verdict "$name" PASS "$detail"; fi
done
for d in a b c; do
	if [ "${BE_RC[$d]}" != 0 ]; then
		verdict "blk-guest-backend-$d" FAIL "exit ${BE_RC[$d]} after SIGTERM"
		tail -5 "$T/be-$d.log" | sed 's/^/    /'
	fi
done
if grep -a '^GUEST-DMESG' "$T/console.txt" | grep -aE 'BUG:|Oops|Call Trace|WARNING:|I/O error' >"$T/splat"; then
	verdict blk-guest-dmesg FAIL "the guest kernel logged errors"
	sed 's/^GUEST-DMESG /    /' "$T/splat"
fi
echo "blk-guest: guest boot+tests+poweroff $((GUEST_MS / 1000)).$((GUEST_MS % 1000 / 100)) s, whole run $((($(vhk_now_ms) - T_START) / 1000)) s"
echo "blk-guest: $np passed, $nf failed, $ns skipped"
[ $nf -eq 0 ]
