"""Accuracy and speed of clkernels/pys_math.h: inline (-DPYS_INLINE_MATH) vs OpenCL built-ins.

For every function: max relative error and max ulp error against numpy float64 over wide input
ranges, whether the special cases (NaN, +-inf, 0, overflow, ...) match numpy's float32 results,
and throughput in Gelem/s of the inline and the built-in versions measured in this one process.
Writes the table into docs/MATH.md (between the AUTOGEN markers) unless --no-write.

    python bench/math_accuracy.py [--n 4194304] [--no-write]

The OpenCL device is the first one that builds a kernel (see docs/MATH.md on the PoCL 3.0 wheel
failing on CPUs its LLVM does not know; OCL_ICD_VENDORS can add a system PoCL).
"""
import argparse
import os
import re
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from pysession.runtime import config  # noqa: E402

config.prepare_environment()        # PoCL target-CPU fix, before pyopencl queries platforms
import pyopencl as cl  # noqa: E402
from pysession.runtime.kernel_source import read_source  # noqa: E402

F32 = np.float32
rng = np.random.default_rng(1234)


def logu(lo, hi, n, neg=False):
    v = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    if neg:
        v *= rng.choice([-1.0, 1.0], n)
    return v


def uni(lo, hi, n):
    return rng.uniform(lo, hi, n)


# name, OpenCL call, numpy float64 reference, [(range label, inputs...)], specials
M = 400_000
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 1e-45, -1e-45, 1e-40,
                    3.4e38, -3.4e38, 88.7, 88.73, 89.0, -87.0, -103.0, -104.0, -110.0, 0.5,
                    -0.5, 1.5, 2.5, -2.5, 8388607.5, 16777215.0, 1e10, -1e10, 1e-10, 9.5, -9.5,
                    20.0, -20.0, 100.0, -100.0], dtype=np.float64)

