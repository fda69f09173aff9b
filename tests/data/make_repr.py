#!/usr/bin/env python3
"""Prints the C table of repr cases pasted into tests/test_format.c.

Provenance only: the tests never run this. Every expected string is what
repr() gives in NumPy 2.4.6 with the default print options:

    python3 tests/data/make_repr.py > /tmp/cases.inc

Arrays listed with arange=True are built in the test as element i == i
(numpy.arange cast to the dtype), so the table does not spell them out.
"""
import numpy as np

CASES = [
    # the tutorial's sigmoid output
    np.array([[0.5, 0.7310585786300049], [0.2689414213699951, 0.11920292202211755]]),
    # 0-d
    np.array(34.0),
    np.array(0),
    np.array(1.5, np.float32),
    np.array(True),
    np.array(-7, np.int8),
    np.array(np.nan),
    np.array(-0.0),
    np.array(1e-5),
    np.array(2.0**-96, np.float32),  # rounds up to its shortest digits
    # 1-d floats: integral, fractional, negative, signed zero, maxprec cut
    np.array([1.0, 2.0, 3.0]),
    np.array([0.1, -2.5, 3.25]),
    np.array([-1.5, 2.25, -3.0]),
    np.array([-0.0, 0.0]),
    np.array([0.1000000001, 123.000000001, 1 / 3]),
    np.array([0.1, 0.2], np.float32),
    np.array([np.pi, -np.e, 100.0], np.float32),
    # non-finite values
    np.array([0.0, np.nan, np.inf, -np.inf]),
    np.array([np.nan, np.inf]),
    np.array([1e-5, 1.2345e-5, np.nan, -np.inf]),
    # exponent format and its thresholds
    np.array([1e-5, 1.0]),
    np.array([1e-4, 1.0]),
    np.array([1e16, 1.0]),
    np.array([1e8, 1.0]),
    np.array([99999999.0, 1.0]),
    np.array([1.0, 1000.0]),
    np.array([0.5, 1000.0]),
    np.array([1e-300, -1e300, 5e-324]),
    np.array([1e6, 1.0], np.float32),
    np.array([999999.0, 1.0], np.float32),
    # integers of every width, and bools
    np.array([1, -20, 300]),
    np.array([[1, 2], [-3, 40]], np.int32),
    np.array([-128, 0, 127], np.int8),
    np.array([-32768, 32767], np.int16),
    np.array([0, 255], np.uint8),
    np.array([0, 65535], np.uint16),
    np.array([0, 4294967295], np.uint32),
    np.array([-(2**63), 2**63 - 1]),
    np.array([0, 2**64 - 1], np.uint64),
    np.array([True, False, True]),
    np.array([[True], [False]]),
    # empty arrays
    np.zeros(0),
    np.zeros((0, 3), np.int32),
    np.zeros((2, 0), bool),
    # line wrapping, and a dtype= that moves to its own line
    np.linspace(0, 1, 12),
    np.arange(10, dtype=np.int32) * 1000,
    np.arange(17, dtype=np.int32) * 1000,
]

# Built in the test as element i == i: numpy.arange cast to the dtype.

ARANGE = [
    np.arange(24.0).reshape(2, 3, 4),
    np.arange(16.0).reshape(2, 2, 2, 2),
    np.arange(30, dtype=np.int64),
    np.arange(40, dtype=np.uint16).reshape(2, 20),
    np.arange(2000.0),  # summarised, with shape=
    np.arange(3000).reshape(30, 100),
    np.arange(1100, dtype=np.int16).reshape(11, 10, 10),
    np.arange(1001) != 0,
    np.arange(1200, dtype=np.float32).reshape(1200, 1),
]

CTYPE = {
    "bool": ("uint8_t", "DAMO_BOOL"), "int8": ("int8_t", "DAMO_INT8"),
    "int16": ("int16_t", "DAMO_INT16"), "int32": ("int32_t", "DAMO_INT32"),
    "int64": ("int64_t", "DAMO_INT64"), "uint8": ("uint8_t", "DAMO_UINT8"),
    "uint16": ("uint16_t", "DAMO_UINT16"), "uint32": ("uint32_t", "DAMO_UINT32"),
    "uint64": ("uint64_t", "DAMO_UINT64"), "float32": ("float", "DAMO_FLOAT32"),
    "float64": ("double", "DAMO_FLOAT64"),
}


def c_value(x, dtype):
    if dtype == "bool":
        return "1" if x else "0"
    if dtype.startswith("float"):
        if np.isnan(x):
            return "NAN"
        if np.isinf(x):
            return "-INFINITY" if x < 0 else "INFINITY"
        return repr(float(x)) if dtype == "float64" else str(np.float32(x)) + "f"
    if dtype == "int64" and x == -(2**63):
        return "INT64_MIN"
    if dtype == "uint64":
        return f"{int(x)}u"
    return str(int(x))


def c_string(s):
    lines = s.split("\n")
    out = []
    for i, line in enumerate(lines):
        esc = line.replace("\\", "\\\\").replace('"', '\\"')
        out.append('"' + esc + ("\\n" if i < len(lines) - 1 else "") + '"')
    return "\n     ".join(out)


def shape_init(a):
    return "{" + ", ".join(str(d) for d in a.shape) + "}" if a.ndim else "{0}"


def main():
    for i, a in enumerate(CASES):
        ctype, _ = CTYPE[a.dtype.name]
        vals = [c_value(x, a.dtype.name) for x in a.ravel()] or ["0"]
        line = f"static const {ctype} d{i}[] = {{"
        for k, v in enumerate(vals):
            word = v + ("," if k < len(vals) - 1 else "};")
            if len(line) + 1 + len(word) > 99:
                print(line)
                line = "    " + word
            else:
                line += ("" if line.endswith("{") else " ") + word
        print(line)
    print()
    print("static const repr_case cases[] = {")
    for i, a in enumerate(CASES):
        _, dt = CTYPE[a.dtype.name]
        print(f"    {{{dt}, {a.ndim}, {shape_init(a)}, d{i},\n     {c_string(repr(a))}}},")
    for a in ARANGE:
        _, dt = CTYPE[a.dtype.name]
        print(f"    {{{dt}, {a.ndim}, {shape_init(a)}, NULL,\n     {c_string(repr(a))}}},")
    print("};")


main()
