#!/usr/bin/env bash
# Builds virtbus (tools/setup.sh) and serves org.libvirt on your session bus,
# in the foreground, until Ctrl-C. Extra arguments go to virtbusd
# (e.g. tools/run.sh --verbose).
#
# Without a reachable session bus (a fresh server, CI, a root shell over ssh)
# it starts a private one for the run, prints how to reach it, and stops it
# on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
true

builddir="${VIRTBUS_BUILD:-build}"
daemon="$builddir/service/virtbusd"

bus_ping() {
    dbus-send --session --dest=org.freedesktop.DBus --type=method_call --print-reply \
        /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null 2>&1
}

bus_pid=""
bus_dir=""
daemon_pid=""
cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    if [ -n "$bus_pid" ]; then
        kill -TERM "$bus_pid" 2>/dev/null || true
    fi
    if [ -n "$bus_dir" ]; then
        rm -rf "$bus_dir"
    fi
}
trap cleanup EXIT

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ -n "${XDG_RUNTIME_DIR:-}" ] &&
   [ -S "$XDG_RUNTIME_DIR/bus" ]; then
    export DBUS_SESSION_BUS_ADDRESS="unix:path=$XDG_RUNTIME_DIR/bus"
fi

if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && bus_ping; then
    echo "virtbus: serving org.libvirt on your session bus ($DBUS_SESSION_BUS_ADDRESS)"
    echo "virtbus: try: busctl --user tree org.libvirt"
else
    if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
        echo "virtbus: session bus $DBUS_SESSION_BUS_ADDRESS does not answer; starting a private one"
    fi
    bus_dir=$(mktemp -d "${TMPDIR:-/tmp}/virtbus-bus.XXXXXX")
    cat >"$bus_dir/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$bus_dir/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
    # Prints the address, then the pid, once the bus listens.
    { read -r address; read -r bus_pid; } < <(dbus-daemon --config-file="$bus_dir/session.conf" \
        --fork --print-address=1 --print-pid=1) || true
    if [ -z "${bus_pid:-}" ]; then
        echo "virtbus: cannot start a private session bus" >&2
        exit 1
    fi
    export DBUS_SESSION_BUS_ADDRESS="$address"
    cat <<MSG
virtbus: no session bus was reachable, so this run has its own (stopped on exit).
virtbus: to reach it from another shell:
    export DBUS_SESSION_BUS_ADDRESS=$address
    busctl --user tree org.libvirt
    busctl --user call org.libvirt /org/libvirt/Test org.libvirt.Connect ListDomains u 0
MSG
fi

# Background + wait, so Ctrl-C and SIGTERM reach the trap at once; the trap
# asks virtbusd to stop (it ends its loop on SIGTERM) and waits for it.
"$daemon" --session "$@" &
daemon_pid=$!
trap 'kill -TERM "$daemon_pid" 2>/dev/null || true' INT TERM
rc=0
while true; do
    wait "$daemon_pid" && rc=0 || rc=$?
    kill -0 "$daemon_pid" 2>/dev/null || break
done
daemon_pid=""
exit "$rc"
