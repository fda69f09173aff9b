#!/usr/bin/env python3
"""Writes numpy_cases.txt: random elementwise graphs with NumPy's answers,
for the differential test of tests/test_numpy.c.

Provenance only: the tests never run this (the library and its tests need
no Python); the generated file is committed beside it, and its first lines
record the command and the NumPy version that made it:

    python3 tests/data/make_numpy_cases.py            # seed 20240611, 240 graphs

Every graph is a few inputs of random dtypes and broadcastable shapes
(0-d to 4-d, some of size 0), C literals (damo_int / damo_float, which are
NumPy's Python scalars under NEP 50), 0-d and array constants, and a few
elementwise ops drawn from all those of include/damo.h; several of its nodes
are outputs. NumPy computes the outputs, except where damo documents a
different rule, which is then applied here (never skipped silently):

  (a) "floating" ops (exp .. erf, sqrt, floor, ceil, round, arctan2) on
      integers and bools compute in float32 for bool and (u)int8/16, in
      float64 for wider ints (Aesara's upgrade_to_float; NumPy gives
      float16, or keeps the integer dtype for floor/ceil/round);
  (b) a float to an integer dtype truncates toward zero and saturates,
      NaN becoming 0 (NumPy leaves that undefined);
  (c) an integer to a negative integer power from an array (not a
      constant) is 1 for base 1, +-1 for base -1 by the exponent's
      parity and 0 otherwise (NumPy raises);
  (d) clip follows NumPy 2.4 exactly: a C integer lower bound below an
      integer dtype's minimum (or upper bound above its maximum) clamps,
      any other out-of-range bound is OverflowError (a damo build error);
  (e) numpy.where with a C integer outside the other branch's dtype wraps
      it, damo refuses it (DAMO_ERR_OVERFLOW, as for arithmetic): such
      switches are not generated.

Where NumPy raises (OverflowError for an out-of-range C integer in
arithmetic, TypeError for neg/sign/sub of bools or bitwise ops on floats,
ValueError for a negative constant integer exponent) the file holds an
`error` line: damo's builder must fail with the matching status.

Transcendental ops (the "inexact" ones, see INEXACT) are computed in
numpy.longdouble from the values of the compute dtype and rounded once to
it, so the reference is (nearly) correctly rounded; the C test allows a
per-op number of ulps. Their results are never operands of later nodes,
so that errors do not propagate into exact comparisons.
"""
import argparse
import math
import os
import random
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64"]

# name -> (arity, rule). Rules: same (NumPy's own result), div, float (damo
# upgrades ints), pow, cmp, bits, pred, clip, switch, cast.
OPS = {
    "add": (2, "same"), "sub": (2, "same"), "mul": (2, "same"), "true_div": (2, "div"),
    "int_div": (2, "same"), "mod": (2, "same"), "pow": (2, "pow"), "arctan2": (2, "float"),
    "maximum": (2, "same"), "minimum": (2, "same"),
    "lt": (2, "cmp"), "gt": (2, "cmp"), "le": (2, "cmp"), "ge": (2, "cmp"), "eq": (2, "cmp"),
    "neq": (2, "cmp"),
    "and": (2, "bits"), "or": (2, "bits"), "xor": (2, "bits"), "not": (1, "bits"),
    "neg": (1, "same"), "abs": (1, "same"), "sign": (1, "same"), "sqr": (1, "same"),
    "exp": (1, "float"), "expm1": (1, "float"), "log": (1, "float"), "log1p": (1, "float"),
    "log2": (1, "float"), "log10": (1, "float"), "sqrt": (1, "float"), "sin": (1, "float"),
    "cos": (1, "float"), "tan": (1, "float"), "arcsin": (1, "float"), "arccos": (1, "float"),
    "arctan": (1, "float"), "sinh": (1, "float"), "cosh": (1, "float"), "tanh": (1, "float"),
    "sigmoid": (1, "float"), "softplus": (1, "float"), "erf": (1, "float"),
    "floor": (1, "float"), "ceil": (1, "float"), "round": (1, "float"),
    "isnan": (1, "pred"), "isinf": (1, "pred"),
    "clip": (3, "clip"), "switch": (3, "switch"), "cast": (1, "cast"),
}
# include/damo.h's elementwise list: add .. isinf (44), and/or/xor/not, clip,
# switch, cast. damo_div is damo_true_div; graphs spell it either way.
assert len(OPS) == 51

