#!/usr/bin/env bash
# Makes a Debian 12 machine ready to build, run and test virtbus, then
# configures and builds it in build/.
#
# Installs only the packages that are missing (apt-get update first, only
# then), so a second run does nothing but an incremental build. Works as root
# (CI) and through sudo otherwise.
#
# Environment:
#   VIRTBUS_JOBS   parallel build jobs (default 2: the project's machines
#                  have 2 cores)
#   VIRTBUS_BUILD  build directory (default build)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's python3 is the one python3-dbus and python3-gi belong to; a
# python3 earlier in PATH (pyenv, a venv) would make meson pick an
# interpreter the integration tests cannot import dbus from.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

jobs="${VIRTBUS_JOBS:-2}"
builddir="${VIRTBUS_BUILD:-build}"

packages=(
    # build
    g++ meson ninja-build pkg-config
    libsdbus-c++-dev libsdbus-c++-bin libsystemd-dev
    libxml2-dev libglib2.0-dev libpolkit-gobject-1-dev libgtest-dev
    # run: buses, authorization, the QEMU driver's host tools
    dbus dbus-daemon polkitd
    qemu-system-x86 qemu-utils dnsmasq-base nftables iproute2
    # the storage driver's host tools (sfdisk, mkfs, LVM)
    fdisk e2fsprogs lvm2
    # tests: clients, schemas, guest image, unit file checks
    python3-dbus python3-gi gir1.2-glib-2.0 libxml2-utils busybox-static
    xz-utils   # tests/e2e/build-guest.sh: the kernel inside Debian's vmlinuz
    libvirt0   # libvirt's RelaxNG schemas in /usr/share/libvirt/schemas
    systemd    # systemd-analyze verify for the unit file
    # fuzzing (tools/test.sh builds build-fuzz with clang)
    clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null; then
        as_root=(sudo)
    else
        echo "setup: missing packages (${missing[*]}) and not root, no sudo" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
         -o Dpkg::Use-Pty=0 -o APT::Color=0)
    if ! "${apt[@]}" update >"$log" 2>&1 ||
       ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >>"$log" 2>&1 </dev/null; then
        tail -n 40 "$log" >&2
        echo "setup: apt-get failed" >&2
        exit 1
    fi
fi

if [ ! -f "$builddir/build.ninja" ]; then
    if [ -f "$builddir/meson-private/coredata.dat" ]; then
        meson setup --reconfigure "$builddir"
    else
        meson setup "$builddir"
    fi
fi
ninja -C "$builddir" -j "$jobs"
