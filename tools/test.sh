#!/usr/bin/env bash
# Builds virtbus (tools/setup.sh) and runs every test: all meson suites in
# build/ and, when clang is there, the fuzzers for a bounded time.
# The last line is always 'N passed, N failed', counting test cases (see
# tools/test-summary.py); the exit status is non-zero when anything failed.
#
# Arguments go to meson test (tools/test.sh --suite unit); the fuzzers run
# only when there are none.
#
# Environment:
#   VIRTBUS_JOBS          build jobs and parallel tests (default 2)
#   VIRTBUS_FUZZ_SECONDS  time of the domain fuzzer, a third of it for each
#                         other one (default 30; 0 skips the fuzzers)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH" # Debian's python3, see setup.sh

jobs="${VIRTBUS_JOBS:-2}"
builddir="${VIRTBUS_BUILD:-build}"
fuzzdir="${VIRTBUS_FUZZ_BUILD:-build-fuzz}"
fuzz_seconds="${VIRTBUS_FUZZ_SECONDS:-30}"

if ! tools/setup.sh; then
    echo "test: setup or build failed, no test ran"
    echo "0 passed, 1 failed"
    exit 1
fi

testlog="$builddir/meson-logs/testlog.json"
rm -f "$testlog"
meson test -C "$builddir" --no-rebuild --print-errorlogs --num-processes "$jobs" "$@"
meson_rc=$?

extra=()

# The fuzzers (tests/fuzz/meson.build, fuzz_<format>[_xml].cpp): built with
# clang in build-fuzz/, only they and what they need, then each run for a
# bounded time. New inputs go to build-fuzz/corpus/<format>, crash files to
# build-fuzz/artifacts/; the committed seeds in tests/fuzz/corpus/<format>
# are only read.
fuzz_names=()
for src in tests/fuzz/fuzz_*.cpp; do
    [ -f "$src" ] || continue
    src=${src#tests/fuzz/}
    fuzz_names+=("${src%.cpp}")
done

run_fuzzers() {
    if [ ${#fuzz_names[@]} -eq 0 ]; then
        return
    fi
    if ! command -v clang++ >/dev/null; then
        echo "fuzz: clang++ not found, fuzzers skipped"
        extra+=("fuzz=SKIP")
        return
    fi
    if [ ! -f "$fuzzdir/build.ninja" ]; then
        # werror stays with the gcc build; a second compiler's extra
        # warnings must not stop fuzzing.
        local setup_log
        setup_log=$(mktemp)
        rm -rf "$fuzzdir"
        if ! CXX=clang++ meson setup "$fuzzdir" -Dfuzz=true -Dwerror=false \
            -Db_sanitize=address -Db_lundef=false -Dcpp_args=-fsanitize=fuzzer-no-link \
            >"$setup_log" 2>&1; then
            tail -n 30 "$setup_log"
            rm -f "$setup_log"
            echo "fuzz: cannot configure $fuzzdir"
            extra+=("fuzz=FAIL")
            return
        fi
        rm -f "$setup_log"
    fi
    local targets=()
    for name in "${fuzz_names[@]}"; do
        targets+=("tests/fuzz/$name")
    done
    if ! ninja -C "$fuzzdir" -j "$jobs" "${targets[@]}"; then
        echo "fuzz: cannot build the fuzzers"
        extra+=("fuzz=FAIL")
        return
    fi
    for name in "${fuzz_names[@]}"; do
        run_fuzzer "$name"
    done
}

# The domain format is the largest; it gets the full time, the others a third.
run_fuzzer() {
    local name=$1
    local format=${name#fuzz_}
    format=${format%_xml}
    local seconds=$fuzz_seconds
    [ "$format" = domain ] || seconds=$(( (fuzz_seconds + 2) / 3 ))
    local log="$fuzzdir/$name.log"
    local dirs=("$fuzzdir/corpus/$format")
    mkdir -p "$fuzzdir/corpus/$format" "$fuzzdir/artifacts"
    [ -d "tests/fuzz/corpus/$format" ] && dirs+=("tests/fuzz/corpus/$format")
    echo "fuzz: $name for ${seconds}s (log: $log)"
    if ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" "$fuzzdir/tests/fuzz/$name" \
        -max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 \
        -artifact_prefix="$fuzzdir/artifacts/$name-" -print_final_stats=1 \
        "${dirs[@]}" >"$log" 2>&1 </dev/null; then
        grep -E '^stat::number_of_executed_units' "$log" | sed "s/^/fuzz: $name: /" || true
        extra+=("$name=PASS")
    else
        tail -n 60 "$log"
        echo "fuzz: $name failed; reproduce with: $fuzzdir/tests/fuzz/$name $fuzzdir/artifacts/$name-<file>"
        extra+=("$name=FAIL")
    fi
}

if [ $# -eq 0 ] && [ "$fuzz_seconds" != 0 ]; then
    run_fuzzers
fi

python3 tools/test-summary.py --meson-rc "$meson_rc" "$testlog" \
    ${extra[@]+"${extra[@]/#/--extra=}"}
summary_rc=$?
if [ "$meson_rc" -ne 0 ] || [ "$summary_rc" -ne 0 ]; then
    exit 1
fi
exit 0
