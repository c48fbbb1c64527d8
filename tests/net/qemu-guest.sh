#!/usr/bin/env bash
# tests/net/qemu-guest.sh NET - vhost-user-net behind QEMU's virtio-net-pci
# (-netdev vhost-user), in tap mode, driven by a real Linux guest.
#
# The test makes a network namespace of its own (ip netns add) and runs
# vhost-user-net in it with --tap: the tap and its address (10.99.0.1/24)
# exist only there. The guest (QEMU TCG, Debian's kernel and its virtio_net
# module, busybox; tests/guest/kernel.sh) sets 10.99.0.2/24 on eth0 and pings
# 10.99.0.1; no other network is touched. IPv6 is off on both ends so that
# only ARP and ICMP flow, and the counters must match exactly:
#   guest eth0 tx_packets == our tx_frames == the tap's RX packets
#   guest eth0 rx_packets == our rx_frames == the tap's TX packets
# QEMU 7.2 under TCG needs vectors=0 on virtio-net-pci with vhost-user
# (/work/shared/interop/README.md, section 5).
#
# Prints PASS/FAIL (exit 0/1); SKIP (exit 77) without QEMU, ip netns or
# /dev/net/tun. Env: VH_GUEST_CACHE (kernel cache), TIMEOUT (default 150 s),
# VERBOSE=1 (guest console), KEEP=1 (keep the work folder).
set -u
NET=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
TIMEOUT=${TIMEOUT:-150}
. "$HERE/../guest/kernel.sh"