UNARY = [
    ("exp", "pys_expf(a)", np.exp, "exp(a)",
     [("[-103, 88.7]", uni(-103, 88.7, M)), ("abs(x) in [1e-8, 1]", logu(1e-8, 1, M, True))]),
    ("expm1", "pys_expm1f(a)", np.expm1, "expm1(a)",
     [("[-20, 88.7]", uni(-20, 88.7, M)), ("abs(x) in [1e-30, 1]", logu(1e-30, 1, M, True))]),
    ("log", "pys_logf(a)", np.log, "log(a)",
     [("[1e-45, 3e38]", logu(1e-45, 3e38, M)), ("[0.5, 2]", uni(0.5, 2, M))]),
    ("log1p", "pys_log1pf(a)", np.log1p, "log1p(a)",
     [("[-1+1e-7, 1e38]", np.concatenate([-logu(1e-7, 1 - 1e-7, M // 2), logu(1e-30, 1e38, M // 2)])),
      ("abs(x) in [1e-30, 0.5]", logu(1e-30, 0.5, M, True))]),
    ("tanh", "pys_tanhf(a)", np.tanh, "tanh(a)",
     [("[-12, 12]", uni(-12, 12, M)), ("abs(x) in [1e-30, 1]", logu(1e-30, 1, M, True))]),
    ("sigmoid", "pys_sigmoidf(a)", lambda x: 1.0 / (1.0 + np.exp(-x)), "1.0f / (1.0f + exp(-a))",
     [("[-87, 100]", uni(-87, 100, M)), ("[-10, 10]", uni(-10, 10, M))]),
    ("sin", "pys_sinf(a)", np.sin, "sin(a)",
     [("[-10, 10]", uni(-10, 10, M)), ("[-1e4, 1e4]", uni(-1e4, 1e4, M)),
      ("[-1e6, 1e6]", uni(-1e6, 1e6, M))]),
    ("cos", "pys_cosf(a)", np.cos, "cos(a)",
     [("[-10, 10]", uni(-10, 10, M)), ("[-1e4, 1e4]", uni(-1e4, 1e4, M)),
      ("[-1e6, 1e6]", uni(-1e6, 1e6, M))]),
    ("sqrt", "pys_sqrtf(a)", np.sqrt, "sqrt(a)", [("[1e-45, 3e38]", logu(1e-45, 3e38, M))]),
    ("rsqrt", "pys_rsqrtf(a)", lambda x: 1 / np.sqrt(x), "rsqrt(a)",
     [("[1e-37, 3e38]", logu(1e-37, 3e38, M))]),
    ("floor", "pys_floorf(a)", np.floor, "floor(a)",
     [("[-1e8, 1e8]", logu(1e-3, 1e8, M, True)), ("halves", np.round(uni(-1e4, 1e4, M)) + 0.5)]),
    ("ceil", "pys_ceilf(a)", np.ceil, "ceil(a)",
     [("[-1e8, 1e8]", logu(1e-3, 1e8, M, True)), ("halves", np.round(uni(-1e4, 1e4, M)) + 0.5)]),
    ("rint", "pys_rintf(a)", np.rint, "rint(a)",
     [("[-1e8, 1e8]", logu(1e-3, 1e8, M, True)), ("halves", np.round(uni(-1e4, 1e4, M)) + 0.5)]),
]


def pow_ref(x, y):
    with np.errstate(all="ignore"):
        return np.power(x, y)


def pow_inputs():
    x = logu(1e-6, 1e6, M)
    y = uni(-6, 6, M)
    xi = -logu(1e-3, 1e3, M)
    yi = np.round(uni(-12, 12, M))
    return [("x in [1e-6, 1e6], y in [-6, 6]", x, y),
            ("x in [-1e3, -1e-3], integral y", xi, yi)]


def device():
    errs = []
    for p in cl.get_platforms():
        for d in p.get_devices():
            ctx = cl.Context([d])
            try:
                cl.Program(ctx, "__kernel void k(__global float *a) { a[0] = 1.0f; }").build()
                return ctx
            except cl.Error as e:  # noqa: PERF203
                errs.append(f"{d.name}: {str(e).strip().splitlines()[-1]}")
    raise SystemExit("no OpenCL device builds a kernel:\n" + "\n".join(errs))


def kernel(ctx, expr, arity, inline):
    hdr = read_source("pys_math.h")
    args = "__global const float *A" + (", __global const float *B" if arity == 2 else "")
    load = "float a = A[i];" + (" float b = B[i];" if arity == 2 else "")
    src = (("#define PYS_INLINE_MATH 1\n" if inline else "") + hdr +
           f"\n__kernel void k(__global float *out, {args}) {{ size_t i = get_global_id(0); "
           f"{load} out[i] = {expr}; }}\n")
    return cl.Program(ctx, src).build().k


def run(ctx, q, k, *xs):
    n = xs[0].size
    mf = cl.mem_flags
    bufs = [cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=np.ascontiguousarray(x, F32))
            for x in xs]
    out = cl.Buffer(ctx, mf.WRITE_ONLY, 4 * n)
    k(q, (n,), None, out, *bufs)
    res = np.empty(n, F32)
    cl.enqueue_copy(q, res, out)
    return res


def errors(got, ref):
    """max relative error and max ulp error (ulp of the float32 nearest the reference)."""
    got = got.astype(np.float64)
    fin = np.isfinite(ref) & (np.abs(ref) < 3.4e38)
    ref_f = ref[fin]
    g = got[fin]
    diff = np.abs(g - ref_f)
    ulp = np.spacing(np.abs(ref_f).astype(F32)).astype(np.float64)
    normal = np.abs(ref_f) >= 1.1754944e-38
    rel = np.where(normal & (ref_f != 0), diff / np.where(ref_f == 0, 1, np.abs(ref_f)), 0)
    bad_inf = int(np.sum(~fin & ~((got == ref) | (np.isnan(got) & np.isnan(ref)))))
    return float(rel.max(initial=0)), float((diff / ulp).max(initial=0)), bad_inf


def specials_ok(got, ref32):
    same = (got == ref32) | (np.isnan(got) & np.isnan(ref32))
    # finite results only need to be close; inf / nan / zero class must be identical
    close = np.isfinite(ref32) & np.isfinite(got) & (np.abs(got - ref32) <= 4 * np.spacing(np.abs(ref32)))
    sign_ok = ~(np.isinf(ref32) | np.isinf(got)) | same
    bad = ~(same | close) | ~sign_ok
    return int(bad.sum())


def throughput(ctx, q, k, n, arity, reps=7):
    mf = cl.mem_flags
    x = np.ascontiguousarray(rng.uniform(0.25, 4.0, n), F32)
    bufs = [cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=x) for _ in range(arity)]
    out = cl.Buffer(ctx, mf.WRITE_ONLY, 4 * n)
    k(q, (n,), (256,), out, *bufs)
    q.finish()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        k(q, (n,), (256,), out, *bufs)
        q.finish()
        ts.append(time.perf_counter() - t)
    return n / float(np.median(ts)) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1 << 22)
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args()
    ctx = device()
    q = cl.CommandQueue(ctx)
    dev = ctx.devices[0]
    rows = []
    for name, expr, ref, bexpr, ranges in UNARY:
        kin = kernel(ctx, expr, 1, True)
        kbi = kernel(ctx, bexpr, 1, False)
        for label, x in ranges:
            x32 = x.astype(F32)
            ref64 = ref(x32.astype(np.float64))
            rel, ulp, _ = errors(run(ctx, q, kin, x32), ref64)
            brel, bulp, _ = errors(run(ctx, q, kbi, x32), ref64)
            rows.append([name, label, rel, ulp, brel, bulp])
        s32 = SPECIAL.astype(F32)
        with np.errstate(all="ignore"):
            sref = ref(s32.astype(np.float64)).astype(F32)
        rows[-1].append(specials_ok(run(ctx, q, kin, s32), sref))
        rows[-1].append(throughput(ctx, q, kin, opts.n, 1))
        rows[-1].append(throughput(ctx, q, kbi, opts.n, 1))
        print(rows[-1], flush=True)
    kin = kernel(ctx, "pys_powf(a, b)", 2, True)
    kbi = kernel(ctx, "pow(a, b)", 2, False)
    for label, x, y in pow_inputs():
        x32, y32 = x.astype(F32), y.astype(F32)
        r64 = pow_ref(x32.astype(np.float64), y32.astype(np.float64))
        rel, ulp, _ = errors(run(ctx, q, kin, x32, y32), r64)
        brel, bulp, _ = errors(run(ctx, q, kbi, x32, y32), r64)
        rows.append(["pow", label, rel, ulp, brel, bulp])
    sx, sy = np.meshgrid(SPECIAL.astype(F32), np.array(
        [0, -0.0, 1, -1, 2, 3, -3, 0.5, -0.5, np.inf, -np.inf, np.nan, 1e10, 2.5], F32))
    sx, sy = sx.ravel(), sy.ravel()
    rows[-1].append(specials_ok(run(ctx, q, kin, sx, sy), pow_ref(sx, sy).astype(F32)))
    rows[-1].append(throughput(ctx, q, kin, opts.n, 2))
    rows[-1].append(throughput(ctx, q, kbi, opts.n, 2))
    print(rows[-1])

    lines = [f"Device: {dev.name} ({dev.platform.version.strip()}); {opts.n} elements for "
             "throughput (median of 7, same process).", "",
             "| function | input range | inline max rel | inline max ulp | built-in max rel | "
             "built-in max ulp | specials wrong | inline Gelem/s | built-in Gelem/s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        extra = (f"{r[6]} | {r[7]:.2f} | {r[8]:.2f}" if len(r) > 6 else " | | ")
        lines.append(f"| {r[0]} | {r[1]} | {r[2]:.2e} | {r[3]:.2f} | {r[4]:.2e} | {r[5]:.2f} | {extra} |")
    table = "\n".join(lines)
    print(table)
    if not opts.no_write:
        path = os.path.join(ROOT, "docs", "MATH.md")
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"(<!-- AUTOGEN:math_accuracy -->\n).*?(<!-- /AUTOGEN -->)",
                      lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
