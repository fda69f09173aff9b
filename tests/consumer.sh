#!/bin/sh
# Installs the build into a scratch prefix, then builds and runs a C and a
# C++ program against it with nothing but `pkg-config --cflags --libs damo`.
set -eu
build=$1
src=$2
# A sanitized library needs its consumers built with the same sanitizers.
san=""
[ "${3:-none}" = none ] || san="-fsanitize=$3"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet
pc=$(find "$dest" -name damo.pc | head -n 1)
lib=$(find "$dest" -name 'libdamo.so' | head -n 1)
[ -n "$pc" ] && [ -n "$lib" ] || { echo "damo.pc or libdamo.so not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs damo)
${CC:-cc} -std=c11 -Wall -Wextra -Werror $san "$src/consumer.c" $flags -o "$dest/consumer_c"
LD_LIBRARY_PATH="$(dirname "$lib")" "$dest/consumer_c"
${CXX:-c++} -std=c++11 -Wall -Wextra -Werror $san "$src/consumer.cpp" $flags -o "$dest/consumer_cpp"
LD_LIBRARY_PATH="$(dirname "$lib")" "$dest/consumer_cpp"
echo "2 passed, 0 failed"