skip() { echo "SKIP: net-qemu: $*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (Debian package qemu-system-x86)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
NS=vhnq$$
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace (ip netns add needs root)"

T=$(mktemp -d /dev/shm/vh-net-qemu.XXXXXX 2>/dev/null || mktemp -d /tmp/vh-net-qemu.XXXXXX)
NP=""
QP=""
cleanup() {
	[ -n "$QP" ] && kill -KILL "$QP" 2>/dev/null && wait "$QP" 2>/dev/null
	[ -n "$NP" ] && kill -KILL "$NP" 2>/dev/null && wait "$NP" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "FAIL: net-qemu: $*"
	[ -f "$T/console.log" ] && tr -d '\r' <"$T/console.log" | tail -15 | sed 's/^/  console: /'
	[ -f "$T/net.log" ] && sed 's/^/  vhost-user-net: /' "$T/net.log" | tail -5
	[ -s "$T/qemu.log" ] && sed 's/^/  qemu: /' "$T/qemu.log" | head -5
	exit 1
}
T0=$(vhk_now_ms)

# ---- guest: kernel, modules, init -----------------------------------------
VHK_LOG=$T/prepare.log
vhk_setup || fail "$VHK_ERR"
vhk_kernel "$T" virtio_pci virtio_net || fail "$VHK_ERR"
vhk_rootfs "$T/root" || fail "$VHK_ERR"
{
	vhk_init_head
	cat <<'EOF'
# No IPv6: only ARP and ICMP on the wire, so the counters can be compared.
for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 >"$f"; done
ip link set lo up
ip addr add 10.99.0.2/24 dev eth0
ip link set eth0 up
if ping -c 3 -W 5 10.99.0.1 >/tmp/ping 2>&1; then
	echo "GUEST-PING: ok $(grep -o '[0-9]* packets received' /tmp/ping)"
else
	echo "GUEST-PING: failed"; cat /tmp/ping
fi
echo "GUEST-NET: tx=$(cat /sys/class/net/eth0/statistics/tx_packets) rx=$(cat /sys/class/net/eth0/statistics/rx_packets) drv=$(basename $(readlink /sys/class/net/eth0/device/driver))"
echo GUEST-DONE
poweroff -f
EOF
} >"$T/root/init"
chmod +x "$T/root/init"
vhk_initrd "$T/root" "$T/initrd.gz" || fail "$VHK_ERR"

# ---- host end: vhost-user-net --tap inside the namespace ------------------
SOCK=$T/net.sock
TAP=vhq0
ip netns exec "$NS" timeout $((TIMEOUT + 30)) "$NET" --socket-path "$SOCK" --tap $TAP \
	>"$T/net.log" 2>&1 &
NP=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || fail "vhost-user-net did not listen"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.$TAP.disable_ipv6=1 || fail "cannot turn IPv6 off on $TAP"
ip -n "$NS" addr add 10.99.0.1/24 dev $TAP || fail "cannot address $TAP"
ip -n "$NS" link set $TAP up || fail "cannot bring $TAP up"

# ---- QEMU ------------------------------------------------------------------
VHK_SHARED_MEM=1 vhk_qemu_cmd "$T/initrd.gz" "$T/console.log"
QEMU=("${VHK_QEMU[@]}" -chardev "socket,id=c0,path=$SOCK"
	-netdev "vhost-user,id=n0,chardev=c0"
	-device "virtio-net-pci,netdev=n0,vectors=0,mac=52:54:00:12:34:56")
[ "${VERBOSE:-0}" = 1 ] && echo "+ ${QEMU[*]}"
T1=$(vhk_now_ms)
timeout "$TIMEOUT" "${QEMU[@]}" </dev/null >"$T/qemu.log" 2>&1 &
QP=$!
wait $QP
qrc=$?
QP=""
GUEST_MS=$(($(vhk_now_ms) - T1))
[ "${VERBOSE:-0}" = 1 ] && tr -d '\r' <"$T/console.log"

# Counters: the tap's, then ours (printed at exit).
read -r tap_rx tap_tx < <(ip -n "$NS" -s -j link show $TAP |
	python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["rx"]["packets"], s["tx"]["packets"])')
kill -TERM $NP
wait $NP
nrc=$?
NP=""
C=$(tr -d '\r' <"$T/console.log")
grep -q '^GUEST-DONE' <<<"$C" || fail "the guest did not finish (qemu exit $qrc, ${GUEST_MS} ms)"
grep -q '^GUEST-PING: ok 3 packets received' <<<"$C" || fail "ping: $(grep '^GUEST-PING' <<<"$C")"
gtx=$(sed -n 's/^GUEST-NET: tx=\([0-9]*\) .*/\1/p' <<<"$C")
grx=$(sed -n 's/^GUEST-NET: .* rx=\([0-9]*\) .*/\1/p' <<<"$C")
drv=$(sed -n 's/^GUEST-NET: .* drv=\(.*\)/\1/p' <<<"$C")
otx=$(grep -o 'exit: .*' "$T/net.log" | grep -o 'tx_frames=[0-9]*' | cut -d= -f2)
orx=$(grep -o 'exit: .*' "$T/net.log" | grep -o 'rx_frames=[0-9]*' | cut -d= -f2)
bad=$(grep -o 'exit: .*' "$T/net.log" | grep -o '\(tx_dropped\|tx_bad\|rx_dropped\|rx_bad_bufs\)=[0-9]*' |
	cut -d= -f2 | paste -sd+ | bc)
COUNTS="guest tx=$gtx rx=$grx; vhost-user-net tx_frames=$otx rx_frames=$orx (drops $bad); tap rx=$tap_rx tx=$tap_tx"
[ "$qrc" = 0 ] || fail "qemu exit $qrc; $COUNTS"
[ "$nrc" = 0 ] || fail "vhost-user-net exit $nrc; $COUNTS"
[ "$drv" = virtio_net ] || fail "eth0 is not virtio_net ($drv)"
if [ -n "$gtx" ] && [ "$gtx" = "$otx" ] && [ "$otx" = "$tap_rx" ] &&
	[ "$grx" = "$orx" ] && [ "$orx" = "$tap_tx" ] && [ "$bad" = 0 ] && [ "$gtx" -ge 4 ]; then
	echo "PASS: net-qemu: QEMU virtio-net-pci -> vhost-user -> vhost-user-net --tap: the guest pinged 10.99.0.1 (3/3); $COUNTS; guest ${GUEST_MS} ms, total $(($(vhk_now_ms) - T0)) ms"
	exit 0
fi
fail "counters differ: $COUNTS"
