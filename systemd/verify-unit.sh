#!/bin/sh
# Checks the generated unit with systemd-analyze verify. The unit names the
# installed binary, which need not exist yet, so the check runs on a copy
# whose ExecStart names the built one.
# Usage: verify-unit.sh UNIT VIRTBUSD   (exit 77: skipped)
set -eu
unit=$1
daemon=$(readlink -f "$2") # meson passes it relative to the build dir
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not found"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
name=$(basename "$unit")
sed "s|^ExecStart=[^ ]*|ExecStart=$daemon|" "$unit" >"$tmp/$name"
grep -q "^ExecStart=$daemon " "$tmp/$name"
out=$(systemd-analyze verify --man=no "$tmp/$name" 2>&1) || {
    echo "$out"
    exit 1
}
# verify prints problems it does not fail on; none of them is about this unit.
if printf '%s\n' "$out" | grep -F "$name"; then
    exit 1
fi
echo "$name: ok"
