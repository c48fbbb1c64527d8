# shellcheck shell=bash
# tests/guest/kernel.sh - sourced helpers for throwaway QEMU (TCG) guests that
# run Debian's own kernel (linux-image-amd64, fetched with `apt-get download`
# and unpacked with dpkg-deb, never installed) with a busybox initramfs.
# Used by tests/guest/run.sh (kernel vhost), tests/blk/qemu-guest.sh
# (vhost-user-blk) and other device tests. Not executable: source it.
#
#   . tests/guest/kernel.sh
#   vhk_setup || die "$VHK_ERR"                 # cache dir, kernel version
#   vhk_kernel "$WORK" virtio_pci virtio_blk || die "$VHK_ERR"
#   vhk_rootfs "$WORK/root" || die "$VHK_ERR"  # busybox, modules, order
#   cp my-init.sh "$WORK/root/init"            # (vhk_init_head helps)
#   vhk_initrd "$WORK/root" "$WORK/initrd.gz" || die "$VHK_ERR"
#   VHK_SHARED_MEM=1 vhk_qemu_cmd "$WORK/initrd.gz" "$WORK/console.log"
#   timeout 120 "${VHK_QEMU[@]}" -chardev ... -device ... </dev/null >log 2>&1 &
#
# Cache: $VH_GUEST_CACHE, else /var/cache/libvhost-guest when writable, else
# ~/.cache/libvhost-guest. Layout (shared by every user of this file):
#   debs/                        the .debs (kernel, busybox-static, ...)
#   kernel-KVER-KPV/             vmlinuz, busybox, ready
#   kernel-KVER-KPV/mods-KEY/    the .ko files of one module list (KEY: a
#                                hash of the list) and `order` (load order)
# Every cache entry is built in a temporary folder and renamed into place, so
# scripts sharing the cache may run at the same time.
#
# Functions return 0, or 1 with a one-line reason in VHK_ERR. Nothing here
# exits, traps or prints (the caller owns its output), except tool output on
# failure, which goes to VHK_LOG when set (default /dev/null).
#
# Variables set:  VHK_CACHE VHK_KPKG VHK_KVER VHK_KPV VHK_KC (vhk_setup);
#                 VHK_MODS VHK_PREPARED (vhk_kernel); VHK_QEMU (vhk_qemu_cmd).
# Variables read: VH_GUEST_CACHE; VHK_SMP (default 1), VHK_MEM (default 512M),
#                 VHK_SHARED_MEM=1 (guest RAM in a shared memfd, as vhost-user
#                 needs), VHK_APPEND (extra kernel command line) by vhk_qemu_cmd.

VHK_ERR=""

# vhk_now_ms: milliseconds since the epoch.
vhk_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# vhk_setup: choose the cache, find Debian's current kernel package.
vhk_setup() {
	if [ -n "${VH_GUEST_CACHE:-}" ]; then
		VHK_CACHE=$VH_GUEST_CACHE
	elif mkdir -p /var/cache/libvhost-guest 2>/dev/null && [ -w /var/cache/libvhost-guest ]; then
		VHK_CACHE=/var/cache/libvhost-guest
	else
		VHK_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/libvhost-guest
	fi
	mkdir -p "$VHK_CACHE/debs" || { VHK_ERR="cannot create $VHK_CACHE/debs"; return 1; }
	VHK_KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	if [ -z "$VHK_KPKG" ]; then
		apt-get update -q >/dev/null 2>&1
		VHK_KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	fi
	[ -n "$VHK_KPKG" ] || { VHK_ERR="apt-cache knows no linux-image-amd64"; return 1; }
	VHK_KVER=${VHK_KPKG#linux-image-}
	VHK_KPV=$(apt-cache policy "$VHK_KPKG" | awk '/Candidate:/{print $2; exit}')
	VHK_KC=$VHK_CACHE/kernel-$VHK_KVER-$VHK_KPV
}

# vhk_fetch PKG...: make sure $VHK_CACHE/debs holds a .deb of each package
# (downloaded into a private folder, then moved in).
vhk_fetch() {
	local p d
	for p in "$@"; do
		ls "$VHK_CACHE/debs/${p}"_*.deb >/dev/null 2>&1 && continue
		d=$(mktemp -d "$VHK_CACHE/debs/.dl.XXXXXX") || return 1
		if ! (cd "$d" && timeout 300 apt-get download -q -o APT::Sandbox::User=root "$p" \
			>>"${VHK_LOG:-/dev/null}" 2>&1); then
			rm -rf "$d"
			VHK_ERR="apt-get download $p failed"
			return 1
		fi
		mv -n "$d"/*.deb "$VHK_CACHE/debs/"
		rm -rf "$d"
	done
}

# vhk_modorder MODDIR NAME...: module files (relative to MODDIR) in load
# order, dependencies first, from modules.dep; built-in modules are skipped.
vhk_modorder() {
	local md=$1 seen=" " m line d
	shift
	for m in "$@"; do
		line=$(grep -E "^(.*/)?$m\.ko(\.xz|\.zst|\.gz)?:" "$md/modules.dep" | head -1)
		if [ -z "$line" ]; then
			grep -qE "/$m\.ko" "$md/modules.builtin" && continue
			echo "no module $m" >&2
			return 1
		fi
		for d in $(echo "${line#*:}" | tr ' ' '\n' | tac) "${line%%:*}"; do
			case "$seen" in *" $d "*) ;; *)
				seen="$seen$d "
				echo "$d"
				;;
			esac
		done
	done
}

