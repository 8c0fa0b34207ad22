#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# build-guest.sh OUTDIR: the tiny Linux guest the end-to-end tests boot.
#
# Everything comes from the Debian archive, nothing else is fetched: the
# kernel package the linux-image-amd64 metapackage depends on (downloaded,
# unpacked, never installed) and the host's busybox-static. OUTDIR gets
#   vmlinux     the uncompressed ELF kernel; QEMU boots it through its PVH
#               entry, about twice as fast under TCG as the bzImage
#   bzImage     the package's vmlinuz, kept for comparison
#   initrd.img  busybox initramfs (newc): loads the modules, runs acpid so
#               the ACPI power button powers off, prints MARKER on ttyS0 on
#               every boot and idles
#   guest.stamp kernel version and recipe hash, written last: its presence
#               means the other files are complete
# A second run with the same kernel version and recipe does nothing.
#
# Needs: apt-get, apt-cache, dpkg-deb, tar, xz, busybox (busybox-static),
# flock. Root is not needed except for `apt-get update`, which runs only
# when the package lists cannot provide the kernel.
set -euo pipefail

MARKER="VIRTBUS-GUEST-READY"
# Load order matters: busybox insmod resolves no dependencies.
MODULES=(evdev button virtio_ring virtio virtio_pci_modern_dev
         virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover
         virtio_net)

die() { echo "build-guest: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
mkdir -p "$1"
out=$(cd "$1" && pwd)

# The recipe's identity is this file: editing the init or the module list
# must rebuild, even for the same kernel.
recipe=$(sha256sum "$0" | cut -c1-16)

stamp_ok() {  # $1 = kernel version
    [ -f "$out/guest.stamp" ] && [ -s "$out/vmlinux" ] && [ -s "$out/initrd.img" ] &&
        [ "$(cat "$out/guest.stamp")" = "$1 $recipe" ]
}

print_paths() {
    echo "kernel=$out/vmlinux"
    echo "bzimage=$out/bzImage"
    echo "initrd=$out/initrd.img"
    echo "version=$1"
}

apt_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else return 1
    fi
}

kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1
}

# apt-cache re-reads every package list (~1 s here, no pkgcache.bin); a
# stamp newer than all lists names the kernel they would name.
if [ -f "$out/guest.stamp" ] && [ -s "$out/vmlinux" ] && [ -s "$out/initrd.img" ] &&
   [ "$(cut -d' ' -f2 "$out/guest.stamp")" = "$recipe" ] && [ -d /var/lib/apt/lists ] &&
   [ -z "$(find /var/lib/apt/lists /etc/apt -newer "$out/guest.stamp" -print -quit 2>/dev/null)" ]; then
    print_paths "$(cut -d' ' -f1 "$out/guest.stamp")"
    exit 0
fi

pkg=$(kernel_package || true)
if [ -z "$pkg" ]; then
    # A fresh container has empty package lists; a cached guest still
    # serves when the lists cannot be refreshed (offline rerun).
    if ! apt_as_root apt-get -q update >/dev/null 2>&1 || [ -z "$(kernel_package || true)" ]; then
        if [ -f "$out/guest.stamp" ]; then
            echo "build-guest: cannot resolve linux-image-amd64, using the cached guest" >&2
            print_paths "$(cut -d' ' -f1 "$out/guest.stamp")"
            exit 0
        fi
        die "apt-cache cannot resolve linux-image-amd64 (no Debian package lists?)"
    fi
    pkg=$(kernel_package)
