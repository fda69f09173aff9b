#!/usr/bin/env bash
# Builds damo and runs the whole test suite, then prints one summary line
# "N passed, N failed" over the test programs.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
[ -d "$build" ] || meson setup "$build" >/dev/null || exit 1
meson compile -C "$build" || exit 1
meson test -C "$build" --print-errorlogs
rc=$?
json="$build/meson-logs/testlog.json"
if [ -f "$json" ]; then
    pass=$(grep -c '"result": "OK"' "$json" || true)
    fail=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$json" || true)
    echo "$pass passed, $fail failed"
fi
exit $rc
