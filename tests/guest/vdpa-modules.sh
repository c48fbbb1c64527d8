#!/usr/bin/env bash
# tests/guest/vdpa-modules.sh - build the kernel's own vDPA simulator stack
# out of tree for a Debian kernel whose config has CONFIG_VDPA unset:
#   vringh.ko vdpa.ko vdpa_sim.ko vdpa_sim_net.ko vhost_vdpa.ko
#
#   tests/guest/vdpa-modules.sh KVER PKGVER DEBDIR OUTDIR
#
# KVER is the kernel release (6.1.0-56-amd64), PKGVER its Debian package
# version (6.1.192-2). The matching linux-source, linux-headers (flavour and
# -common) and linux-kbuild packages are fetched with `apt-get download` into
# DEBDIR (kept as a cache) and unpacked with dpkg-deb into a scratch folder:
# nothing is installed. Only the eight source files needed come out of the
# source tarball. The stripped .ko files land in OUTDIR, with OUTDIR/ready.
# Exit 0 on success; otherwise the last line is "vdpa-modules: <reason>".
set -u
KVER=$1 VER=$2 DL=$3 OUT=$4
W=$(mktemp -d /dev/shm/vh-vdpa-build.XXXXXX 2>/dev/null || mktemp -d /tmp/vh-vdpa-build.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() {
	echo "vdpa-modules: $*"
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
T0=$(now_ms)

# The packages the headers need, at the kernel's own version.
deps=$(apt-cache depends "linux-headers-$KVER" 2>/dev/null | awk '/Depends:/{print $2}')
common=$(echo "$deps" | grep -m1 -- '-common$')
kbuild=$(echo "$deps" | grep -m1 '^linux-kbuild-')
[ -n "$common" ] && [ -n "$kbuild" ] ||
	fail "apt-cache knows no linux-headers-$KVER (apt-get update?)"
series=${kbuild#linux-kbuild-}
src=linux-source-$series
mkdir -p "$DL" "$OUT" || fail "cannot create $DL or $OUT"
for p in "linux-headers-$KVER" "$common" "$kbuild" "$src"; do
	ls "$DL/${p}_${VER}_"*.deb >/dev/null 2>&1 && continue
	(cd "$DL" && timeout 300 apt-get download -q -o APT::Sandbox::User=root \
		"$p=$VER" >/dev/null 2>&1) || fail "apt-get download $p=$VER failed"
done
echo "vdpa-modules: packages ready in $(($(now_ms) - T0)) ms"

t=$(now_ms)
for p in "linux-headers-$KVER" "$common" "$kbuild"; do
	dpkg-deb -x "$(ls "$DL/${p}_${VER}_"*.deb | head -1)" "$W/root" ||
		fail "dpkg-deb -x $p failed"
done
H=$W/root/usr/src/linux-headers-$KVER
# The flavour's Makefile includes the -common one by absolute path.
sed -i "s#include /usr/src/#include $W/root/usr/src/#" "$H/Makefile" ||
	fail "no $H/Makefile"
cc=$(sed -n 's/^CC = .*\(gcc-[0-9]*\).*/\1/p' "$H/.kernelvariables")
command -v "${cc:-gcc}" >/dev/null ||
	fail "${cc:-gcc} is not installed (the kernel was built with it)"

# Only these files: tar stops reading the 140 MB archive once it has them.
P=$src
files=(drivers/vdpa/vdpa.c drivers/vdpa/vdpa_sim/vdpa_sim.c
	drivers/vdpa/vdpa_sim/vdpa_sim.h drivers/vdpa/vdpa_sim/vdpa_sim_net.c
	drivers/vhost/vdpa.c drivers/vhost/vringh.c drivers/vhost/vhost.h)
mkdir -p "$W/src"
dpkg-deb --fsys-tarfile "$(ls "$DL/${src}_${VER}_"*.deb | head -1)" 2>/dev/null |
	tar -xO "./usr/src/$src.tar.xz" 2>/dev/null |
	tar --occurrence=1 -xJ -C "$W/src" "${files[@]/#/$P/}"
[ -f "$W/src/$P/drivers/vhost/vringh.c" ] || fail "sources missing from $src"
echo "vdpa-modules: unpacked in $(($(now_ms) - t)) ms"

t=$(now_ms)
B=$W/mod
mkdir -p "$B"
S=$W/src/$P/drivers
cp "$S/vdpa/vdpa.c" "$S/vdpa/vdpa_sim/"* "$S/vhost/vringh.c" "$S/vhost/vhost.h" "$B/"
cp "$S/vhost/vdpa.c" "$B/vhost_vdpa_main.c" # vdpa.c is the bus already
cat >"$B/Kbuild" <<'EOF'
obj-m += vringh.o vdpa.o vdpa_sim.o vdpa_sim_net.o vhost_vdpa.o
vhost_vdpa-y := vhost_vdpa_main.o
EOF
timeout 600 make -C "$H" M="$B" -j"$(nproc)" CONFIG_VDPA=m CONFIG_VHOST_RING=m \
	CONFIG_VDPA_SIM=m CONFIG_VDPA_SIM_NET=m CONFIG_VHOST_VDPA=m modules \
	>"$W/build.log" 2>&1 || {
	tail -15 "$W/build.log" | sed 's/^/    /'
	fail "make modules failed for $KVER"
}
for m in vringh vdpa vdpa_sim vdpa_sim_net vhost_vdpa; do
	[ -f "$B/$m.ko" ] || fail "$m.ko was not built"
	strip --strip-debug -o "$OUT/$m.ko" "$B/$m.ko" || fail "strip $m.ko"
done
touch "$OUT/ready"
echo "vdpa-modules: built in $(($(now_ms) - t)) ms (total $(($(now_ms) - T0)) ms)"