# Pairs of dtypes whose promotion is subtle: int64 with uint64 gives float64
# (but NumPy compares them exactly), small ints with float32 stay float32.
SUBTLE_PAIRS = [("int64", "uint64"), ("uint64", "int64"), ("int32", "uint32"), ("int8", "uint8"),
                ("float32", "int32"), ("float32", "int64"), ("bool", "int8"),
                ("uint64", "float64"), ("float32", "uint16"), ("int16", "float32")]

# The probes take these pairs in turn: the subtle ones, then each integer
# dtype with itself (division and modulo by zero, INT_MIN // -1).
PROBE_PAIRS = SUBTLE_PAIRS + [(t, t) for t in DTYPES[1:9]]

# Ops of the promotion probes (Graph.probe).
PROBE_OPS = ["lt", "gt", "le", "ge", "eq", "neq", "add", "sub", "mul", "true_div", "int_div",
             "mod", "maximum", "minimum", "clip", "switch", "and", "or", "xor"]

# Results the C test compares within some ulps (for float outputs); they
# never feed later nodes. pow is exact when it computes in an integer dtype.
INEXACT = {"pow", "arctan2", "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos",
           "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "sigmoid", "softplus",
           "erf"}

UFUNC = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "true_div": np.true_divide,
    "int_div": np.floor_divide, "mod": np.remainder, "pow": np.power, "arctan2": np.arctan2,
    "maximum": np.maximum, "minimum": np.minimum, "lt": np.less, "gt": np.greater,
    "le": np.less_equal, "ge": np.greater_equal, "eq": np.equal, "neq": np.not_equal,
    "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor, "not": np.invert,
    "neg": np.negative, "abs": np.absolute, "sign": np.sign, "sqr": np.square,
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "log2": np.log2,
    "log10": np.log10, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "floor": np.floor, "ceil": np.ceil,
    "round": np.rint,  # numpy.round of floats: half to even, as rint
    "isnan": np.isnan, "isinf": np.isinf,
}

STATUS = {OverflowError: "DAMO_ERR_OVERFLOW", TypeError: "DAMO_ERR_TYPE",
          ValueError: "DAMO_ERR_INVALID"}

LD = np.longdouble


class Var:
    """A graph variable: a strong NumPy array, or a weak Python scalar."""

    def __init__(self, name, value, weak=False, exact=True, literal=False):
        self.name = name
        self.value = value          # np.ndarray, or int / float when weak
        self.weak = weak
        self.exact = exact          # may feed later nodes
        self.literal = literal      # a constant (damo_int/float, scalar, constant)
        self.used = False


def dt(name):
    return np.dtype(name)


def upgrade(t):
    """damo's float type for a floating op computing in t (rule (a))."""
    if t.kind == "f":
        return t
    return dt("float32") if t.itemsize <= 2 else dt("float64")


def as_type(v, t):
    """A strong value or a C literal, converted to t as damo converts it."""
    if isinstance(v, np.ndarray):
        return v.astype(t)
    src = np.array(v, dtype=np.int64 if isinstance(v, int) else np.float64)
    return src.astype(t)


def erf_ld(x):
    return np.vectorize(lambda v: math.erf(float(v)), otypes=[np.float64])(x).astype(LD)


def transcendental(op, args):
    """op over longdouble arguments."""
    if op == "erf":
        return erf_ld(args[0])
    if op == "sigmoid":
        return LD(1) / (LD(1) + np.exp(-args[0]))
    if op == "softplus":
        a = args[0]
        return np.where(a > 0, a + np.log1p(np.exp(-a)), np.log1p(np.exp(a)))
    return UFUNC[op](*args)


