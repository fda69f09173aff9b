#!/usr/bin/env python3
"""Reference for tests/test_grad.c's small logistic regression: the
tutorial's training loop at 20 x 8 for 50 steps, with the gradients written
out by hand (not through any autodiff), in float64 NumPy.

    python3 tests/data/make_logreg_ref.py

prints the C initializers pasted into test_grad.c. The data come from
formulas the C test evaluates the same way:
    x[i][j] = sin(0.37 * (8 * i + j) + 0.1)
    w_true[j] = cos(1.3 * j)
    y[i] = 1 if x[i] . w_true > 0 else 0
    w0[j] = 0.05 * (j - 3.5), b0 = 0
"""
import numpy as np

N, F, STEPS = 20, 8, 50
i = np.arange(N)[:, None]
j = np.arange(F)[None, :]
x = np.sin(0.37 * (F * i + j) + 0.1)
w_true = np.cos(1.3 * np.arange(F))
y = (x @ w_true > 0).astype(np.float64)
w = 0.05 * (np.arange(F) - 3.5)
b = 0.0

for _ in range(STEPS):
    z = x @ w + b
    p = 1 / (1 + np.exp(-z))
    # cost = mean(-y log p - (1 - y) log(1 - p)) + 0.01 * sum(w ** 2)
    # d cost / d z = (p - y) / N;  d / d w = x.T @ that + 0.02 w;  d / d b = sum of it
    dz = (p - y) / N
    gw = x.T @ dz + 0.02 * w
    gb = dz.sum()
    w = w - 0.1 * gw
    b = b - 0.1 * gb

p = 1 / (1 + np.exp(-(x @ w + b)))
print("/* NumPy %s: python3 tests/data/make_logreg_ref.py */" % np.__version__)
print("static const double REF_W[%d] = {%s};" % (F, ", ".join(repr(float(v)) for v in w)))
print("static const double REF_B = %r;" % float(b))
print("static const int REF_PRED[%d] = {%s};" % (N, ", ".join(str(int(v)) for v in (p > 0.5))))
print("static const int REF_Y[%d] = {%s};" % (N, ", ".join(str(int(v)) for v in y)))
