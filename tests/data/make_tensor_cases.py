#!/usr/bin/env python3
"""Writes tensor_reduce.txt, tensor_index.txt, tensor_shape.txt and
tensor_blas.txt: cases with NumPy's answers for tests/test_reduce.c,
tests/test_index.c, tests/test_shape.c and tests/test_blas.c.

Provenance only: the tests never run this (the library and its tests need
no Python); the generated files are committed beside it, and their first
lines record the command and the NumPy version that made them:

    python3 tests/data/make_tensor_cases.py          # seed 20250214

Format (all four files): blocks `case ID KIND` .. `end`, one item per line,
tokens separated by spaces. Lines of a block:

    array TAG DTYPE NDIM DIM... : V...     an array, C order
    array TAG DTYPE NDIM DIM... gen KIND P SEED
                                           an array the C test generates itself
                                           (splitmix64, see gen() below): the
                                           big inputs are not stored
    view TAG NDIM DIM... STRIDE... OFFSET  the argument is damo_array_strided_view
                                           of array TAG (strides and offset in
                                           elements; 0 strides broadcast)
    KEY V...                               a parameter (axes, keepdims, index, ...)
    tol V...                               per-element absolute tolerance of array
                                           `out` (floats only; 0 means equal)
    error                                  the call must fail (NumPy raises)

Values: integers exactly, bools 0/1, floats as Python's repr (the shortest
decimal that reads back to the same double: strtod); nan, inf, -inf spelled
out; float32 values are exact float32 numbers.

Where an expected value is inexact (float sums, means, variances, products,
dot products) the file holds NumPy's value and a tolerance that covers both
NumPy's own distance to the exact result (computed with fractions.Fraction
or math.fsum) and the error bound damo's documented algorithm may have (a
few units of the output dtype's epsilon times the magnitude of the terms,
see reduce_tol()). Integer, bool, max/min/arg*, all/any, shape and
indexing results are exact: tolerance 0.

Where damo's header documents a rule of its own, it is applied here and
asserted against NumPy (never skipped silently):
  - reductions' dtypes (checked equal to NumPy's for every case);
  - n_axes 0 reduces over every axis (NumPy's axis=() reduces over none:
    such cases are written as `axes all`);
  - arange's dtype is its arguments' promotion (int32 for int32 scalars,
    where NumPy 2.4 gives int64; Aesara's rule): `.astype(np.int32)`.
"""
import argparse
import math
import os
import random
import sys
import warnings
from fractions import Fraction

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20250214

GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB


def splitmix64(seed, n):
    """z_i for i = 0..n-1: state = seed + (i + 1) * GOLDEN, then the
    splitmix64 finaliser. The C tests implement the same."""
    with np.errstate(over="ignore"):
        i = np.arange(1, n + 1, dtype=np.uint64)
        z = np.uint64(seed) + i * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        z = z ^ (z >> np.uint64(31))
    return z