fi
kver=${pkg#linux-image-}

if stamp_ok "$kver"; then
    touch "$out/guest.stamp"  # back on the fast path above
    print_paths "$kver"
    exit 0
fi

# Two test runs may build at once; the second waits, then finds the stamp.
exec 9>"$out/.lock"
flock 9
if stamp_ok "$kver"; then
    print_paths "$kver"
    exit 0
fi

command -v busybox >/dev/null || die "busybox not found (install busybox-static)"
busybox_bin=$(command -v busybox)
# A dynamically linked busybox would need its libraries in the initramfs.
if ldd "$busybox_bin" >/dev/null 2>&1; then
    die "$busybox_bin is dynamically linked (install busybox-static)"
fi
command -v xz >/dev/null || die "xz not found (install xz-utils)"

work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir "$work/dl"

download() {
    # As root, apt drops to _apt for the download and warns that _apt
    # cannot write into a private temp dir; the sandbox buys nothing here.
    local opts=()
    [ "$(id -u)" -eq 0 ] && opts=(-o APT::Sandbox::User=root)
    (cd "$work/dl" && apt-get -q "${opts[@]}" download "$pkg" >/dev/null 2>"$work/apt.err")
}
if ! download; then
    apt_as_root apt-get -q update >/dev/null 2>&1 || true
    download || { cat "$work/apt.err" >&2; die "apt-get download $pkg failed"; }
fi
deb=$(ls "$work"/dl/*.deb)

# Only the kernel and a dozen modules out of ~4,900 files: a filtered tar
# pass writes ~10 MB instead of ~400 MB.
patterns=("./boot/vmlinuz-$kver" "./lib/modules/$kver/modules.builtin")
for m in "${MODULES[@]}"; do
    patterns+=("./lib/modules/$kver/kernel/*/$m.ko" "./lib/modules/$kver/kernel/*/$m.ko.xz")
done
mkdir "$work/pkg"
dpkg-deb --fsys-tarfile "$deb" |
    tar -x -C "$work/pkg" --wildcards "${patterns[@]}" 2>/dev/null ||
    true  # tar fails on patterns that match nothing (.ko vs .ko.xz); checked below
vmlinuz="$work/pkg/boot/vmlinuz-$kver"
[ -s "$vmlinuz" ] || die "no /boot/vmlinuz-$kver in $deb"

# The bzImage's payload is an XZ stream somewhere after the setup code:
# try each XZ magic until one decompresses to an ELF image (the same idea
# as the kernel's scripts/extract-vmlinux).
extract_vmlinux() {
    local off
    for off in $(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$1" | cut -d: -f1); do
        # xz stops reading at the end of the stream, so tail may die of
        # SIGPIPE: only xz's status counts.
        if { tail -c "+$((off + 1))" "$1" || true; } | xz -dc --single-stream >"$2" 2>/dev/null &&
           [ "$(head -c4 "$2")" = $'\x7fELF' ]; then
            return 0
        fi
    done
    return 1
}
extract_vmlinux "$vmlinuz" "$work/vmlinux" || die "no XZ-compressed ELF kernel inside $vmlinuz"

root="$work/root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,root,lib/modules,etc/acpi/PWRF,var/run,var/log}
cp "$busybox_bin" "$root/bin/busybox"

builtin="$work/pkg/lib/modules/$kver/modules.builtin"
loaded=" "
load_list=()
for m in "${MODULES[@]}"; do
    # The kernel build decides names with - or _ interchangeably.
    f=$(find "$work/pkg/lib/modules" -name "$m.ko" -o -name "$m.ko.xz" | head -n1)
    if [ -z "$f" ]; then
        if [ -f "$builtin" ] && grep -q "/$m.ko\$" "$builtin"; then
            loaded+="$m "
            continue
        fi
        die "module $m is neither in $pkg nor built in"
    fi
    case "$f" in
        *.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
        *) cp "$f" "$root/lib/modules/$m.ko" ;;
    esac
    # busybox insmod loads exactly what it is told, so every dependency must
    # come earlier in MODULES; a kernel update that adds one fails here, at
    # build time, instead of as a guest without virtio.
    deps=$(tr '\0' '\n' <"$root/lib/modules/$m.ko" | sed -n 's/^depends=//p' | head -n1)
    for d in ${deps//,/ }; do
        d=${d//-/_}
        case "$loaded" in *" $d "*) ;; *) die "module $m needs $d, which is not loaded before it" ;; esac
    done
    loaded+="$m "
    load_list+=("$m")
done

# Quoted here-document: the init's own $ stay literal; @MODULES@ and
# @MARKER@ are filled in below.
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node (making one needs mknod, hence
# root), so the kernel started us without stdio.
exec </dev/console >/dev/console 2>&1
for m in @MODULES@; do
    insmod /lib/modules/$m.ko || echo "init: insmod $m failed"
done
# PID 1 is this shell, so the handler must force the poweroff.
acpid -f -c /etc/acpi -l /var/log/acpid.log &
acpid_pid=$!
# A power button press reaches only readers that already hold its event
# device open: announce readiness only then, or a Shutdown sent right after
# the marker would be lost.
pwr=
for e in /sys/class/input/event*; do
    [ "$(cat "$e/device/name" 2>/dev/null)" = "Power Button" ] && pwr=/dev/input/${e##*/}
done
[ -n "$pwr" ] || echo "init: no ACPI power button"
i=0
while [ -n "$pwr" ] && [ $i -lt 500 ] &&
      ! ls -l "/proc/$acpid_pid/fd" 2>/dev/null | grep -q "$pwr\$"; do
    usleep 10000
    i=$((i + 1))
done
echo @MARKER@
# Networking only when the kernel command line asks, so other guests boot
# as before: virtbus.net=dhcp runs udhcpc on eth0 (each address printed by
# /etc/udhcpc.sh), virtbus.renew=N renews the lease every N s,
# virtbus.probe=HOST:PORT sends an HTTP GET there every second and prints
# the reply (or that it failed).
#
# virtbus.counter=1 prints VIRTBUS-GUEST-COUNT N every second (N lives in
# guest memory: a restored or reverted guest goes on from its saved N);
# virtbus.scribble=DEV also writes "VIRTBUS-COUNT N" to the start of
# /dev/DEV each time; virtbus.watch=1 prints VIRTBUS-GUEST-DEV-ADD/-DEL NAME
# when a block or network device appears or goes (hotplug);
# virtbus.shell=1 runs a shell on ttyS0 (commands typed into the serial
# console run; their output comes back on it) and prints each line typed
# on the keyboard (tty1) as VIRTBUS-GUEST-KEY LINE.
net= renew= probe= counter= scribble= watch= shell=
for arg in $(cat /proc/cmdline); do
    case $arg in
    virtbus.net=dhcp) net=1 ;;
    virtbus.renew=*) renew=${arg#virtbus.renew=} ;;
    virtbus.probe=*) probe=${arg#virtbus.probe=} ;;
    virtbus.counter=1) counter=1 ;;
    virtbus.scribble=*) scribble=${arg#virtbus.scribble=} ;;
    virtbus.watch=1) watch=1 ;;
    virtbus.shell=1) shell=1 ;;
    esac