def damo_cast(a, to):
    """Rule (b): damo's conversion of an array to dtype `to`."""
    if to.kind == "b":
        return a != 0
    if a.dtype.kind == "f" and to.kind in "iu":
        info = np.iinfo(to)
        out = []
        for v in a.reshape(-1):
            d = float(v)
            if math.isnan(d):
                r = 0
            elif math.isinf(d):
                r = info.max if d > 0 else info.min
            else:
                r = min(max(math.trunc(d), int(info.min)), int(info.max))
            out.append(r)
        return np.array(out, dtype=to).reshape(a.shape)
    return a.astype(to)


def evaluate(op, args, cast_to=None):
    """damo's result for op over Vars: an np.ndarray. Raises what NumPy
    raises where damo refuses the same graph."""
    vals = [a.value for a in args]
    arity, rule = OPS[op]
    if rule == "cast":
        return damo_cast(vals[0], cast_to)
    if rule == "float":
        t = upgrade(np.result_type(*vals))
        conv = [as_type(v, t) for v in vals]
        if op in INEXACT:
            return np.asarray(transcendental(op, [c.astype(LD) for c in conv])).astype(t)
        return np.asarray(UFUNC[op](*conv))
    if rule == "pow":
        t = np.result_type(*vals)
        if t.kind == "b":
            t = dt("int8")
        if t.kind in "iu":
            # NumPy's OverflowError for a C integer the dtype cannot hold
            for v in vals:
                if isinstance(v, int) and not np.iinfo(t).min <= v <= np.iinfo(t).max:
                    raise OverflowError(f"Python integer {v} out of bounds for {t}")
        if t.kind == "i" and not args[1].literal:
            # rule (c): negative exponents from arrays
            a, b = as_type(vals[0], t), as_type(vals[1], t)
            a, b = np.broadcast_arrays(a, b)
            r = np.power(a, np.where(b < 0, 0, b).astype(t))
            neg = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 != 0, -1, 1), 0))
            return np.asarray(np.where(b < 0, neg, r).astype(t))
        if t.kind == "f":
            conv = [as_type(v, t).astype(LD) for v in vals]
            return np.asarray(np.power(*conv)).astype(t)
        return np.asarray(np.power(*vals))
    if rule == "clip":
        # rule (d): NumPy's own clamping and OverflowError
        return np.asarray(np.clip(*vals))
    if rule == "switch":
        return np.asarray(np.where(*vals))
    return np.asarray(UFUNC[op](*vals))


def switch_refused(args):
    """Rule (e): a C integer outside the other branch's integer dtype."""
    strong = [a for a in args[1:] if not a.weak]
    weak = [a for a in args[1:] if a.weak and isinstance(a.value, int)]
    if not strong or not weak:
        return False
    t = np.result_type(*[a.value for a in strong])
    if t.kind not in "iu":
        return False
    info = np.iinfo(t)
    return any(not (info.min <= a.value <= info.max) for a in weak)


# ---------------------------------------------------------------------------
# Values

def int_edges(t):
    info = np.iinfo(t)
    lo, hi = int(info.min), int(info.max)
    e = [0, 1, 2, 3, 7, hi, hi - 1, hi // 2 + 1]
    if lo < 0:
        e += [-1, -2, -7, lo, lo + 1]
    if t.itemsize == 8:
        # neighbours that float64 cannot tell apart
        e += [2**53, 2**53 + 1, 2**62, 2**62 + 1, 2**63 - 1]
        if lo == 0:
            e += [2**63, 2**63 + 1]
    return e


FLOAT_EDGES = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -2.5, 2.5, 3.0, 0.1, -7.25, 1e-3, 100.0,
               1e10, -1e10, math.inf, -math.inf, math.nan]


def float_edges(t):
    f = np.finfo(t)
    huge = 1e30 if t == dt("float32") else 1e300
    sub = 1e-40 if t == dt("float32") else 5e-324
    return FLOAT_EDGES + [huge, -huge, float(f.max), -float(f.max), float(f.tiny), sub]


