#!/bin/busybox sh
# tests/guest/init.sh - /init of the test guest built by tests/guest/run.sh.
# Loads the modules listed in /modules/order, builds the LIO target the
# vhost-scsi test needs, runs /bin/vht once per test named in /etc/vht.conf
# (each under a timeout) and powers off. Every line the host reads starts
# with VHT-.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
. /etc/vht.conf
up() { cut -d' ' -f1 /proc/uptime; }
echo "VHT-BOOTED $(up)"

for m in $(cat /modules/order); do
	insmod "/modules/$m" || echo "VHT-LOG insmod $m failed"
done
mount -t configfs none /sys/kernel/config 2>/dev/null
echo "VHT-LOG modules loaded at $(up) s: $(ls /dev | grep -E '^vhost|^net$' | tr '\n' ' ')"

# LIO: a fileio backstore on a tmpfs file with a known pattern, exported
# through the vhost fabric as $WWPN/tpgt_$TPGT/lun_0.
lio_setup() {
	C=/sys/kernel/config/target
	BS=$C/core/fileio_0/disk0
	TPG=$C/vhost/$WWPN/tpgt_$TPGT
	/bin/vht mkimg /tmp/disk.img &&
		mkdir -p "$BS" &&
		echo "fd_dev_name=/tmp/disk.img,fd_dev_size=8388608" >"$BS/control" &&
		echo 1 >"$BS/enable" &&
		mkdir -p "$TPG/lun/lun_0" &&
		echo "$NEXUS" >"$TPG/nexus" &&
		ln -s "$BS" "$TPG/lun/lun_0/vs_port"
}

run() {
	name=$1
	shift
	t0=$(up)
	timeout -s KILL "$TEST_TIMEOUT" /bin/vht "$@"
	echo "VHT-EXIT $name $? $t0 $(up)"
}

for t in $TESTS; do
	case $t in
	scsi)
		if lio_setup; then
			run scsi scsi /tmp/disk.img "$WWPN" "$TPGT"
		else
			echo "VHT-RESULT FAIL scsi the LIO target could not be set up in configfs"
		fi
		;;
	vdpa)
		if [ -n "$VDPA_SKIP" ]; then
			echo "VHT-RESULT SKIP vdpa $VDPA_SKIP"
		else
			run vdpa vdpa
		fi
		;;
	*) run "$t" "$t" ;;
	esac
done
echo "VHT-DONE $(up)"
dmesg | grep -E 'vhost|vdpa|BUG:|Oops|Call Trace|WARNING:' | tail -40 | sed 's/^/VHT-DMESG /'
poweroff -f
