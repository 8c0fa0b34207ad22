#!/bin/sh
# Checks the generated units with systemd-analyze verify, each for the
# manager it is installed for (system, or user for the session daemon). A
# unit names the installed binary, which need not exist yet, so the check
# runs on a copy whose ExecStart names the built one, under the name it is
# installed with.
# Usage: verify-unit.sh VIRTBUSD {system|user} UNIT...   (exit 77: skipped)
set -eu
daemon=$(readlink -f "$1") # meson passes it relative to the build dir
shift
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not found"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while [ $# -ge 2 ]; do
    manager=$1
    unit=$2
    shift 2
    mkdir "$tmp/$manager"
    name=$(basename "$unit" | sed 's/\.user\.service$/.service/')
    sed "s|^ExecStart=[^ ]*|ExecStart=$daemon|" "$unit" >"$tmp/$manager/$name"
    grep -q "^ExecStart=$daemon " "$tmp/$manager/$name"
    # A user manager need not run for this; verify only wants a runtime dir.
    [ "$manager" = user ] && export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$tmp}"
    out=$(systemd-analyze "--$manager" verify --man=no "$tmp/$manager/$name" 2>&1) || {
        echo "$out"
        exit 1
    }
    # verify prints problems it does not fail on; none may be about this unit.
    if printf '%s\n' "$out" | grep -F "$name"; then
        exit 1
    fi
    echo "$manager $name: ok"
done
[ $# -eq 0 ] || { echo "usage: verify-unit.sh VIRTBUSD {system|user} UNIT..."; exit 2; }