def random_values(rng, t, n, edge=0.45, other=None):
    """n values of dtype t; a share `edge` of them edge values, of t and of
    the dtype `other` where t holds them."""
    if t.kind == "b":
        return np.array([rng.random() < 0.5 for _ in range(n)], dtype=t)
    out = []
    if t.kind in "iu":
        info = np.iinfo(t)
        edges = int_edges(t)
        if other is not None and other.kind in "iu":
            edges += [v for v in int_edges(other) if info.min <= v <= info.max]
        for _ in range(n):
            r = rng.random()
            if r < edge:
                out.append(rng.choice(edges))
            elif r < edge + (1 - edge) / 2:
                out.append(rng.randint(max(int(info.min), -12), min(int(info.max), 12)))
            else:
                out.append(rng.randint(int(info.min), int(info.max)))
        return np.array(out, dtype=t)
    edges = float_edges(t)
    for _ in range(n):
        r = rng.random()
        if r < 0.35:
            out.append(rng.choice(edges))
        elif r < 0.55:
            out.append(float(rng.randint(-20, 20)) / rng.choice([1, 2, 4]))
        else:
            out.append(rng.gauss(0, 1) * 10.0 ** rng.randint(-3, 3))
    return np.array(out, dtype=np.float64).astype(t)


WEAK_INTS = [0, 1, 2, 3, 5, -1, -2, -3, 7, 100, 127, -128, 255, 256, 1000, -1000, 32767, 65535,
             2**31 - 1, -2**31, 2**32, 2**62, 2**63 - 1, -2**63]
WEAK_FLOATS = [0.0, -0.0, 0.5, -1.5, 2.0, 2.5, 3.0, -7.0, 0.1, 1e-3, 1e10, 1e300, math.inf,
               -math.inf, math.nan, 1e-310]


def scalar_value(rng, t):
    """A value exactly representable both as a double and in t."""
    if t.kind == "b":
        return float(rng.random() < 0.5)
    if t.kind in "iu":
        info = np.iinfo(t)
        cands = [v for v in int_edges(t) if abs(v) <= 2**53 or v in (-2**63,)]
        cands += [rng.randint(max(int(info.min), -100), min(int(info.max), 100))]
        return float(rng.choice(cands))
    return float(np.array(rng.choice(float_edges(t) + [rng.gauss(0, 3)]), dtype=t))


# ---------------------------------------------------------------------------
# Text

def fmt_value(v, kind):
    if kind == "b":
        return "1" if v else "0"
    if kind in "iu":
        return str(int(v))
    return repr(float(v))  # shortest round-trip; nan, inf, -inf spelled out


def fmt_array(a):
    kind = a.dtype.kind
    return " ".join(fmt_value(v, kind) for v in a.reshape(-1))


def fmt_shape(shape):
    return " ".join([str(len(shape))] + [str(d) for d in shape])


# ---------------------------------------------------------------------------
# Graphs

