// nn.cl -- kernels of pysession/ops/nn_ops.py: softmax, log-softmax, (sparse) softmax
// cross-entropy, im2col for conv2d (the product is matmul.cl's GEMM), max / avg pooling,
// l2_loss.
//
// nn_ops.py pastes pys_math.h in front of this file and builds it with -DT=<float|double>
// (and -DL=<label type> for the sparse cross-entropy).  float kernels use pys_expf / pys_logf
// (inline on PoCL CPU, the built-ins elsewhere); double kernels the built-ins.
//
// Row kernels (softmax family) run one work-item per row: rows of a batch are independent and
// a row is read three times from cache.  Max uses `v > m || v != v` so NaN propagates.
// Every kernel takes its element counts as arguments and guards the rounded-up global size.

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#ifndef T
#define T float
#endif

#if defined(T_IS_DOUBLE)
#define EXP(x) exp(x)
#define LOG(x) log(x)
#define NEG_INF (-INFINITY)
#else
#define EXP(x) pys_expf(x)
#define LOG(x) pys_logf(x)
#define NEG_INF (-as_float(0x7f800000))
#endif

#define MAXNAN(m, v) (((v) > (m) || (v) != (v)) ? (v) : (m))

// A "row" of the softmax family is the C elements along the reduced axis: row r starts at
// (r / S) * C * S + r % S and its elements are S apart (S = 1 for the last axis; built with
// -DUNIT_STRIDE then).
#ifdef UNIT_STRIDE
#define AT(j) (j)
#define ROW_BASE(r, C, S) ((long)(r) * (C))
#else
#define AT(j) ((long)(j) * S)
#define ROW_BASE(r, C, S) (((long)(r) / (S)) * (C) * (S) + (long)(r) % (S))
#endif

static inline T row_max(__global const T *x, int C, int S)
{
    T m = NEG_INF;
    for (int j = 0; j < C; j++) {
        T v = x[AT(j)];
        m = MAXNAN(m, v);
    }
    return m;
}

// out[row] = softmax(x[row])
__kernel void softmax(__global const T *x, __global T *out, const int R, const int C,
                      const int S)
{
    int r = get_global_id(0);
    if (r >= R)
        return;
    long base = ROW_BASE(r, C, S);
    __global const T *xr = x + base;
    __global T *o = out + base;
    T m = row_max(xr, C, S);
    T s = 0;
    for (int j = 0; j < C; j++) {
        T e = EXP(xr[AT(j)] - m);
        o[AT(j)] = e;
        s += e;
    }
    T inv = (T)1 / s;
    for (int j = 0; j < C; j++)
        o[AT(j)] *= inv;
}

// out[row] = x[row] - logsumexp(x[row])
__kernel void log_softmax(__global const T *x, __global T *out, const int R, const int C,
                          const int S)
{
    int r = get_global_id(0);
    if (r >= R)
        return;
    long base = ROW_BASE(r, C, S);
    __global const T *xr = x + base;
    __global T *o = out + base;
    T m = row_max(xr, C, S);
    T s = 0;
    for (int j = 0; j < C; j++)
        s += EXP(xr[AT(j)] - m);
    T lse = m + LOG(s);
    for (int j = 0; j < C; j++)
        o[AT(j)] = xr[AT(j)] - lse;
}

// loss[r] = sum_j labels[r,j] * (lse_r - x[r,j]);  backprop[row] = softmax(x[row]) - labels[row]
__kernel void softmax_xent(__global const T *x, __global const T *labels, __global T *loss,
                           __global T *backprop, const int R, const int C, const int S)
{
    int r = get_global_id(0);
    if (r >= R)
        return;
    long base = ROW_BASE(r, C, S);
    __global const T *xr = x + base;
    __global const T *lr = labels + base;
    __global T *b = backprop + base;
    T m = row_max(xr, C, S);
    T s = 0;
    for (int j = 0; j < C; j++) {
        T e = EXP(xr[AT(j)] - m);
        b[AT(j)] = e;
        s += e;
    }
    T logs = LOG(s);
    T inv = (T)1 / s;
    T acc = 0;
    for (int j = 0; j < C; j++) {
        T l = lr[AT(j)];
        acc += l * (logs - (xr[AT(j)] - m));
        b[AT(j)] = b[AT(j)] * inv - l;
    }
    loss[r] = acc;
}

