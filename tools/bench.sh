#!/usr/bin/env bash
# Builds virtbus optimized (buildtype release, in its own build-release/ so
# the debug tree in build/ is left alone) and runs tests/bench/virtbus-bench:
# virtbusd side by side with a raw sd-bus echo server and, when installed,
# Debian's libvirt-dbus, on a private dbus-daemon. A full run (no arguments)
# replaces the results section of BENCHMARKS.md; a run with arguments (e.g.
# --quick) only prints, so a smoke test never overwrites real figures.
#
# Build prerequisites are the ones tools/setup.sh installs.
# Environment:
#   VIRTBUS_JOBS          parallel build jobs (default 2)
#   VIRTBUS_BENCH_BUILD   build directory (default build-release)
#   VIRTBUS_BENCH_INSTALL 0: do not try to install libvirt-dbus when missing
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${VIRTBUS_JOBS:-2}"
builddir="${VIRTBUS_BENCH_BUILD:-build-release}"

# libvirt-dbus is the comparison point, not a requirement: without it the
# bench still runs and says so in its report.
if [ ! -x /usr/sbin/libvirt-dbus ] && [ "${VIRTBUS_BENCH_INSTALL:-1}" = 1 ]; then
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
    echo "bench: installing libvirt-dbus for comparison"
    if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y update &&
           "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
               --no-install-recommends install libvirt-dbus; } >/dev/null 2>&1 </dev/null; then
        echo "bench: could not install libvirt-dbus; it will be skipped" >&2
    fi
fi

if [ ! -f "$builddir/build.ninja" ]; then
    # werror off: the figures must not depend on a release-only (-O3)
    # false-positive warning; build/ and CI keep -Werror.
    meson setup "$builddir" --buildtype=release -Dwerror=false -Dtests=true -Dfuzz=false
fi
# Only what the bench runs: the rest of the tree (tests) is not needed here.
ninja -C "$builddir" -j "$jobs" service/virtbusd tests/bench/echo_server tests/bench/virtbus-bench

bench="$builddir/tests/bench/virtbus-bench"
if [ $# -gt 0 ]; then
    exec "$bench" "$@"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bench" --output "$out"
python3 - "$out" BENCHMARKS.md <<'PY'
import sys
results, doc = sys.argv[1], sys.argv[2]
begin, end = "<!-- results:begin -->", "<!-- results:end -->"
text = open(doc).read()
i, j = text.index(begin) + len(begin), text.index(end)
open(doc, "w").write(text[:i] + "\n" + open(results).read().rstrip("\n") + "\n" + text[j:])
PY
echo "bench: results written to BENCHMARKS.md"