# vhk_kernel WORK MOD...: make sure the cache holds vmlinuz, busybox and the
# modules MOD... with their dependencies (VHK_MODS: *.ko and `order`, one
# file name per line in load order). WORK is a scratch folder (the kernel
# package is unpacked below it, then removed). VHK_PREPARED=1 when something
# had to be fetched or unpacked (a cold cache), else 0.
vhk_kernel() {
	local work=$1 key k tmp p
	shift
	key=$(printf '%s\n' "$@" | sha256sum | cut -c1-12)
	VHK_MODS=$VHK_KC/mods-$key
	VHK_PREPARED=0
	[ -f "$VHK_KC/ready" ] && [ -f "$VHK_MODS/order" ] && return 0
	VHK_PREPARED=1
	vhk_fetch "$VHK_KPKG" busybox-static || return 1
	k=$work/vhk-kernel
	rm -rf "$k" && mkdir -p "$k" || { VHK_ERR="cannot create $k"; return 1; }
	if ! dpkg-deb -x "$(ls "$VHK_CACHE/debs/${VHK_KPKG}"_*.deb | head -1)" "$k" ||
		! depmod -b "$k" "$VHK_KVER"; then
		rm -rf "$k"
		VHK_ERR="cannot unpack $VHK_KPKG"
		return 1
	fi
	if [ ! -f "$VHK_KC/ready" ]; then
		# A folder without `ready` is a leftover of an interrupted run.
		[ -d "$VHK_KC" ] && rm -rf "$VHK_KC"
		tmp=$(mktemp -d "$VHK_CACHE/.kernel.XXXXXX") &&
			dpkg-deb -x "$(ls "$VHK_CACHE/debs/busybox-static"_*.deb | head -1)" "$tmp/bb" &&
			cp "$tmp/bb/bin/busybox" "$tmp/busybox" && rm -rf "$tmp/bb" &&
			cp "$k/boot/vmlinuz-$VHK_KVER" "$tmp/vmlinuz" && touch "$tmp/ready" ||
			{
				rm -rf "$tmp" "$k"
				VHK_ERR="cannot unpack busybox-static or vmlinuz"
				return 1
			}
		mv -T "$tmp" "$VHK_KC" 2>/dev/null || rm -rf "$tmp"
	fi
	if [ ! -f "$VHK_MODS/order" ]; then
		tmp=$(mktemp -d "$VHK_KC/.mods.XXXXXX") || { VHK_ERR="cannot write $VHK_KC"; return 1; }
		if ! vhk_modorder "$k/lib/modules/$VHK_KVER" "$@" >"$tmp/paths" 2>"$tmp/err"; then
			VHK_ERR="$VHK_KPKG: $(head -1 "$tmp/err")"
			rm -rf "$tmp" "$k"
			return 1
		fi
		while read -r p; do
			cp "$k/lib/modules/$VHK_KVER/$p" "$tmp/" && basename "$p" >>"$tmp/order" ||
				{
					rm -rf "$tmp" "$k"
					VHK_ERR="cannot copy $p"
					return 1
				}
		done <"$tmp/paths"
		rm -f "$tmp/paths" "$tmp/err"
		touch "$tmp/order"
		mv -T "$tmp" "$VHK_MODS" 2>/dev/null || rm -rf "$tmp"
	fi
	rm -rf "$k"
}

# vhk_rootfs ROOT: the initramfs tree: bin/busybox, modules/*.ko and
# modules/order (from the last vhk_kernel), empty dev proc sys tmp etc.
# The caller adds /init (executable) and whatever else the guest needs.
vhk_rootfs() {
	local r=$1
	mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc,modules} &&
		cp "$VHK_KC/busybox" "$r/bin/busybox" &&
		cp "$VHK_MODS/order" "$r/modules/" &&
		{ [ ! -s "$VHK_MODS/order" ] || cp "$VHK_MODS/"*.ko* "$r/modules/"; } ||
		{
			VHK_ERR="cannot build the initramfs tree in $r"
			return 1
		}
}

# vhk_init_head: print the start of a busybox /init: applets installed,
# proc/sys/dev/tmp mounted, /modules/order loaded (a failed insmod prints
# "insmod NAME failed"). Append the test and `poweroff -f`.
vhk_init_head() {
	cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
for m in $(cat /modules/order); do
	insmod "/modules/$m" || echo "insmod $m failed"
done
EOF
}

# vhk_initrd ROOT OUT: pack ROOT as a gzip'd newc cpio archive.
vhk_initrd() {
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2" ||
		{
			VHK_ERR="cpio of $1 failed"
			return 1
		}
}

# vhk_qemu_cmd INITRD CONSOLE: VHK_QEMU=(qemu-system-x86_64 ...): TCG, no
# display, no NIC, the serial console into the file CONSOLE, QEMU exits when
# the guest powers off (-no-reboot). The caller appends its devices and runs
# it under `timeout`.
vhk_qemu_cmd() {
	local mem=${VHK_MEM:-512M}
	VHK_QEMU=(qemu-system-x86_64 -accel tcg -machine pc -smp "${VHK_SMP:-1}" -m "$mem")
	if [ "${VHK_SHARED_MEM:-0}" = 1 ]; then
		VHK_QEMU+=(-object "memory-backend-memfd,id=mem,size=$mem,share=on"
			-numa node,memdev=mem)
	fi
	VHK_QEMU+=(-kernel "$VHK_KC/vmlinuz" -initrd "$1"
		-append "console=ttyS0 panic=-1 quiet${VHK_APPEND:+ $VHK_APPEND}"
		-display none -monitor none -serial "file:$2" -nic none -no-reboot)
}
