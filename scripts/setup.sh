#!/usr/bin/env bash
# Installs damo's build and run-time dependencies on Debian/Ubuntu:
# the OpenCL ICD loader and headers, PoCL (the CPU device), CLBlast, OpenBLAS (the
# host CBLAS for matrix products on CPU devices), meson,
# ninja, pkg-config and clinfo.
set -euo pipefail
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd \
    libclblast-dev libopenblas-dev meson ninja-build pkg-config clinfo gcc g++ >/dev/null
