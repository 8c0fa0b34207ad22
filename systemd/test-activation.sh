#!/usr/bin/env bash
# Runs the installed D-Bus files for real: a private system-type bus that
# reads the policy (org.libvirt.conf) and activates services from a directory
# holding the activation file (org.libvirt.service, Exec= pointed at the built
# virtbusd). A call to org.libvirt must start virtbusd and be answered; as
# root it also checks that another user may call org.libvirt but not own it.
# Usage: test-activation.sh POLICY SERVICE_FILE VIRTBUSD   (exit 77: skipped)
set -euo pipefail
policy=$1
service=$2
daemon=$(readlink -f "$3") # meson passes it relative to the build dir
command -v dbus-daemon >/dev/null || { echo "dbus-daemon not found"; exit 77; }

tmp=$(mktemp -d)
bus_pid=""
cleanup() {
    local p
    if [ -n "$bus_pid" ]; then
        p=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
            GetConnectionUnixProcessID s org.libvirt 2>/dev/null | awk '{print $2}') || true
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
        kill "$bus_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"
mkdir "$tmp/services" "$tmp/system.d"
cp "$policy" "$tmp/system.d/"
sed "s|^Exec=[^ ]*|Exec=$daemon|" "$service" >"$tmp/services/org.libvirt.service"
grep -q "^Exec=$daemon --system" "$tmp/services/org.libvirt.service"

# The default policy of Debian's system.conf: nobody owns names or sends
# method calls unless a policy file (ours) allows it.
cat >"$tmp/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$tmp/services</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <includedir>$tmp/system.d</includedir>
</busconfig>
CONF

export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/system_bus_socket"
{ read -r _ && read -r bus_pid; } < <(dbus-daemon --config-file="$tmp/bus.conf" --fork \
    --print-address=1 --print-pid=1) || true
[ -n "$bus_pid" ] || { echo "cannot start the bus"; exit 1; }

busctl --system status org.libvirt >/dev/null 2>&1 && { echo "org.libvirt owned before activation"; exit 1; }
reply=$(timeout 20 busctl --system --timeout=15 get-property org.libvirt /org/libvirt/Test \
    org.libvirt.Connect Encrypted)
echo "activated call: Encrypted = $reply"
[ "$reply" = "b false" ]

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    # The bus lets nobody call; virtbusd asks polkit, which this bus does not
    # run, so the answer is virtbusd's own refusal naming the action.
    reply=$("${as_nobody[@]}" dbus-send --system --print-reply --dest=org.libvirt /org/libvirt/Test \
        org.freedesktop.DBus.Properties.Get string:org.libvirt.Connect string:Encrypted 2>&1) || true
    echo "call as nobody: $reply"
    grep -q "AccessDenied: access denied: org.libvirt.api.connect.getattr" <<<"$reply"
    if "${as_nobody[@]}" busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus RequestName su org.libvirt 0 >"$tmp/own.out" 2>&1; then
        echo "nobody could request org.libvirt: $(cat "$tmp/own.out")"
        exit 1
    fi
    grep -Eq "Access denied|AccessDenied|not allowed to own" "$tmp/own.out" || { cat "$tmp/own.out"; exit 1; }
    echo "nobody may not own org.libvirt: ok"
fi
