#!/bin/sh
# What `meson install` puts where. First a real install of this build into a
# temporary DESTDIR: every file at its expected path, the activation files
# and units naming the installed binary. Then the layout Debian expects: a
# configuration with --prefix=/usr (not built) and the paths it would install
# to, systemd's directories as systemd.pc gives them.
# Usage: test-install.sh MESON BUILDDIR SOURCEDIR VIRTBUSD_PATH OTHER_PATH...
set -eu
meson=$1
build=$2
src=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"
    exit 1
}
echo "installed:"
(cd "$tmp/root" && find . -type f | sed 's/^\./  /' | sort)
daemon=$1
prefix=${daemon%/*/virtbusd}
for path in "$@"; do
    [ -f "$tmp/root$path" ] || fail "$path not installed"
done
outside=$(cd "$tmp/root" && find . -type f | sed 's/^\.//' | grep -v "^$prefix/") && fail "installed outside $prefix: $outside"
for path in "$@"; do
    case $path in
    */system-services/org.libvirt.service) grep -qx "Exec=$daemon --system" "$tmp/root$path" ;;
    */services/org.libvirt.service) grep -qx "Exec=$daemon --session" "$tmp/root$path" ;;
    */user/virtbusd.service) grep -qx "ExecStart=$daemon --session" "$tmp/root$path" ;;
    */virtbusd.service) grep -qx "ExecStart=$daemon --system" "$tmp/root$path" ;;
    *) true ;;
    esac || fail "$path does not start $daemon the right way"
done
echo "install into DESTDIR: ok"

"$meson" setup --prefix=/usr -Dtests=false "$tmp/usr" "$src" >"$tmp/setup.log" 2>&1 || {
    cat "$tmp/setup.log"
    exit 1
}
"$meson" introspect --installed "$tmp/usr" >"$tmp/installed.json"
pc() { pkg-config --variable="$1" systemd 2>/dev/null || true; }
unitdir=$(pc systemdsystemunitdir)
userunitdir=$(pc systemduserunitdir)
tmpfilesdir=$(pc tmpfilesdir)
sysusersdir=$(pc sysusersdir)
for path in /usr/sbin/virtbusd \
    "${unitdir:-/usr/lib/systemd/system}/virtbusd.service" \
    "${userunitdir:-/usr/lib/systemd/user}/virtbusd.service" \
    "${tmpfilesdir:-/usr/lib/tmpfiles.d}/virtbus.conf" \
    "${sysusersdir:-/usr/lib/sysusers.d}/virtbus.conf" \
    /usr/share/dbus-1/system.d/org.libvirt.conf \
    /usr/share/dbus-1/system-services/org.libvirt.service \
    /usr/share/dbus-1/services/org.libvirt.service; do
    grep -qF "\"$path\"" "$tmp/installed.json" || fail "--prefix=/usr does not install $path"
    echo "  --prefix=/usr: $path"
done
echo "Debian layout: ok"