def gen(kind, p, seed, dtype, shape):
    """Generated values (the C tests' gen_values):
      u01    (z >> 11) * 2^-53, in [0, 1)
      mixed  ldexp(u01 - 0.5, (z & 31) - 16): both signs, magnitudes 2^-17..2^15
      int    z % p (bool: z % p != 0)
    converted to dtype as C converts (round to nearest for float32)."""
    n = int(np.prod(shape))
    z = splitmix64(seed, n)
    dt = np.dtype(dtype)
    if kind == "u01":
        v = (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    elif kind == "mixed":
        u = (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
        v = np.ldexp(u - 0.5, (z & np.uint64(31)).astype(np.int64) - 16)
    elif kind == "int":
        m = (z % np.uint64(p)).astype(np.int64)
        v = m != 0 if dt.kind == "b" else m
    else:
        raise ValueError(kind)
    return v.astype(dt).reshape(shape)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

def fmt_value(v, dt):
    if dt.kind == "b":
        return "1" if v else "0"
    if dt.kind in "iu":
        return str(int(v))
    return repr(float(v))


def fmt_dims(shape):
    return " ".join([str(len(shape))] + [str(int(d)) for d in shape])


def array_line(tag, a):
    a = np.asarray(a)
    vals = " ".join(fmt_value(v, a.dtype) for v in a.reshape(-1))
    return f"array {tag} {a.dtype.name} {fmt_dims(a.shape)} : {vals}".rstrip()


def gen_line(tag, dtype, shape, kind, p, seed):
    return f"array {tag} {np.dtype(dtype).name} {fmt_dims(shape)} gen {kind} {p} {seed}"


def tol_line(t):
    return "tol " + " ".join(repr(float(v)) for v in np.asarray(t, dtype=np.float64).reshape(-1))


def view_of(base, shape, strides, offset):
    """The strided view damo_array_strided_view makes, as a copy."""
    flat = base.reshape(-1)
    idx = np.full(shape, offset, dtype=np.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        sh = [1] * len(shape)
        sh[d] = n
        idx = idx + (np.arange(n, dtype=np.int64) * s).reshape(sh)
    assert idx.size == 0 or (idx.min() >= 0 and idx.max() < flat.size), "view outside base"
    return flat[idx]


def view_line(tag, shape, strides, offset):
    return f"view {tag} {len(shape)} " + " ".join(str(int(v)) for v in list(shape) + list(strides) + [offset])


def write_file(name, blocks, fmt_notes, coverage):
    cmd = "python3 tests/data/make_tensor_cases.py"
    header = [
        f"# Generated by: {cmd}",
        f"# NumPy {np.__version__}, Python {sys.version.split()[0]}",
        "# Do not edit: change the script and run it again.",
        "# Format: see the script's docstring; blocks `case ID KIND` .. `end`.",
    ] + ["# " + line for line in fmt_notes] + ["# " + line for line in coverage]
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(header) + "\n")
        for b in blocks:
            f.write("\n".join(b) + "\nend\n")


# ---------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------

RED_OPS = ["sum", "prod", "mean", "max", "min", "argmax", "argmin", "all", "any", "variance", "std"]
RED_DTYPES = ["bool", "int8", "int32", "int64", "uint8", "uint64", "float32", "float64"]
NP_RED = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "max": np.max, "min": np.min,
          "argmax": np.argmax, "argmin": np.argmin, "all": np.all, "any": np.any,
          "variance": np.var, "std": np.std}
AXIS_FORMS = ["all", "one", "several", "negative", "keepdims_one", "keepdims_all",
              "keepdims_several", "explicit_all"]
ARG_FORMS = ["none", "one", "negative", "keepdims_one", "keepdims_none"]


def header_dtype(op, t):
    """include/damo.h's rule for a reduction's dtype."""
    t = np.dtype(t)
    if op in ("sum", "prod"):
        if t.kind in "bi":
            return np.dtype("int64")
        if t.kind == "u":
            return np.dtype("uint64")
        return t
    if op in ("mean", "variance", "std"):
        return np.dtype("float64") if t.kind in "biu" else t
    if op in ("max", "min"):
        return t
    if op in ("argmax", "argmin"):
        return np.dtype("int64")
    return np.dtype("bool")


def np_reduce(op, x, axes, keepdims):
    """NumPy's answer; axes None means every axis (argmax: axis None)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if op in ("argmax", "argmin"):
            return np.asarray(NP_RED[op](x, axis=axes, keepdims=bool(keepdims)))
        ax = None if axes is None else tuple(axes)
        return np.asarray(NP_RED[op](x, axis=ax, keepdims=bool(keepdims)))


def groups(x, axes):
    """The reduced groups of x, one 1-d float64/int array per output element
    (C order of the output)."""
    nd = x.ndim
    red = list(range(nd)) if axes is None else sorted(a % nd for a in axes)
    keep = [d for d in range(nd) if d not in red]
    y = np.transpose(x, keep + red) if nd else x
    nk = int(np.prod([x.shape[d] for d in keep])) if keep else 1
    nr = int(np.prod([x.shape[d] for d in red])) if red else 1
    return y.reshape(nk, nr)


def spacing(v, dt):
    return float(np.spacing(dt.type(abs(v)))) if math.isfinite(v) else 0.0


def reduce_tol(op, x, axes, want):
    """Per-element tolerance of a float result (0 for exact ones): NumPy's
    distance to the exact value plus the bound damo's algorithm may reach."""
    out_dt = want.dtype
    if out_dt.kind != "f" or op in ("max", "min"):
        return None
    eps = float(np.finfo(out_dt).eps)
    g = groups(x, axes)
    tols = []
    for row, w in zip(g, want.reshape(-1)):
        w = float(w)
        vals = [float(v) for v in row]
        k = len(vals)
        if k == 0 or not math.isfinite(w) or not all(math.isfinite(v) for v in vals):
            tols.append(0.0)
            continue
        lg = math.log2(k) + 2
        fr = [Fraction(v) for v in vals]
        if op == "sum":
            exact = float(sum(fr))
            bound = 4 * eps * lg * sum(abs(v) for v in vals)
        elif op == "prod":
            p = Fraction(1)
            for f in fr:
                p *= f
            exact = float(p)
            bound = 4 * eps * (k + 1) * abs(exact)
        elif op == "mean":
            exact = float(sum(fr) / k)
            bound = 4 * eps * lg * sum(abs(v) for v in vals) / k
        else:
            m = sum(fr) / k
            var = sum((f - m) ** 2 for f in fr) / k
            vbound = 8 * eps * lg * float(var) + 4 * eps * eps * float(m) ** 2
            if op == "variance":
                exact, bound = float(var), vbound
            else:
                exact = math.sqrt(float(var))
                bound = (vbound / (2 * exact) + 2 * eps * exact) if exact > 0 else math.sqrt(vbound)
        t = abs(w - exact) + bound + 2 * spacing(exact, out_dt)
        tols.append(t)
    return np.array(tols)


def red_values(rng, op, dt, shape, nprng):
    """Random input values suited to op and dtype."""
    dt = np.dtype(dt)
    n = int(np.prod(shape))
    moderate = op in ("mean", "variance", "std")
    if dt.kind == "b":
        p = rng.choice([0.5, 0.9, 0.1])
        return (nprng.random(n) < p).reshape(shape)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if op in ("all", "any"):
            v = nprng.integers(0, 4, n) * (nprng.random(n) < 0.85)
            return v.astype(dt).reshape(shape)
        if moderate:
            lo, hi = (max(int(info.min), -1000), min(int(info.max), 1000))
        elif op in ("argmax", "argmin") and rng.random() < 0.5:
            lo, hi = 0, 4  # ties: the first occurrence wins
        else:
            lo, hi = int(info.min), int(info.max)
        if dt.itemsize == 8:
            v = [rng.randint(lo, hi) for _ in range(n)]
            return np.array(v, dtype=object).astype(dt).reshape(shape)
        return nprng.integers(lo, hi, n, endpoint=True).astype(dt).reshape(shape)
    if op == "prod":
        v = nprng.uniform(0.5, 1.6, n) * nprng.choice([-1, 1], n)
    elif op in ("all", "any"):
        v = nprng.normal(0, 3, n) * (nprng.random(n) < 0.85)
        v[nprng.random(n) < 0.05] = -0.0
    else:
        v = nprng.normal(0, 10, n)
    return v.astype(dt).reshape(shape)


class Reduce:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.blocks = []
        self.count = {}

    def case(self, group, op, x, axes, keepdims, static=False, base=None, view=None, gen=None,
             where=""):
        """One case: op over x (the view of `base` when given)."""
        cid = len(self.blocks)
        lines = [f"case {cid} {op}"]
        if where:
            lines.append(f"# {where}")
        if gen:
            lines.append(gen_line("x", *gen))
        elif base is not None:
            lines.append(array_line("x", base))
        else:
            lines.append(array_line("x", x))
        if view:
            lines.append(view_line("x", *view))
        if static:
            lines.append("static 1")
        if op in ("argmax", "argmin"):
            lines.append("axis none" if axes is None else f"axis {axes}")
        else:
            lines.append("axes all" if axes is None else "axes " + " ".join(str(a) for a in axes))
        lines.append(f"keepdims {int(keepdims)}")
        try:
            want = np_reduce(op, x, axes, keepdims)
        except ValueError:
            lines.append("error")
            self.blocks.append(lines)
            self.count[group] = self.count.get(group, 0) + 1
            return
        assert want.dtype == header_dtype(op, x.dtype), (op, x.dtype, want.dtype)
        lines.append(array_line("out", want))
        gaxes = None if axes is None else ([axes] if isinstance(axes, int) else axes)
        t = reduce_tol(op, x, gaxes, want)
        if t is not None:
            lines.append(tol_line(t))
        self.blocks.append(lines)
        self.count[group] = self.count.get(group, 0) + 1

    def axes_for(self, form, nd):
        """(axes, keepdims, ndim needed) of an axis form."""
        rng = self.rng
        if form == "all":
            return None, 0
        if form == "keepdims_all":
            return None, 1
        if form == "explicit_all":
            ax = list(range(nd))
            rng.shuffle(ax)
            return ax, 0
        if form in ("one", "keepdims_one"):
            return [rng.randrange(nd)], int(form == "keepdims_one")
        if form == "negative":
            ax = rng.sample(range(nd), rng.randint(1, nd))
            return [a - nd for a in ax], 0
        # several
        ax = rng.sample(range(nd), 2)
        if rng.random() < 0.5:
            ax[0] -= nd
        return ax, int(form == "keepdims_several")

    def shape(self, nd, lo=1, hi=7):
        return tuple(self.rng.randint(lo, hi) for _ in range(nd))

    def matrix(self):
        """Every op x dtype, two axis forms each, the forms rotating so that
        every op meets every form."""
        for i, op in enumerate(RED_OPS):
            is_arg = op in ("argmax", "argmin")
            forms = ARG_FORMS if is_arg else AXIS_FORMS
            for j, t in enumerate(RED_DTYPES):
                for s in range(2):
                    form = forms[(2 * j + s + i) % len(forms)]
                    nd = self.rng.randint(2, 3) if form in ("several", "keepdims_several") else self.rng.randint(1, 3)
                    if form in ("all", "keepdims_all", "none", "keepdims_none") and self.rng.random() < 0.2:
                        nd = 0 if form != "keepdims_all" else 1
                    shape = self.shape(nd)
                    x = red_values(self.rng, op, t, shape, self.np)
                    if is_arg:
                        if form in ("none", "keepdims_none"):
                            axes, kd = None, int(form == "keepdims_none")
                        else:
                            a = self.rng.randrange(nd)
                            axes = a - nd if form == "negative" else a
                            kd = int(form == "keepdims_one")
                    else:
                        if nd == 0 and form not in ("all", "keepdims_all"):
                            x = x.reshape(1)
                            nd = 1
                        axes, kd = self.axes_for(form, nd)
                    self.case("matrix", op, x, axes, kd, static=(i + j + s) % 4 == 0,
                              where=f"{op} {t} {form}")

    def empty_and_one(self):
        """Empty inputs (max/min/arg* fail when a group is empty) and size 1."""
        for i, op in enumerate(RED_OPS):
            t = RED_DTYPES[i % len(RED_DTYPES)]
            t2 = RED_DTYPES[(i + 3) % len(RED_DTYPES)]
            is_arg = op in ("argmax", "argmin")
            e = lambda shape, tt=t: np.zeros(shape, dtype=tt)
            if is_arg:
                self.case("empty", op, e((0,)), None, 0, where="empty, flattened")
                self.case("empty", op, e((0, 3), t2), 0, 0, where="empty groups along axis 0")
                self.case("empty", op, e((0, 3), t2), 1, 1, where="no groups: empty result")
                self.case("empty", op, e((3, 0)), 0, 0, where="no groups: empty result")
                self.case("size1", op, red_values(self.rng, op, t, (1,), self.np), None, 0)
                self.case("size1", op, red_values(self.rng, op, t2, (1, 1), self.np), -1, 1)
                self.case("size1", op, red_values(self.rng, op, t, (), self.np), None, 0,
                          where="0-d input")
                self.case("size1", op, red_values(self.rng, op, t2, (3, 1, 2), self.np), 1, 0)
            else:
                self.case("empty", op, e((0,)), None, 0, where="empty, every axis")
                self.case("empty", op, e((0, 3), t2), [0], 0, where="empty groups")
                self.case("empty", op, e((0, 3), t2), [1], 1, where="no groups")
                self.case("empty", op, e((2, 0, 3)), [1], 1, where="empty groups, keepdims")
                self.case("empty", op, e((2, 0, 3), t2), [0, 2], 0, where="no groups")
                self.case("size1", op, red_values(self.rng, op, t, (1,), self.np), None, 0)
                self.case("size1", op, red_values(self.rng, op, t2, (1, 1), self.np), [1], 1)
                self.case("size1", op, red_values(self.rng, op, t, (), self.np), None, 0,
                          where="0-d input")
                self.case("size1", op, red_values(self.rng, op, t2, (), self.np), None, 1,
                          where="0-d input, keepdims")
                self.case("size1", op, red_values(self.rng, op, t, (4, 1, 3), self.np), [1], 0)

    def views(self):
        """Strided views (transposed, steps, negative strides, offsets) and
        broadcast views (0 strides) of contiguous bases."""
        r, c = 5, 7
        views2 = [
            ("transposed", (r, c), (c, r), (1, c), 0),
            ("every other column", (r, c), (r, 4), (c, 2), 0),
            ("every other column from 1", (r, c), (r, 3), (c, 2), 1),
            ("columns reversed", (r, c), (r, c), (c, -1), c - 1),
            ("rows reversed", (r, c), (r, c), (-c, 1), (r - 1) * c),
            ("window", (r, c), (r - 2, c - 3), (c, 1), c + 1),
            ("broadcast rows", (c,), (4, c), (0, 1), 0),
            ("broadcast columns", (r,), (r, 6), (1, 0), 0),
            ("broadcast 0-d", (1,), (3, 4), (0, 0), 0),
        ]
        views3 = [
            ("permuted 3-d", (2, 3, 4), (4, 2, 3), (1, 12, 4), 0),
            ("broadcast middle", (2, 4), (2, 5, 4), (4, 0, 1), 0),
            ("3-d steps, negative", (4, 3, 6), (2, 3, 3), (36 // 2 * 2, -6, 2), 6 * 2),
        ]
        k = 0
        for (where, bshape, shape, strides, off) in views2 + views3:
            for op in RED_OPS:
                k += 1
                if k % 3:  # a third of op x view, rotating
                    continue
                t = RED_DTYPES[k % len(RED_DTYPES)]
                base = red_values(self.rng, op, t, bshape, self.np)
                x = view_of(base, shape, strides, off)
                nd = len(shape)
                if op in ("argmax", "argmin"):
                    axes, kd = (self.rng.randrange(nd), k % 3 == 0) if k % 4 else (None, 0)
                else:
                    axes, kd = self.axes_for(["all", "one", "negative", "several"][k % 4], nd)
                self.case("views", op, x, axes, kd, base=base, view=(shape, strides, off),
                          static=k % 5 == 0, where=where)

    def nans(self):
        """NaN (and inf) propagation: max/min/arg* take the first NaN."""
        for t in ("float32", "float64"):
            x = self.np.normal(0, 5, (5, 6)).astype(t)
            x[1, 2] = np.nan
            x[3, 0] = -np.inf
            x[3, 4] = np.nan
            x[3, 1] = np.nan
            x[2, :] = -np.inf
            x[4, 3] = np.inf
            for op in RED_OPS:
                self.case("nan", op, x, 1 if op.startswith("arg") else [1], 0, where="NaN rows")
                if op in ("max", "min", "argmax", "argmin", "sum"):
                    self.case("nan", op, x, None, 0, where="NaN, every axis")
            y = self.np.normal(0, 5, (4, 3)).astype(t)
            y[2, 1] = np.nan
            y[0, 1] = np.inf
            for op in ("max", "min", "argmax", "argmin", "sum"):
                self.case("nan", op, y, 0 if op.startswith("arg") else [0], 0, where="NaN column")

    def special(self):
        """Values that catch weak accumulators and comparisons."""
        big_u = np.array([2 ** 64 - 1, 2 ** 63, 5, 2 ** 63 - 1, 17, 2 ** 64 - 2], dtype=np.uint64)
        for op in ("sum", "prod", "max", "min", "argmax", "argmin"):
            self.case("special", op, big_u.reshape(2, 3), None, 0, where="uint64 above 2^63, wrapping")
            self.case("special", op, big_u.reshape(2, 3), [0] if not op.startswith("arg") else 0, 0)
        big_i = np.array([-2 ** 63, 2 ** 63 - 1, -1, 3, 2 ** 62, -2 ** 62 - 5], dtype=np.int64)
        for op in ("sum", "prod", "max", "min", "argmax", "argmin"):
            self.case("special", op, big_i, None, 0, where="int64 extremes, wrapping")
        i8 = np.array([[-128, 127, 100], [100, 100, 100]], dtype=np.int8)
        for op in ("sum", "prod", "min", "argmin"):
            self.case("special", op, i8, 1 if op == "argmin" else [1], 0,
                      where="int8 sums beyond int8 (int64 result)")
        u8 = np.full((2, 300), 255, dtype=np.uint8)
        self.case("special", "sum", u8, [1], 0, where="uint8 sum beyond 2^16 (uint64 result)")
        # variance with a large mean: a one-pass E[x^2] - E[x]^2 loses it
        v = (1e4 + self.np.normal(0, 1, 64)).astype(np.float64)
        for op in ("variance", "std", "mean"):
            self.case("special", op, v, None, 0, where="mean 1e4, std 1 (cancellation)")
        v32 = (1e3 + self.np.normal(0, 1, 64)).astype(np.float32)
        for op in ("variance", "std"):
            self.case("special", op, v32, None, 0, where="float32, mean 1e3, std 1")
        # float32 sum accumulates in float64: 2^24 + 1 + 1 ... exact
        f = np.array([2.0 ** 24] + [1.0] * 40, dtype=np.float32)
        self.case("special", "sum", f, None, 0, where="float32 2^24 + 40 ones")

    def big(self):
        """Big inputs generated by the C test; outputs stored."""
        specs = [
            ("float64", (1000, 1000), "mixed", 0, 11, [("sum", [0]), ("sum", [1]), ("sum", None),
                                                        ("mean", [0]), ("variance", [1]), ("max", [0]),
                                                        ("argmax", 1), ("std", None)]),
            ("float32", (999, 1001), "u01", 0, 12, [("sum", [1]), ("sum", [0]), ("mean", None),
                                                     ("argmin", 0), ("min", [1]), ("variance", [0])]),
            ("int32", (513, 2049), "int", 10, 13, [("argmax", 0), ("argmin", 1), ("sum", None),
                                                    ("min", [1]), ("prod", [0])]),
            ("uint8", (4096, 300), "int", 256, 14, [("sum", [0]), ("max", None), ("mean", [0])]),
            ("bool", (4096, 300), "int", 1000, 15, [("all", [0]), ("all", [1]), ("any", None),
                                                     ("sum", [0])]),
            ("int64", (3, 100003), "int", 1000003, 16, [("sum", [1]), ("argmax", None), ("max", [1])]),
            ("float64", (7, 65537, 3), "u01", 0, 17, [("sum", [1]), ("sum", [0, 1]), ("argmax", 1)]),
        ]
        for t, shape, kind, p, seed, ops in specs:
            x = gen(kind, p, seed, t, shape)
            for op, axes in ops:
                self.case("big", op, x, axes, 0, gen=(t, shape, kind, p, seed),
                          where=f"{t} {shape} generated")

    def bigsums(self):
        """Float sums of 2^20..2^24 generated values: their exact sum
        (math.fsum) and NumPy's error."""
        lines = []
        specs = [("float64", 1 << 20, "u01", 101), ("float64", (1 << 22) + 7, "mixed", 102),
                 ("float64", 1 << 24, "u01", 103), ("float32", (1 << 20) + 3, "mixed", 104),
                 ("float32", 1 << 22, "u01", 105), ("float32", 1 << 24, "u01", 106)]
        for t, n, kind, seed in specs:
            x = gen(kind, 0, seed, t, (n,))
            exact = math.fsum(float(v) for v in x)
            npsum = float(np.sum(x))
            lines.append([f"case {len(self.blocks) + len(lines)} bigsum",
                          f"# math.fsum and numpy.sum of {n} {kind} {t} values",
                          gen_line("x", t, (n,), kind, 0, seed),
                          f"fsum {exact!r}", f"numpy {npsum!r}"])
        # columns: NumPy adds rows in turn along axis 0
        t, shape, seed = "float64", (1 << 20, 3), 107
        x = gen("mixed", 0, seed, t, shape)
        ex = [math.fsum(float(v) for v in x[:, j]) for j in range(3)]
        ns = [float(v) for v in np.sum(x, axis=0)]
        lines.append([f"case {len(self.blocks) + len(lines)} bigsum",
                      "# math.fsum and numpy.sum(axis=0) of columns of 2^20 mixed float64 values",
                      gen_line("x", t, shape, "mixed", 0, seed), "axes 0",
                      "fsum " + " ".join(repr(v) for v in ex), "numpy " + " ".join(repr(v) for v in ns)])
        self.blocks += lines
        self.count["bigsum"] = len(lines)

    def build(self):
        self.matrix()
        self.empty_and_one()
        self.views()
        self.nans()
        self.special()
        self.big()
        self.bigsums()
        return self.blocks


# ---------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------

IDX_DTYPES = ["bool", "int8", "int32", "int64", "uint8", "uint64", "float32", "float64"]


def idx_values(nprng, t, shape):
    dt = np.dtype(t)
    n = int(np.prod(shape))
    if dt.kind == "b":
        return (nprng.random(n) < 0.5).reshape(shape)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        lo, hi = max(int(info.min), -100), min(int(info.max), 100)
        return nprng.integers(lo, hi, n, endpoint=True).astype(dt).reshape(shape)
    # a grid of quarters: sums are exact, so accumulation order is invisible
    return (nprng.integers(-400, 400, n) / 4).astype(dt).reshape(shape)


def fmt_bound(v):
    return "N" if v is None else str(v)


def py_slice(spec):
    if spec[0] == "I":
        return spec[1]
    return slice(spec[1], spec[2], spec[3])


def index_line(specs):
    toks = [str(len(specs))]
    for s in specs:
        if s[0] == "I":
            toks += ["I", str(s[1])]
        else:
            toks += ["S", fmt_bound(s[1]), fmt_bound(s[2]), str(s[3])]
    return "index " + " ".join(toks)


class Index:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.blocks = []
        self.count = {}

    def add(self, group, lines):
        self.blocks.append([f"case {len(self.blocks)} {lines[0]}"] + lines[1:])
        self.count[group] = self.count.get(group, 0) + 1

    def rand_specs(self, shape, force_axis=None):
        rng = self.rng
        n = rng.randint(1, len(shape))
        if force_axis is not None:
            n = max(n, force_axis + 1)
        specs = []
        for d in range(n):
            size = shape[d]
            want_index = rng.random() < 0.3 if force_axis is None else (
                d == force_axis and rng.random() < 0.5)
            if want_index and size > 0:
                specs.append(("I", rng.randint(-size, size - 1)))
                continue
            step = rng.choice([1, 1, 2, 3, -1, -2, -3])
            bound = lambda: None if rng.random() < 0.3 else rng.randint(-size - 2, size + 2)
            specs.append(("S", bound(), bound(), step))
        return specs

    def subtensor(self):
        for k in range(72):
            nd = 1 + k % 4
            shape = tuple(self.rng.randint(0 if self.rng.random() < 0.08 else 1, 6) for _ in range(nd))
            t = IDX_DTYPES[k % len(IDX_DTYPES)]
            base = idx_values(self.np, t, shape)
            lines = ["subtensor"]
            x = base
            if k % 6 == 5 and nd >= 2:
                # the input is a transposed view of a contiguous base
                bshape = tuple(reversed(shape))
                b = idx_values(self.np, t, bshape)
                strides = [int(np.prod(bshape[d + 1:])) for d in range(nd)][::-1]
                x = view_of(b, shape, strides, 0)
                lines += [array_line("x", b), view_line("x", shape, strides, 0)]
            else:
                lines.append(array_line("x", x))
            if k % 3 == 0:
                lines.append("static 1")
            specs = self.rand_specs(shape, force_axis=k % nd)
            lines.append(index_line(specs))
            lines.append(array_line("out", x[tuple(py_slice(s) for s in specs)]))
            self.add("subtensor", lines)

    def set_inc(self):
        for k in range(56):
            op = "set_subtensor" if k % 2 == 0 else "inc_subtensor"
            nd = 1 + k % 3
            shape = tuple(self.rng.randint(1, 6) for _ in range(nd))
            t = IDX_DTYPES[(k // 2) % len(IDX_DTYPES)]
            if op == "inc_subtensor" and t == "bool":
                t = "int8"
            x = idx_values(self.np, t, shape)
            specs = self.rand_specs(shape, force_axis=(k // 2) % nd)
            idx = tuple(py_slice(s) for s in specs)
            tshape = x[idx].shape
            # y: the slice's shape, or broadcastable to it
            yshape = list(tshape)
            mode = (k // 2) % 4
            if mode >= 2 and yshape:
                yshape = [1 if self.rng.random() < 0.5 else d for d in yshape]
            if mode == 3 and yshape:
                yshape = yshape[self.rng.randint(0, len(yshape)):]
            y = idx_values(self.np, t, tuple(yshape))
            r = x.copy()
            with np.errstate(all="ignore"):
                if op == "set_subtensor":
                    r[idx] = y
                else:
                    r[idx] += y
            lines = [op, array_line("x", x), array_line("y", y), index_line(specs), array_line("out", r)]
            if k % 5 == 0:
                lines.insert(3, "static 1")
            self.add(op, lines)

    def take(self):
        for k in range(24):
            nd = 1 + k % 3
            rows = self.rng.randint(1, 7)
            shape = (rows,) + tuple(self.rng.randint(1, 4) for _ in range(nd - 1))
            t = IDX_DTYPES[k % len(IDX_DTYPES)]
            it = ["int64", "int32", "int8", "uint8"][k % 4]
            x = idx_values(self.np, t, shape)
            n = self.rng.randint(0, 8)
            lo = 0 if np.dtype(it).kind == "u" else -rows
            idx = np.array([self.rng.randint(lo, rows - 1) for _ in range(n)], dtype=it)
            lines = ["take", array_line("x", x), array_line("idx", idx), array_line("out", x[idx])]
            if k % 4 == 1:
                lines.insert(3, "static 1")
            self.add("take", lines)

    def inc_take(self):
        for k in range(24):
            nd = 1 + k % 3
            rows = self.rng.randint(1, 6)
            shape = (rows,) + tuple(self.rng.randint(1, 4) for _ in range(nd - 1))
            t = ["int8", "int32", "int64", "uint8", "uint64", "float32", "float64"][k % 7]
            it = ["int64", "int32"][k % 2]
            x = idx_values(self.np, t, shape)
            n = self.rng.randint(0, 10)
            idx = np.array([self.rng.randint(-rows, rows - 1) for _ in range(n)], dtype=it)
            if n >= 3:
                idx[2] = idx[0]  # a repeated row (sometimes spelled negatively)
                if idx[0] >= 0 and k % 2:
                    idx[2] -= rows
            y = idx_values(self.np, t, (n,) + shape[1:])
            r = x.copy()
            with np.errstate(all="ignore"):
                np.add.at(r, idx, y)
            lines = ["inc_take", array_line("x", x), array_line("idx", idx), array_line("y", y),
                     array_line("out", r)]
            self.add("inc_take", lines)

    def build(self):
        self.subtensor()
        self.set_inc()
        self.take()
        self.inc_take()
        return self.blocks


# ---------------------------------------------------------------------------
# Shape and structure: named cases, one NumPy expression each
# ---------------------------------------------------------------------------

def shape_cases():
    """(name, inputs {tag: array}, NumPy expression over them, result)."""
    nprng = np.random.default_rng(SEED + 3)
    x234 = (nprng.integers(-50, 50, (2, 3, 4)) / 2).astype(np.float64)
    m34 = nprng.integers(-100, 100, (3, 4)).astype(np.int32)
    v5 = (nprng.integers(-20, 20, 5) / 4).astype(np.float32)
    c31 = nprng.integers(0, 9, (3, 1)).astype(np.int64)
    y64 = np.zeros((6, 4), dtype=np.float32)
    a23 = nprng.integers(-9, 9, (2, 3)).astype(np.int32)
    b23 = (nprng.integers(-9, 9, (2, 3)) / 2).astype(np.float32)
    c13 = nprng.integers(-9, 9, (1, 3)).astype(np.int32)
    e03 = np.zeros((0, 3), dtype=np.int32)
    i8 = nprng.integers(-9, 9, (2, 3)).astype(np.int8)
    u8 = nprng.integers(0, 200, (2, 3)).astype(np.uint8)
    bo = (nprng.random((2, 3)) < 0.5)
    l23 = nprng.integers(-9, 9, (2, 3)).astype(np.int64)
    s = np.float64(2.5)
    env = dict(x234=x234, m34=m34, v5=v5, c31=c31, y64=y64, a23=a23, b23=b23, c13=c13, e03=e03,
               i8=i8, u8=u8, bo=bo, l23=l23, np=np)
    cases = [
        ("dimshuffle_201", ["x234"], "np.transpose(x234, (2, 0, 1))"),
        ("dimshuffle_x0x12", ["x234"], "x234[None, :, None, :, :]"),
        ("dimshuffle_1x0", ["m34"], "m34.T[:, None, :]"),
        ("dimshuffle_drop", ["c31"], "c31[:, 0]"),
        ("dimshuffle_x10", ["c31"], "np.transpose(c31)[None]"),
        ("transpose_m34", ["m34"], "m34.T"),
        ("transpose_x234", ["x234"], "x234.T"),
        ("transpose_v5", ["v5"], "v5.T"),
        ("reshape_6x4", ["x234"], "x234.reshape(6, 4)"),
        ("reshape_m1x2", ["x234"], "x234.reshape(-1, 2)"),
        ("reshape_4xm1x3", ["x234"], "x234.reshape(4, -1, 3)"),
        ("reshape_24", ["x234"], "x234.reshape(24)"),
        ("reshape_T_4x6", ["x234"], "x234.T.reshape(4, 6)"),
        ("reshape_to_y", ["x234", "y64"], "x234.reshape(y64.shape)"),
        ("reshape_0d", ["v5"], "v5[:1].reshape(())"),
        ("flatten_1", ["x234"], "x234.reshape(-1)"),
        ("flatten_2", ["x234"], "x234.reshape(2, -1)"),
        ("flatten_3", ["x234"], "x234.reshape(2, 3, 4)"),
        ("flatten_T_2", ["x234"], "x234.T.reshape(4, -1)"),
        ("shape_x234", ["x234"], "np.array(x234.shape, dtype=np.int64)"),
        ("shape0_times_2", ["x234"], "np.int64(x234.shape[0] * 2)"),
        ("x_plus_shape_m1", ["x234"], "x234 + x234.shape[-1]"),
        ("alloc_scalar_2x3", [], "np.full((2, 3), 2.5)"),
        ("alloc_v5_4x5", ["v5"], "np.broadcast_to(v5, (4, 5)).copy()"),
        ("alloc_c31_2x3x4", ["c31"], "np.broadcast_to(c31, (2, 3, 4)).copy()"),
        ("zeros_i32_2x3", [], "np.zeros((2, 3), dtype=np.int32)"),
        ("ones_f32_4", [], "np.ones(4, dtype=np.float32)"),
        ("ones_bool_2x2", [], "np.ones((2, 2), dtype=np.bool_)"),
        ("fill_m34_7", ["m34"], "np.full(m34.shape, 7.0)"),
        ("zeros_like_m34", ["m34"], "np.zeros_like(m34)"),
        ("ones_like_v5", ["v5"], "np.ones_like(v5)"),
        ("arange_0_10_1", [], "np.arange(0, 10, 1)"),
        ("arange_10_0_m3", [], "np.arange(10, 0, -3)"),
        ("arange_m7_m2", [], "np.arange(-7, -2, 1)"),
        ("arange_5_5_1", [], "np.arange(5, 5, 1)"),
        ("arange_5_0_1", [], "np.arange(5, 0, 1)"),
        ("arange_f_0_1_01", [], "np.arange(0.0, 1.0, 0.1)"),
        ("arange_f_03_1_01", [], "np.arange(0.3, 1.0, 0.1)"),
        ("arange_f_05_m2_m05", [], "np.arange(0.5, -2.0, -0.5)"),
        ("arange_f_1_0_025", [], "np.arange(1.0, 0.0, 0.25)"),
        # NumPy gives int64 here; damo's header: "the dtype is their promotion"
        ("arange_i32_2_11_3", [], "np.arange(np.int32(2), np.int32(11), np.int32(3)).astype(np.int32)"),
        ("eye_3", [], "np.eye(3)"),
        ("eye_3x4_k1", [], "np.eye(3, 4, k=1)"),
        ("eye_4x3_km2_i32", [], "np.eye(4, 3, k=-2, dtype=np.int32)"),
        ("eye_2x5_k7", [], "np.eye(2, 5, k=7)"),
        ("eye_3_km3_f32", [], "np.eye(3, 3, k=-3, dtype=np.float32)"),
        ("eye_0", [], "np.eye(0)"),
        ("concat_0", ["a23", "c13"], "np.concatenate([a23, c13], axis=0)"),
        ("concat_1", ["a23", "a23"], "np.concatenate([a23, a23 * 2], axis=1)"),
        ("concat_m1_3", ["a23", "b23"], "np.concatenate([a23, b23, a23], axis=-1)"),
        ("concat_empty", ["a23", "e03"], "np.concatenate([e03, a23, e03], axis=0)"),
        ("concat_i8_u8", ["i8", "u8"], "np.concatenate([i8, u8], axis=0)"),
        ("concat_bool_i8", ["bo", "i8"], "np.concatenate([bo, i8], axis=1)"),
        ("concat_x234_1", ["x234"], "np.concatenate([x234, x234[:, :1]], axis=1)"),
        ("stack_0", ["a23", "l23"], "np.stack([a23, l23], axis=0)"),
        ("stack_1", ["a23", "l23"], "np.stack([a23, l23], axis=1)"),
        ("stack_2", ["a23", "l23"], "np.stack([a23, l23], axis=2)"),
        ("stack_m1_3", ["a23", "b23"], "np.stack([a23, b23, a23], axis=-1)"),
        ("stack_m3", ["a23", "a23"], "np.stack([a23, a23], axis=-3)"),
        ("stack_vec", ["v5"], "np.stack([v5, v5 * 2], axis=0)"),
    ]
    out = []
    for name, ins, expr in cases:
        want = np.asarray(eval(expr, {}, env))
        lines = [f"case {name} shape", f"# {expr}"]
        lines += [array_line(tag, env[tag]) for tag in dict.fromkeys(ins)]
        lines.append(array_line("out", want))
        out.append(lines)
    del s
    return out


# ---------------------------------------------------------------------------
# Matrix products
# ---------------------------------------------------------------------------

class Blas:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.blocks = []
        self.count = {}

    def vals(self, t, shape):
        dt = np.dtype(t)
        if dt.kind in "iu":
            info = np.iinfo(dt)
            lo, hi = max(int(info.min), -1000), min(int(info.max), 1000)
            return self.np.integers(lo, hi, shape, endpoint=True).astype(dt)
        return self.np.normal(0, 1, shape).astype(dt)

    def add(self, group, kind, lines):
        self.blocks.append([f"case {len(self.blocks)} {kind}"] + lines)
        self.count[group] = self.count.get(group, 0) + 1

    def dot(self, group, ta_, tb_, ashape, bshape, ta=0, tb=0, aview=None, bview=None, where=""):
        """dot(A', B') where A' is A, A.T (ta) or a view of A."""
        seed = len(self.blocks) + 1000
        big = np.dtype(ta_).kind == "f" and np.prod(ashape) * np.prod(bshape) > 10000
        a = gen("mixed", 0, seed, ta_, ashape) if big else self.vals(ta_, ashape)
        b = gen("mixed", 0, seed + 1, tb_, bshape) if big else self.vals(tb_, bshape)
        ea = view_of(a, *aview) if aview else a
        eb = view_of(b, *bview) if bview else b
        ea = ea.T if ta else ea
        eb = eb.T if tb else eb
        with np.errstate(all="ignore"):
            want = np.asarray(np.dot(ea, eb))
        lines = [f"# {where}"] if where else []
        lines += [gen_line("a", ta_, ashape, "mixed", 0, seed) if big else array_line("a", a)]
        if aview:
            lines.append(view_line("a", *aview))
        lines.append(gen_line("b", tb_, bshape, "mixed", 0, seed + 1) if big else array_line("b", b))
        if bview:
            lines.append(view_line("b", *bview))
        lines += [f"transpose {ta} {tb}", array_line("out", want)]
        self.add(group, "dot", lines)

    def build(self):
        for t in ("float64", "float32"):
            d = self.dot
            d("vv", t, t, (17,), (17,), where="v.v")
            d("vv", t, t, (1,), (1,), where="v.v of one element")
            d("vv", t, t, (0,), (0,), where="v.v of no elements: 0")
            d("mv", t, t, (5, 3), (3,), where="m.v")
            d("mv", t, t, (3, 5), (3,), ta=1, where="m.T.v")
            d("vm", t, t, (3,), (3, 4), where="v.m")
            d("vm", t, t, (3,), (4, 3), tb=1, where="v.m.T")
            d("mm", t, t, (4, 3), (3, 5), where="m.m")
            d("mm", t, t, (3, 4), (3, 5), ta=1, where="m.T.m")
            d("mm", t, t, (4, 3), (5, 3), tb=1, where="m.m.T")
            d("mm", t, t, (3, 4), (5, 3), ta=1, tb=1, where="m.T.m.T")
            d("mm", t, t, (1, 1), (1, 1), where="1x1 . 1x1")
            d("mm", t, t, (4, 0), (0, 3), where="inner size 0: zeros")
            d("mm", t, t, (0, 3), (3, 2), where="no rows")
            d("mm", t, t, (64, 100), (100, 33), where="larger m.m")
            d("mm", t, t, (100, 64), (33, 100), ta=1, tb=1, where="larger m.T.m.T")
            d("mv", t, t, (200, 150), (150,), where="larger m.v")
            d("view", t, t, (5, 7), (4, 2), aview=((3, 4), (7, 1), 8), where="A a window (lda 7)")
            d("view", t, t, (6, 5), (5,), aview=((3, 5), (10, 1), 0), where="every other row")
            d("view", t, t, (4,), (4, 3), bview=((4, 3), (3, -1), 2), where="B columns reversed")
            d("view", t, t, (8,), (4, 3), aview=((4,), (2,), 1), where="x every other element")
            d("view", t, t, (3,), (3,), aview=((4, 3), (0, 1), 0), where="A broadcast rows")
        for ta_, tb_ in (("int32", "int32"), ("int64", "int64"), ("int8", "int8"), ("int8", "int16"),
                         ("uint8", "uint8")):
            self.dot("int", ta_, tb_, (4, 3), (3, 5), where=f"{ta_} . {tb_} (wrapping)")
            self.dot("int", ta_, tb_, (6,), (6,), where=f"{ta_} . {tb_} v.v")
            self.dot("int", ta_, tb_, (3, 4), (3,), ta=1, where=f"{ta_} . {tb_} m.T.v")
        self.dot("int", "int32", "int32", (3,), (3, 0), where="int v.m, no columns")
        self.dot("mixed", "float32", "float64", (3, 4), (4, 2), where="float32 . float64 -> float64")
        # outer
        for t in ("float64", "float32", "int32"):
            a, b = self.vals(t, (3,)), self.vals(t, (4,))
            self.add("outer", "outer", [array_line("a", a), array_line("b", b),
                                        array_line("out", np.outer(a, b))])
        a, b = self.vals("float64", (0,)), self.vals("float64", (2,))
        self.add("outer", "outer", [array_line("a", a), array_line("b", b),
                                    array_line("out", np.outer(a, b))])
        # alpha * dot(A, B) + beta * C
        for t in ("float64", "float32"):
            for (ash, bsh, ta) in (((4, 3), (3, 5), 0), ((3, 4), (3, 5), 1)):
                a, b = self.vals(t, ash), self.vals(t, bsh)
                c = self.vals(t, (4, 5))
                ea = a.T if ta else a
                want = (np.asarray(0.5, dtype=t) * np.dot(ea, b) + np.asarray(-2.0, dtype=t) * c)
                assert want.dtype == np.dtype(t)
                self.add("gemm", "gemm", ["# 0.5 * dot(A, B) + (-2.0) * C, weak scalars",
                                          array_line("a", a), array_line("b", b), array_line("c", c),
                                          f"transpose {ta} 0", "alpha 0.5", "beta -2.0",
                                          array_line("out", want)])
        # logistic regression: 1 / (1 + exp(-dot(x, w) - b))
        for t in ("float64", "float32"):
            x, w = self.vals(t, (20, 5)), self.vals(t, (5,))
            bb = self.vals(t, ())
            with np.errstate(all="ignore"):
                want = 1 / (1 + np.exp(-np.dot(x, w) - bb))
            self.add("logistic", "logistic", ["# 1 / (1 + exp(-dot(x, w) - b))", array_line("x", x),
                                              array_line("w", w), array_line("b", bb),
                                              array_line("out", want.astype(t))])
        return self.blocks


def coverage_lines(counts, extra=()):
    return ["Coverage: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + "."] + list(extra)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.parse_args()
    red = Reduce(SEED)
    rb = red.build()
    write_file("tensor_reduce.txt", rb,
               ["Kinds: the reduction (damo_sum .. damo_std, argmax, argmin); bigsum: generated",
                "values with math.fsum's sum and numpy.sum's (the C test asks for an error no",
                "larger than NumPy's, or one unit in the last place).",
                "Keys: axes all | axes A... (damo's axes list), axis none | axis A (argmax/argmin),",
                "keepdims K, static 1 (the input's static shape is known), error (a run-time",
                "error: NumPy raises), array out (NumPy's result, its dtype damo's), tol."],
               coverage_lines(red.count, [f"{len(rb)} cases"]))
    ix = Index(SEED + 1)
    ib = ix.build()
    write_file("tensor_index.txt", ib,
               ["Kinds: subtensor (out = x[index]), set_subtensor (x[index] = y),",
                "inc_subtensor (x[index] += y), take (out = x[idx]), inc_take",
                "(numpy.add.at(x, idx, y)). Keys: index N then per axis `I i` (an integer) or",
                "`S start stop step` (N: an omitted bound, DAMO_NONE); static 1 (x's static",
                "shape is known). Float values are multiples of 1/4: results are exact."],
               coverage_lines(ix.count, [f"{len(ib)} cases"]))
    sb = shape_cases()
    write_file("tensor_shape.txt", sb,
               ["Kind: shape. Each block is named (`case NAME shape`) and its comment is the",
                "NumPy expression over the arrays it lists that gave `out`."],
               [f"{len(sb)} cases"])
    bl = Blas(SEED + 2)
    bb = bl.build()
    write_file("tensor_blas.txt", bb,
               ["Kinds: dot (out = numpy.dot(a', b') with a' = a.T when `transpose 1 _`, and",
                "a' a view of a when a `view a` line is given), outer, gemm (alpha * dot(a', b)",
                "+ beta * c), logistic (1 / (1 + exp(-dot(x, w) - b))). Float tolerances are",
                "computed by the C test from |a'| . |b'|."],
               coverage_lines(bl.count, [f"{len(bb)} cases"]))


if __name__ == "__main__":
    main()
