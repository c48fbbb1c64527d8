#!/usr/bin/env bash
# scripts/deps.sh - install the Debian 12 packages that libvhost's build, tests
# and demo need. Idempotent: when every package is already installed it only
# checks (dpkg-query) and prints one line; otherwise it runs `apt-get update`
# once and installs the missing ones, with the apt output in a log file.
#
#   scripts/deps.sh           install what is missing (as root, or through sudo)
#   scripts/deps.sh --check   only report; exit 1 when something is missing
#   scripts/deps.sh --list    print the package list, one a line
#
# Env: VH_DEPS_LOG (default /tmp/libvhost-deps.log).
set -euo pipefail

# One line per purpose, so a reader knows why each package is here.
PKGS=(
	meson ninja-build gcc libc6-dev pkg-config # the build
	libcmocka-dev                              # unit tests
	clang llvm libclang-rt-14-dev              # clang build, ASan/UBSan/libFuzzer runtimes
	clang-format                               # the formatting check
	liburing-dev                               # io_uring for device back-ends
	python3                                    # test scripts read meson's and the probe's JSON
	qemu-system-common                         # qemu-storage-daemon: a real vhost-user-blk back-end
	dpdk-dev                                   # dpdk-testpmd: a real vhost-user net back-end
	qemu-system-x86 cpio kmod gzip xz-utils    # TCG guests: kernel vhost tests, QEMU front-ends
	make binutils linux-libc-dev               # static in-guest test binary, out-of-tree vdpa modules
)

LOG=${VH_DEPS_LOG:-/tmp/libvhost-deps.log}
MODE=install
case "${1:-}" in
--check) MODE=check ;;
--list)
	printf '%s\n' "${PKGS[@]}"
	exit 0
	;;
"") ;;
*)
	echo "usage: $0 [--check|--list]" >&2
	exit 2
	;;
esac

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ $MODE = check ]; then
	echo "deps: missing ${#missing[@]}: ${missing[*]}"
	exit 1
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps: missing ${missing[*]}; run as root (or install sudo)" >&2
		exit 1
	}
	SUDO=(sudo)
fi

t0=$(date +%s)
echo "deps: installing ${#missing[@]} package(s): ${missing[*]} (log: $LOG)"
# Wait for a concurrent apt/dpkg (e.g. unattended-upgrades on a fresh machine)
# rather than failing on the lock.
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
	-o DPkg::Lock::Timeout=300)
{
	echo "=== $(date -u) apt-get update"
	"${APT[@]}" update
	echo "=== $(date -u) apt-get install ${missing[*]}"
	"${APT[@]}" install --no-install-recommends "${missing[@]}"
} >>"$LOG" 2>&1 || {
	tail -n 30 "$LOG" >&2
	echo "deps: FAILED to install ${missing[*]} (see $LOG)" >&2
	exit 1
}

# Trust dpkg, not apt's exit code alone.
still=()
for p in "${missing[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
	echo "deps: FAILED, still missing: ${still[*]} (see $LOG)" >&2
	exit 1
fi
echo "deps: installed ${#missing[@]} package(s) in $(($(date +%s) - t0)) s"
