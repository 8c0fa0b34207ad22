#!/bin/sh
# Applies tmpfiles.d/virtbus.conf and sysusers.d/virtbus.conf to empty
# roots and checks what they made: every directory virtbusd --system uses,
# with its mode, and the guest user in group kvm (also when the host already
# has kvm, as Debian does) next to group libvirt.
# Usage: test-tmpfiles-sysusers.sh TMPFILES SYSUSERS QEMU_DRIVER_CPP   (exit 77: skipped)
set -eu
tmpfiles=$(readlink -f "$1")
sysusers=$(readlink -f "$2")
qemu_driver=$3
for tool in systemd-tmpfiles systemd-sysusers; do
    command -v $tool >/dev/null 2>&1 || { echo "$tool not found"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$tmp/t"
systemd-tmpfiles --create --root="$tmp/t" "$tmpfiles"
for entry in /etc/virtbus:755 /etc/virtbus/qemu:700 /etc/virtbus/qemu/autostart:700 \
    /run/virtbus:755 /run/virtbus/qemu:700 /var/log/virtbus:755 /var/log/virtbus/qemu:700 \
    /var/cache/virtbus:755 /var/cache/virtbus/qemu:700; do
    dir=${entry%:*}
    [ -d "$tmp/t$dir" ] || fail "$dir not created"
    mode=$(stat -c %a "$tmp/t$dir")
    [ "$mode" = "${entry#*:}" ] || fail "$dir has mode $mode, not ${entry#*:}"
done
# The QEMU driver's own system defaults, so that the two cannot drift apart.
defaults=$(sed -n 's/^ *c\.[a-zA-Z]*Dir = "\(\/[^"]*\)";.*/\1/p' "$qemu_driver")
[ -n "$defaults" ] || fail "no system directories found in $qemu_driver"
for dir in $defaults; do
    [ -d "$tmp/t$dir" ] || fail "$dir (QEMU driver default) is not in $tmpfiles"
done
echo "tmpfiles: ok"

for host in empty debian; do
    root="$tmp/s-$host"
    mkdir -p "$root/etc"
    [ $host = debian ] && echo "kvm:x:108:" >"$root/etc/group"
    systemd-sysusers --root="$root" "$sysusers" >/dev/null 2>&1
    getent() { grep "^$2:" "$root/etc/$1" || fail "$2 not in $host /etc/$1"; }
    user=$(getent passwd virtbus-qemu)
    uid=$(echo "$user" | cut -d: -f3)
    [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || fail "virtbus-qemu is not a system user: $user"
    echo "$user" | grep -q ':/usr/sbin/nologin$' || fail "virtbus-qemu may log in: $user"
    getent group virtbus-qemu >/dev/null
    getent group libvirt >/dev/null
    kvm=$(getent group kvm)
    echo "$kvm" | grep -Eq '[:,]virtbus-qemu(,|$)' || fail "virtbus-qemu not in kvm: $kvm"
    [ $host = empty ] || [ "$kvm" = "kvm:x:108:virtbus-qemu" ] || fail "kvm changed: $kvm"
    echo "sysusers ($host root): ok"
done