class Graph:
    probes = 0  # promotion probes made so far
    def __init__(self, rng, gid):
        self.rng = rng
        self.gid = gid
        self.lines = []
        self.vars = []          # operands for later nodes
        self.inputs = []
        self.nodes = []
        self.n_const = 0
        self.n_errors = 0
        # Most inputs and constants of a graph take one of two dtypes, so
        # that every pair meets often; some pairs are where promotion is
        # subtle (int64 with uint64 gives float64, comparisons are exact).
        self.palette = self.pair(0.3)

    def pair(self, subtle):
        rng = self.rng
        r = rng.random()
        if r < subtle:
            return rng.choice(SUBTLE_PAIRS)
        if r < subtle + 0.25:  # one dtype: ops compute in it
            return (rng.choice(DTYPES),) * 2
        return tuple(rng.sample(DTYPES, 2))

    def dtype(self):
        rng = self.rng
        return dt(rng.choice(self.palette) if rng.random() < 0.75 else rng.choice(DTYPES))

    def target_shape(self):
        rng = self.rng
        nd = rng.choice([0, 1, 1, 2, 2, 3, 3, 4])
        while True:
            shape = [rng.choice([1, 2, 3, 3, 4, 5, 7]) for _ in range(nd)]
            if int(np.prod(shape)) <= 96:
                break
        if nd and rng.random() < 0.1:
            shape[rng.randrange(nd)] = 0
        return shape

    def sub_shape(self, full):
        rng = self.rng
        r = rng.randint(0, len(full)) if rng.random() < 0.3 else len(full)
        shape = list(full[len(full) - r:])
        for i in range(r):
            if rng.random() < 0.25:
                shape[i] = 1
        return shape

    def add_input(self, full, t=None, edge=0.45, other=None):
        rng = self.rng
        name = "abcdefgh"[len(self.inputs)]
        t = t or self.dtype()
        shape = self.sub_shape(full)
        static = [str(d) if rng.random() < 0.3 else "?" for d in shape]
        value = random_values(rng, t, int(np.prod(shape)), edge, other).reshape(shape)
        v = Var(name, value)
        self.lines.append(f"input {name} {t.name} {len(shape)} {' '.join(static)}".rstrip())
        self.inputs.append(v)
        self.vars.append(v)

    def new_const(self, full, kinds):
        rng = self.rng
        name = f"k{self.n_const}"
        self.n_const += 1
        kind = rng.choice(kinds)
        if kind == "int":
            v = Var(name, rng.choice(WEAK_INTS), weak=True, literal=True)
            self.lines.append(f"int {name} {v.value}")
        elif kind == "float":
            v = Var(name, rng.choice(WEAK_FLOATS), weak=True, literal=True)
            self.lines.append(f"float {name} {fmt_value(v.value, 'f')}")
        elif kind == "scalar":
            t = self.dtype()
            d = scalar_value(rng, t)
            v = Var(name, np.array(d).astype(t) if t.kind != "b" else np.array(d != 0),
                    literal=True)
            self.lines.append(f"scalar {name} {t.name} {fmt_value(d, 'f')}")
        else:
            t = self.dtype()
            shape = self.sub_shape(full)
            value = random_values(rng, t, int(np.prod(shape))).reshape(shape)
            v = Var(name, value, literal=True)
            self.lines.append(f"constant {name} {t.name} {fmt_shape(shape)} : {fmt_array(value)}")
        return v

    def operand(self, full, weak_ok=True, avoid=(), floating=False):
        """An operand: a new constant, or a variable other than those in
        `avoid`; a float one, when there is one, if `floating`."""
        rng = self.rng
        r = rng.random()
        if weak_ok and r < 0.2:
            return self.new_const(full, ["int", "int", "float"])
        if r < 0.25:
            v = self.new_const(full, ["scalar", "scalar", "constant"])
            self.vars.append(v)
            return v
        pool = [v for v in self.vars if all(v is not a for a in avoid)] or self.vars
        if floating and rng.random() < 0.7:
            pool = [v for v in pool if v.value.dtype.kind == "f"] or pool
        # prefer nodes, so that chains form
        if self.nodes and rng.random() < 0.5:
            pool = [v for v in pool if v in self.nodes] or pool
        return rng.choice(pool)

    def try_op(self, op, full, args=None):
        rng = self.rng
        arity, rule = OPS[op]
        saved = (len(self.lines), self.n_const, len(self.vars))
        if args:
            pass
        elif rule == "switch":
            args = [self.operand(full, weak_ok=rng.random() < 0.1),
                    self.operand(full), self.operand(full)]
        elif rule == "clip":
            args = [self.operand(full, weak_ok=False),
                    self.operand(full, weak_ok=rng.random() < 0.7),
                    self.operand(full, weak_ok=rng.random() < 0.7)]
        else:
            floating = rule in ("float", "pow")
            args = []
            for _ in range(arity):
                args.append(self.operand(full, avoid=args, floating=floating))
        cast_to = dt(rng.choice(DTYPES)) if rule == "cast" else None
        # at least one strong operand: an expression of C literals alone is
        # Python's arithmetic in NumPy, not an array op
        if all(a.weak for a in args) or (rule == "switch" and switch_refused(args)):
            self.rollback(saved)
            return None
        err = None
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                value = evaluate(op, args, cast_to)
            except tuple(STATUS) as e:
                err = next(s for k, s in STATUS.items() if isinstance(e, k))
        names = " ".join(a.name for a in args)
        if err:
            if self.n_errors >= 2 or rng.random() < 0.5:
                self.rollback(saved)
                return None
            self.n_errors += 1
            self.lines.append(f"error {op} {err} {names}")
            return "error"
        name = f"n{len(self.nodes)}"
        exact = op not in INEXACT or (op == "pow" and value.dtype.kind in "biu")
        exact = exact and all(a.exact for a in args)
        v = Var(name, value, exact=exact)
        for a in args:
            a.used = True
        spelled = "div" if op == "true_div" and rng.random() < 0.3 else op
        self.lines.append(f"op {name} {spelled} {names}" + (f" {cast_to.name}" if cast_to else ""))
        self.nodes.append(v)
        if exact:
            self.vars.append(v)
        return v

    def rollback(self, saved):
        del self.lines[saved[0]:]
        self.n_const = saved[1]
        del self.vars[saved[2]:]

    def probe(self, full):
        """Two inputs of the palette's two dtypes, mostly edge values, meeting
        directly in binary ops: where promotion and comparison rules show."""
        rng = self.rng
        self.palette = PROBE_PAIRS[Graph.probes % len(PROBE_PAIRS)]
        Graph.probes += 1
        for t, other in (self.palette, self.palette[::-1]):
            self.add_input(full, dt(t), edge=0.9, other=dt(other))
        a, b = self.inputs
        for _ in range(rng.randint(3, 7)):
            op = rng.choice(PROBE_OPS)
            x, y = (a, b) if rng.random() < 0.5 else (b, a)
            if op == "clip":
                args = [x, y, rng.choice([x, y])]
            elif op == "switch":
                cond = [n for n in self.nodes if n.value.dtype.kind == "b"]
                args = [rng.choice(cond) if cond else x, x, y]
            else:
                args = [x, y]
            self.try_op(op, full, args)

    def build(self, ops_cycle):
        rng = self.rng
        full = self.target_shape()
        if rng.random() < 0.2:
            self.probe(full)
        else:
            for _ in range(rng.choice([1, 2, 2, 3, 3, 4])):
                self.add_input(full)
        want = rng.randint(4, 12)
        tries = 0
        while len(self.nodes) < want and tries < 200:
            tries += 1
            op = next(ops_cycle) if rng.random() < 0.7 else rng.choice(list(OPS))
            self.try_op(op, full)
        if not self.nodes:
            return False
        outs = [n for n in self.nodes if not n.used or not n.exact]
        outs += [n for n in self.nodes if n not in outs and rng.random() < 0.6]
        outs = sorted(outs[:14], key=lambda n: int(n.name[1:]))
        for v in self.inputs:
            self.lines.append(f"value {v.name} {fmt_shape(v.value.shape)} : {fmt_array(v.value)}"
                              .rstrip())
        for n in outs:
            a = n.value
            self.lines.append(f"output {n.name} {a.dtype.name} {fmt_shape(a.shape)} : "
                              f"{fmt_array(a)}".rstrip())
        return True


