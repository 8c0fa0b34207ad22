#!/usr/bin/env bash
# Session bus activation for real: a private session-type bus whose service
# directory holds the session activation file (org.libvirt.session.service,
# installed as org.libvirt.service, Exec= pointed at the built virtbusd). A
# call to org.libvirt must start virtbusd --session and be answered.
# Usage: test-session-activation.sh SERVICE_FILE VIRTBUSD   (exit 77: skipped)
set -euo pipefail
service=$1
daemon=$(readlink -f "$2") # meson passes it relative to the build dir
command -v dbus-daemon >/dev/null || { echo "dbus-daemon not found"; exit 77; }

tmp=$(mktemp -d)
bus_pid=""
daemon_pid=""
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
    [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/services"
sed "s|^Exec=[^ ]*|Exec=$daemon|" "$service" >"$tmp/services/org.libvirt.service"
grep -qx "Exec=$daemon --session" "$tmp/services/org.libvirt.service"

cat >"$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$tmp/session_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$tmp/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF

# The activated daemon inherits this environment: its QEMU connection keeps
# its files here, not in the user's home.
for kind in CONFIG STATE LOG CACHE; do
    export "VIRTBUS_QEMU_${kind}_DIR=$tmp/qemu/${kind,,}"
done
export DBUS_SESSION_BUS_ADDRESS="unix:path=$tmp/session_bus_socket"
{ read -r _ && read -r bus_pid; } < <(dbus-daemon --config-file="$tmp/bus.conf" --fork \
    --print-address=1 --print-pid=1 2>"$tmp/bus.log") || true
[ -n "$bus_pid" ] || { echo "cannot start the bus"; exit 1; }

busctl --user status org.libvirt >/dev/null 2>&1 && { echo "org.libvirt owned before activation"; exit 1; }
reply=$(timeout 20 busctl --user --timeout=15 get-property org.libvirt /org/libvirt/Test \
    org.libvirt.Connect Encrypted) || { cat "$tmp/bus.log"; exit 1; }
echo "activated call: Encrypted = $reply"
[ "$reply" = "b false" ]
daemon_pid=$(busctl --user call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
    GetConnectionUnixProcessID s org.libvirt | awk '{print $2}')
args=$(tr '\0' ' ' <"/proc/$daemon_pid/cmdline")
echo "activated: $args"
[ "$args" = "$daemon --session " ]
