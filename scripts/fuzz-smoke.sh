#!/bin/sh
# fuzz-smoke.sh: runs every libFuzzer target of a fuzz build for a bounded time, one after the other,
# each on its committed corpus (fuzz/corpus/<target>), and fails on the first crash, leak, UB report,
# timeout or out-of-memory.
#
#   scripts/fuzz-smoke.sh <build dir>            # 5 s per target (what `make test` runs)
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh <dir>  # longer runs (what `make fuzz` runs)
#
# New corpus entries, logs and crash artifacts go to a scratch directory, never into the repository:
# FUZZ_OUT when set (kept, and reused by the next run, which then starts from what this one found),
# else a new mktemp directory, removed when every target passed. Copy a crashing input into
# fuzz/corpus/<target>/ by hand once the bug it found is fixed.
# Environment: FUZZ_SECONDS (default 5), FUZZ_OUT, FUZZ_TARGETS (space-separated names, default all),
# FUZZ_ARGS (extra libFuzzer flags).
set -eu

build=${1:?usage: scripts/fuzz-smoke.sh <fuzz build dir>}
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-5}
if [ -n "${FUZZ_OUT:-}" ]; then
    out=$FUZZ_OUT
    keep=1
else
    out=$(mktemp -d "${TMPDIR:-/tmp}/iamd-fuzz.XXXXXX")
    keep=0
fi
mkdir -p "$out"

if [ -n "${FUZZ_TARGETS:-}" ]; then
    targets=$FUZZ_TARGETS
else
    targets=$(for source in "$root"/fuzz/fuzz_*.c; do basename "$source" .c; done)
fi

# Leaks fail like crashes; UBSan reports are fatal (the build uses -fno-sanitize-recover).
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

status=0
for target in $targets; do
    binary="$build/$target"
    if [ ! -x "$binary" ]; then
        echo "fuzz-smoke: $binary is missing (build the fuzz targets first)" >&2
        [ "$keep" -eq 1 ] || rm -rf "$out"
        exit 2
    fi
    mkdir -p "$out/$target/new" "$out/$target/artifacts"
    mkdir -p "$root/fuzz/corpus/$target"
    log="$out/$target/log"
    # -max_total_time bounds the run; -timeout and -rss_limit_mb turn a hang or a memory blow-up into a finding.
    # shellcheck disable=SC2086
    if "$binary" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=5 -print_final_stats=1 \
        -artifact_prefix="$out/$target/artifacts/" ${FUZZ_ARGS:-} \
        "$out/$target/new" "$root/fuzz/corpus/$target" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        echo "fuzz-smoke: $target: ok, ${runs:-?} executions in ${seconds}s"
    else
        status=1
        echo "fuzz-smoke: $target: FAILED (log $log, inputs in $out/$target/artifacts/)" >&2
        grep -E 'ERROR|invariant failed|SUMMARY|Test unit written' "$log" >&2 || tail -n 20 "$log" >&2
    fi
done
if [ "$status" -eq 0 ] && [ "$keep" -eq 0 ]; then
    rm -rf "$out" # a scratch directory of our own, with nothing to look at
else
    echo "fuzz-smoke: scratch corpus, logs and artifacts in $out"
fi
exit $status