def coverage(blocks):
    """Comment lines counting what the graphs hold."""
    ops, dtypes, ranks, errors = {}, {}, {}, {}
    zero = consts = outputs = 0
    for b in blocks:
        for line in b:
            t = line.split()
            if t[0] == "op":
                name = "true_div" if t[2] == "div" else t[2]
                ops[name] = ops.get(name, 0) + 1
            elif t[0] == "input":
                dtypes[t[2]] = dtypes.get(t[2], 0) + 1
                ranks[t[3]] = ranks.get(t[3], 0) + 1
            elif t[0] == "value":
                zero += "0" in t[3:3 + int(t[2])]
            elif t[0] == "error":
                errors[t[2]] = errors.get(t[2], 0) + 1
            elif t[0] in ("int", "float", "scalar", "constant"):
                consts += 1
            elif t[0] == "output":
                outputs += 1
    missing = [k for k in OPS if k not in ops] + [t for t in DTYPES if t not in dtypes]
    if missing:
        print("warning: no graph uses " + ", ".join(missing), file=sys.stderr)

    def counts(d, keys):
        return ", ".join(f"{k} {d.get(k, 0)}" for k in keys)
    out = [
        "#",
        f"# Coverage: {len(blocks)} graphs, {sum(ops.values())} ops, {outputs} outputs, "
        f"{consts} constants, {zero} inputs of size 0.",
        "# Input dtypes: " + counts(dtypes, DTYPES) + ".",
        "# Input ranks: " + counts(ranks, sorted(ranks)) + ".",
        "# Expected build errors: " + counts(errors, sorted(errors)) + ".",
    ]
    if missing:
        out.append("# Not covered: " + ", ".join(missing) + ".")
    line = "# Ops:"
    for k in OPS:
        item = f" {k} {ops.get(k, 0)},"
        if len(line) + len(item) > 90:
            out.append(line)
            line = "#"
        line += item
    out.append(line.rstrip(",") + ".")
    return out