done
[ -n "$counter" ] && n=0 && while :; do
    echo "VIRTBUS-GUEST-COUNT $n"
    [ -n "$scribble" ] && printf 'VIRTBUS-COUNT %s\n' "$n" | dd of="/dev/$scribble" conv=notrunc,fsync 2>/dev/null
    n=$((n + 1))
    sleep 1
done &
devices() { ls /sys/block /sys/class/net 2>/dev/null | grep -v -e ':$' -e '^$' -e '^lo$' | sort; }
[ -n "$watch" ] && old=$(devices) && while :; do
    usleep 300000
    new=$(devices)
    for d in $new; do echo "$old" | grep -qx "$d" || echo "VIRTBUS-GUEST-DEV-ADD $d"; done
    for d in $old; do echo "$new" | grep -qx "$d" || echo "VIRTBUS-GUEST-DEV-DEL $d"; done
    old=$new
done &
if [ -n "$shell" ]; then
    setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1' &
    (while read -r line; do echo "VIRTBUS-GUEST-KEY $line"; done </dev/tty1) &
fi
if [ -n "$net" ]; then
    ip link set lo up
    udhcpc -f -i eth0 -s /etc/udhcpc.sh -t 20 -T 1 -A 1 >/dev/null 2>&1 &
    dhcp_pid=$!
    [ -n "$renew" ] && while :; do sleep "$renew"; kill -USR1 $dhcp_pid; done &
    [ -n "$probe" ] && while :; do
        # nc, not wget: busybox's wget crashes without glibc's NSS modules.
        # timeout: a connect begun while eth0 was being configured can
        # outlive nc's own -w, and one hung probe would end the probing.
        r=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 nc -w 2 "${probe%:*}" "${probe#*:}" 2>/dev/null |
            tail -n 1)
        if [ -n "$r" ]; then
            echo "VIRTBUS-GUEST-PROBE $r"
        else
            echo "VIRTBUS-GUEST-PROBE-FAIL $probe"
        fi
        sleep 1
    done &
fi
while :; do sleep 3600; done
EOF
cat >"$root/etc/udhcpc.sh" <<'EOF'
#!/bin/sh
# udhcpc's hook: configure eth0 and tell the serial console.
case $1 in
deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    gw=${router%% *}
    [ -n "$gw" ] && ip route replace default via "$gw" dev "$interface"
    echo "VIRTBUS-GUEST-IP $interface $ip" >/dev/console
    [ -n "$gw" ] && (ping -c 1 -W 2 "$gw" >/dev/null 2>&1 && echo "VIRTBUS-GUEST-PING $gw ok" ||
        echo "VIRTBUS-GUEST-PING $gw fail") >/dev/console &
    ;;
esac
exit 0
EOF
sed -i -e "s|@MODULES@|${load_list[*]}|" -e "s|@MARKER@|$MARKER|" "$root/init"
chmod 755 "$root/init" "$root/etc/udhcpc.sh"

# busybox acpid maps the power button to PWRF/00000080 below its config dir.
cat >"$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
poweroff -f
EOF
chmod 755 "$root/etc/acpi/PWRF/00000080"

(cd "$root" && find . | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) >"$work/initrd.img"
[ -s "$work/initrd.img" ] || die "busybox cpio produced nothing"

rm -f "$out/guest.stamp"
mv -f "$work/vmlinux" "$out/vmlinux"
mv -f "$vmlinuz" "$out/bzImage"
mv -f "$work/initrd.img" "$out/initrd.img"
echo "$kver $recipe" >"$out/guest.stamp"
print_paths "$kver"
