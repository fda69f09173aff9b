#!/usr/bin/env python3
"""Writes the .npy reference files that tests/test_npy.c reads.

Provenance only: the tests never run this (the library and its tests need
no Python); the generated files are committed beside it. Made with
NumPy 2.4.6 on little-endian x86-64:

    python3 tests/data/make_npy.py

The values below are repeated as constants in tests/test_npy.c; change
both together.
"""
import os

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def save(name, arr):
    np.save(path(name), arr)


def save_version(name, arr, version):
    with open(path(name), "wb") as f:
        npformat.write_array(f, arr, version=version)


def patched(src, name, edit):
    """Copies src to name, passing its bytes through edit()."""
    with open(path(src), "rb") as f:
        data = bytearray(f.read())
    with open(path(name), "wb") as f:
        f.write(edit(data))


# One 1-d file per dtype, with each type's extremes.
save("bool_1d.npy", np.array([True, False, True, True, False]))
save("i1_1d.npy", np.array([-128, -1, 0, 1, 127], np.int8))
save("i2_1d.npy", np.array([-32768, -2, 0, 3, 32767], np.int16))
save("i4_1d.npy", np.array([-2147483648, -5, 0, 7, 2147483647], np.int32))
save("i8_1d.npy", np.array([-(2**63), -9, 0, 11, 2**63 - 1], np.int64))
save("u1_1d.npy", np.array([0, 1, 128, 255], np.uint8))
save("u2_1d.npy", np.array([0, 1, 32768, 65535], np.uint16))
save("u4_1d.npy", np.array([0, 1, 2**31, 2**32 - 1], np.uint32))
save("u8_1d.npy", np.array([0, 1, 2**63, 2**64 - 1], np.uint64))
save("f4_1d.npy", np.array([0.0, -1.5, np.pi, np.inf, -np.inf, np.nan,
                            1e-45, 3.4028235e38], np.float32))
save("f8_1d.npy", np.array([0.0, -0.0, 0.1, -2.5, 1e300, 5e-324,
                            np.inf, np.nan]))

# Ranks 0, 2 and 3, and an empty array.
save("f8_0d.npy", np.array(34.0))
save("i4_0d.npy", np.array(-7, np.int32))
save("i8_2x3.npy", np.arange(6, dtype=np.int64).reshape(2, 3))
save("f4_2x3x4.npy", np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 4)
save("u1_2x1x3.npy", np.array([[[1, 2, 3]], [[4, 5, 6]]], np.uint8))
save("f8_0x3.npy", np.zeros((0, 3)))

# Bytes other than 0 and 1 in a bool array (NumPy keeps them as they are).
save("bool_raw.npy", np.array([0, 1, 2, 255], np.uint8).view(np.bool_))

# Fortran order: the C-order values are 0, 1, 2, ... in both.
save("f8_fortran_3x4.npy",
     np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4)))
save("i2_fortran_2x3x4.npy",
     np.asfortranarray(np.arange(24, dtype=np.int16).reshape(2, 3, 4)))

# Format versions 2.0 and 3.0 (4-byte header length).
save_version("f8_v2.npy", np.arange(5, dtype=np.float64), (2, 0))
save_version("u2_v3.npy", np.array([[1, 2], [3, 65535]], np.uint16), (3, 0))

# Files damo must refuse.
save("err_bigendian.npy", np.arange(3, dtype=">f8"))
save("err_complex.npy", np.array([1 + 2j, 3 - 4j]))
save("err_float16.npy", np.array([1.0, 2.0], np.float16))
save("err_unicode.npy", np.array(["ab", "c"]))
save("err_structured.npy", np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]))
save("err_9d.npy", np.zeros((1,) * 9))
save("err_base.npy", np.arange(10, dtype=np.float64))
patched("err_base.npy", "err_truncated.npy", lambda d: d[:-5])
patched("err_base.npy", "err_badmagic.npy", lambda d: b"X" + d[1:])
patched("err_base.npy", "err_version.npy", lambda d: d[:6] + b"\x04\x00" + d[8:])
patched("err_base.npy", "err_hlen.npy", lambda d: d[:8] + b"\xff\xff" + d[10:])
os.remove(path("err_base.npy"))