def op_cycle(rng):
    names = list(OPS)
    while True:
        rng.shuffle(names)
        yield from names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--graphs", type=int, default=240)
    ap.add_argument("-o", "--output", default=os.path.join(HERE, "numpy_cases.txt"))
    opts = ap.parse_args()
    rng = random.Random(opts.seed)
    cycle = op_cycle(rng)
    blocks = []
    gid = 0
    while len(blocks) < opts.graphs:
        g = Graph(rng, gid)
        if g.build(cycle):
            blocks.append([f"graph {gid}"] + g.lines + ["end"])
            gid += 1
    cmd = "python3 tests/data/make_numpy_cases.py"
    if opts.seed != 20240611 or opts.graphs != 240:
        cmd += f" --seed {opts.seed} --graphs {opts.graphs}"
    header = [
        f"# Generated by: {cmd}",
        f"# NumPy {np.__version__}, Python {sys.version.split()[0]}, "
        f"longdouble with {np.finfo(LD).nmant + 1}-bit significands",
        "# Do not edit: change the script and run it again.",
        "#",
        "# Format: one graph per block, `graph ID` to `end`; tokens separated by spaces.",
        "#   input NAME DTYPE NDIM DIM...        an input; a DIM is a static size or ? (unknown)",
        "#   int NAME VALUE                      damo_int (a C integer, NEP 50 weak)",
        "#   float NAME VALUE                    damo_float (a C double, NEP 50 weak)",
        "#   scalar NAME DTYPE VALUE             damo_const_scalar",
        "#   constant NAME DTYPE NDIM DIM... : V...   damo_constant of an array",
        "#   op NAME OP ARG... [DTYPE]           NAME = damo_OP(ARG...); cast takes a DTYPE",
        "#   error OP STATUS ARG...              damo_OP(ARG...) must fail with STATUS",
        "#   value NAME NDIM DIM... : V...       the call's array for input NAME (its dtype)",
        "#   output NAME DTYPE NDIM DIM... : V...   an output and NumPy's result, C order",
        "# Values: integers exactly, bools 0/1, floats as Python's repr (the shortest",
        "# decimal that reads back to the same double: strtod); nan, inf, -inf spelled out.",
    ]
    header += coverage(blocks)
    with open(opts.output, "w") as f:
        f.write("\n".join(header) + "\n")
        for b in blocks:
            f.write("\n".join(b) + "\n")


if __name__ == "__main__":
    main()