#ifdef L
// As softmax_xent with one-hot labels (last axis only); a label outside [0, C) writes `code`
// to err[0] and NaN to its row.
__kernel void sparse_softmax_xent(__global const T *x, __global const L *labels,
                                  __global T *loss, __global T *backprop, const int R,
                                  const int C, __global int *err, const int code)
{
    int r = get_global_id(0);
    if (r >= R)
        return;
    __global const T *xr = x + (long)r * C;
    __global T *b = backprop + (long)r * C;
    L lab = labels[r];
    if (lab < 0 || lab >= C) {
        err[0] = code;
        loss[r] = NAN;
        for (int j = 0; j < C; j++)
            b[j] = NAN;
        return;
    }
    T m = NEG_INF;
    for (int j = 0; j < C; j++) {
        T v = xr[j];
        m = MAXNAN(m, v);
    }
    T s = 0;
    for (int j = 0; j < C; j++) {
        T e = EXP(xr[j] - m);
        b[j] = e;
        s += e;
    }
    T inv = (T)1 / s;
    for (int j = 0; j < C; j++)
        b[j] *= inv;
    b[lab] -= (T)1;
    loss[r] = LOG(s) - (xr[lab] - m);
}
#endif

// im2col for NHWC input, HWIO filter: cols[m, (kh*KW + kw)*C + c] = x[n, ih, iw, c] (0 outside),
// m = (n*OH + oh)*OW + ow, ih = oh*SH - PT + kh*DH, iw = ow*SW - PL + kw*DW.
// One work-item per (m, kh): KW*C elements.
__kernel void im2col(__global const T *x, __global T *cols, const int M, const int H,
                     const int W, const int C, const int KH, const int KW, const int SH,
                     const int SW, const int DH, const int DW, const int PT, const int PL,
                     const int OH, const int OW)
{
    int m = get_global_id(0);
    int kh = get_global_id(1);
    if (m >= M || kh >= KH)
        return;
    int ow = m % OW;
    int t = m / OW;
    int oh = t % OH;
    int n = t / OH;
    int ih = oh * SH - PT + kh * DH;
    int rowlen = KW * C;
    __global T *dst = cols + (long)m * KH * rowlen + (long)kh * rowlen;
    if (ih < 0 || ih >= H) {
        for (int j = 0; j < rowlen; j++)
            dst[j] = 0;
        return;
    }
    int iw0 = ow * SW - PL;
    __global const T *src = x + ((long)n * H + ih) * W * C;
    for (int kw = 0; kw < KW; kw++) {
        int iw = iw0 + kw * DW;
        __global T *d = dst + kw * C;
        if (iw < 0 || iw >= W) {
            for (int c = 0; c < C; c++)
                d[c] = 0;
        } else {
            __global const T *s = src + (long)iw * C;
            for (int c = 0; c < C; c++)
                d[c] = s[c];
        }
    }
}

// Pooling over NHWC: one work-item per output element (c fastest).  MaxPool ignores padding
// and propagates NaN; AvgPool divides by the number of in-bounds elements of the window.
__kernel void pool(__global const T *x, __global T *out, const long total, const int H,
                   const int W, const int C, const int KH, const int KW, const int SH,
                   const int SW, const int PT, const int PL, const int OH, const int OW)
{
    long i = get_global_id(0);
    if (i >= total)
        return;
    int c = (int)(i % C);
    long t = i / C;
    int ow = (int)(t % OW);
    t /= OW;
    int oh = (int)(t % OH);
    long n = t / OH;
    int h0 = oh * SH - PT, w0 = ow * SW - PL;
    int h1 = h0 + KH < H ? h0 + KH : H, w1 = w0 + KW < W ? w0 + KW : W;
    h0 = h0 > 0 ? h0 : 0;
    w0 = w0 > 0 ? w0 : 0;
    __global const T *xn = x + n * H * W * C + c;
#ifdef POOL_MAX
    T acc = NEG_INF;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) {
            T v = xn[((long)h * W + w) * C];
            acc = MAXNAN(acc, v);
        }
    out[i] = acc;
#else
    T acc = 0;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++)
            acc += xn[((long)h * W + w) * C];
    int cnt = (h1 - h0) * (w1 - w0);
    out[i] = acc / (T)cnt;
#endif
}

// l2_loss, stage 1: P work-items, item p sums x[k]^2 for k = p, p + P, ... into part[p]
// (interleaved so consecutive work-items read consecutive elements).
__kernel void sumsq_partial(__global const T *x, __global T *part, const long n, const int P)
{
    int p = get_global_id(0);
    if (p >= P)
        return;
    T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    long k = p;
    long step = P;
    for (; k + 3 * step < n; k += 4 * step) {
        T v0 = x[k], v1 = x[k + step], v2 = x[k + 2 * step], v3 = x[k + 3 * step];
        a0 += v0 * v0;
        a1 += v1 * v1;
        a2 += v2 * v2;
        a3 += v3 * v3;
    }
    for (; k < n; k += step) {
        T v = x[k];
        a0 += v * v;
    }
    part[p] = (a0 + a1) + (a2 + a3);
}

// stage 2: out[0] = sum(part) / 2
__kernel void sum_half(__global const T *part, __global T *out, const int P)
{
    if (get_global_id(0) != 0)
        return;
    T a = 0;
    for (int p = 0; p < P; p++)
        a += part[p];
    out[0] = a * (T)0.5;
}
