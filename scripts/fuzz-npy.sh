#!/usr/bin/env bash
# Fuzzes the .npy reader (npy_parse, the code behind npy_load) with
# libFuzzer, ASan and UBSan for the given seconds (default 600), starting
# from tests/data/*.npy. Ends with one line "fuzz-npy: N inputs, C crashes";
# a crashing input is kept (its path is printed) and the status is 1.
# Needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev).
# FUZZ_DIR keeps the corpus, binary and logs there instead of a scratch
# directory that is removed after a clean run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
secs=${1:-600}
cc=${CC_FUZZ:-clang}
work=${FUZZ_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/damo-fuzz-npy.XXXXXX")} || exit 1
keep=${FUZZ_DIR:+1}
trap '[ -n "$keep" ] || rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/crashes" || exit 1
cp tests/data/*.npy "$work/corpus/" || exit 1

# Only the sources npy.c needs, so that no OpenCL is linked.
if ! "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Iinclude -Isrc \
        tests/fuzz_npy.c src/api/npy.c src/common/err.c src/common/dtype.c \
        src/common/strbuf.c -lm -o "$work/fuzz_npy" 2>"$work/build.log"; then
    cat "$work/build.log" >&2
    if grep -qi 'fuzzer' "$work/build.log"; then
        echo "fuzz-npy: no libFuzzer for $cc; install clang and its runtime" \
             "(Debian: apt-get install clang libclang-rt-14-dev)" >&2
    fi
    exit 1
fi

# -timeout: an input taking seconds is a hang worth keeping, not a slow run.
"$work/fuzz_npy" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/" "$work/corpus" 2>&1 | tee "$work/fuzz.log"
rc=${PIPESTATUS[0]}

# The final stats are missing when a crash ends the run; the last progress
# line ("#N ...") then says how far it got.
runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$work/fuzz.log" | tail -1)
[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$work/fuzz.log" | tail -1)
crashes=$(find "$work/crashes" -type f | wc -l)
find "$work/crashes" -type f -exec echo "fuzz-npy: crashing input {}" \;
echo "fuzz-npy: ${runs:-0} inputs, $crashes crashes"
if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    keep=1
    echo "fuzz-npy: kept $work" >&2
    exit 1
fi
