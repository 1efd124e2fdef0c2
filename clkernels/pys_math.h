/* pys_math.h -- float32 math for pysession kernels.
 *
 * Built with -DPYS_INLINE_MATH (or with `#define PYS_INLINE_MATH` before this header) the
 * functions below are written out with plain arithmetic and as_int/as_float bit reinterpretation,
 * which the PoCL CPU compiler inlines and vectorises; PoCL's own built-ins stay scalar library
 * calls there (see shared/PERF-NOTES.md and docs/MATH.md for the measurements).
 * Without the define every function is the OpenCL built-in (fast on GPU drivers).
 *
 * Accuracy of the inline versions (bench/math_accuracy.py, docs/MATH.md): <= ~2-3 ulp over the
 * normal float range, with the IEEE / numpy special cases (NaN, +-inf, overflow, underflow,
 * log of a negative -> NaN, log(0) = -inf, pow's sign and integer-exponent rules).
 * The inline code needs round-to-nearest arithmetic that the compiler does not reassociate:
 * never build it with -cl-fast-relaxed-math / -cl-unsafe-math-optimizations.
 * pys_sinf / pys_cosf reduce their argument in double when the device has cl_khr_fp64 (every
 * PoCL CPU device does); pys_powf evaluates log/exp in double there too.
 * float64 kernels use the OpenCL built-ins (elementwise.h).
 */
#ifndef PYS_MATH_H
#define PYS_MATH_H

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define PYS_FN static inline

#ifdef PYS_INLINE_MATH

#define PYS_INF_F as_float(0x7f800000)
#define PYS_NAN_F as_float(0x7fc00000)

PYS_FN float pys_fabsf_(float x) { return as_float(as_int(x) & 0x7fffffff); }
PYS_FN float pys_orsign_(float r, float x) { return as_float(as_int(r) | (as_int(x) & (int)0x80000000)); }

/* round half to even: |x| + 2^23 has no fraction bits left, so the FPU rounds for us */
PYS_FN float pys_rintf(float x)
{
    float ax = pys_fabsf_(x);
    float r = (ax + 8388608.0f) - 8388608.0f;
    r = pys_orsign_(r, x);
    return ax < 8388608.0f ? r : x;          /* big, inf and NaN are their own rint */
}
PYS_FN float pys_floorf(float x) { float r = pys_rintf(x); return r > x ? r - 1.0f : r; }
PYS_FN float pys_ceilf(float x)  { float r = pys_rintf(x); return r < x ? r + 1.0f : r; }

/* llvm.sqrt is a single instruction on every x86 target and is correctly rounded */
PYS_FN float pys_sqrtf(float x) { return __builtin_sqrtf(x); }
PYS_FN float pys_rsqrtf(float x) { return 1.0f / __builtin_sqrtf(x); }

/* e^r - 1 on |r| <= ln2/2 (Taylor to r^8; truncation < 3e-11 relative) */
PYS_FN float pys_expm1_poly_(float r)
{
    float p = 2.48015873e-05f;                      /* 1/8! */
    p = p * r + 1.98412698e-04f;                    /* 1/7! */
    p = p * r + 1.38888889e-03f;                    /* 1/6! */
    p = p * r + 8.33333333e-03f;                    /* 1/5! */
    p = p * r + 4.16666667e-02f;                    /* 1/4! */
    p = p * r + 1.66666667e-01f;                    /* 1/3! */
    p = p * r + 0.5f;
    return r + (r * r) * p;
}

/* x = k ln2 + r, |r| <= ln2/2; k is read from the mantissa after adding 1.5*2^23 */
#define PYS_REDUCE_LN2_(x, k, r) do {                                        \
        float t_ = (x) * 1.44269504f + 12582912.0f;                          \
        k = as_int(t_) - 0x4b400000;                                         \
        float kf_ = t_ - 12582912.0f;                                        \
        r = ((x) - kf_ * 0.693145752f) - kf_ * 1.42860677e-06f;              \
    } while (0)

PYS_FN float pys_expf(float x)
{
    /* clamp keeps k in [-150, 128]; beyond it the result is 0 or inf anyway (NaN passes) */
    float xc = x > 89.0f ? 89.0f : x;
    xc = xc < -104.0f ? -104.0f : xc;
    int k; float r;
    PYS_REDUCE_LN2_(xc, k, r);
    float p = 1.0f + pys_expm1_poly_(r);
    int k1 = k >> 1;
    int k2 = k - k1;                                /* 2^k in two normal factors */
    return (p * as_float((k1 + 127) << 23)) * as_float((k2 + 127) << 23);
}

PYS_FN float pys_expm1f(float x)
{
    float xc = x > 89.0f ? 89.0f : x;
    xc = xc < -18.0f ? -18.0f : xc;                 /* e^-18 < ulp(1)/2: result -1 */
    int k; float r;
    PYS_REDUCE_LN2_(xc, k, r);
    float p = pys_expm1_poly_(r);
    float h = as_float((k + 126) << 23);            /* 2^(k-1), k in [-26, 128] */
    float y = 2.0f * (h * p + (h - 0.5f));          /* 2^k (e^r - 1) + (2^k - 1) */
    return k == 0 ? p : y;
}

/* log(1+f) for m = 1+f in [sqrt(2)/2, sqrt(2)): f - f^2/2 + s (f^2/2 + R(s^2)), s = f/(2+f) */
PYS_FN float pys_log1p_core_(float f)
{
    float s = f / (2.0f + f);
    float z = s * s;
    float R = z * (0.666666667f + z * (0.4f + z * (0.285714286f + z * 0.222222222f)));
    float hfsq = 0.5f * f * f;
    return f - (hfsq - s * (hfsq + R));
}

PYS_FN float pys_logf(float x)
{
    int ix = as_int(x);
    int sub = ix < 0x00800000;                      /* subnormal (or <= 0): scale by 2^23 */
    float xs = sub ? x * 8388608.0f : x;
    ix = as_int(xs);
    /* move m into [sqrt(2)/2, sqrt(2)) : 0x3f3504f3 is sqrt(2)/2 */
    int t = ix - 0x3f3504f3;
    int e = (t >> 23) - (sub ? 23 : 0);
    float m = as_float((t & 0x007fffff) + 0x3f3504f3);
    float ef = (float)e;
    float r = ef * 0.693145752f + (pys_log1p_core_(m - 1.0f) + ef * 1.42860677e-06f);
    r = x == 0.0f ? -PYS_INF_F : r;
    r = x < 0.0f ? PYS_NAN_F : r;
    return (ix >= 0x7f800000) ? x + x : r;          /* +inf -> inf, NaN -> NaN */
}

PYS_FN float pys_log1pf(float x)
{
    float u = 1.0f + x;
    float d = u - 1.0f;                              /* exact */
    float l = pys_logf(u);
    float r = l * (x / d);                           /* corrects the rounding of 1 + x */
    r = d == 0.0f ? x : r;
    r = x > 1.0e30f ? l : r;                         /* huge and +inf: 1 + x == x */
    r = x == -1.0f ? -PYS_INF_F : r;
    return r;
}

/* tanh(x) = e/(e+2) with e = expm1(2|x|); exact-ish everywhere, saturates at 9 */
PYS_FN float pys_tanhf(float x)
{
    float ax = pys_fabsf_(x);
    ax = ax > 9.0f ? 9.0f : ax;
    float e = pys_expm1f(2.0f * ax);
    float r = e / (e + 2.0f);
    return pys_orsign_(r, x);
}

/* e = exp(-|x|) never overflows; x < 0 gives e / (1 + e), keeping tiny results (subnormal too) */
PYS_FN float pys_sigmoidf(float x)
{
    float e = pys_expf(-pys_fabsf_(x));
    float d = 1.0f / (1.0f + e);
    return x < 0.0f ? e * d : d;
}

/* sin / cos on |r| <= pi/4 (Taylor; truncation ~1e-9) */
PYS_FN float pys_sin_poly_(float r)
{
    float z = r * r;
    float p = 2.75573192e-06f;
    p = p * z - 1.98412698e-04f;
    p = p * z + 8.33333333e-03f;
    p = p * z - 1.66666667e-01f;
    return r + r * z * p;
}
PYS_FN float pys_cos_poly_(float r)
{
    float z = r * r;
    float p = -2.75573192e-07f;
    p = p * z + 2.48015873e-05f;
    p = p * z - 1.38888889e-03f;
    p = p * z + 4.16666667e-02f;
    p = p * z - 0.5f;
    return 1.0f + z * p;
}

/* x = q pi/2 + r; returns r, q (mod 4 is what matters) */
PYS_FN float pys_reduce_pio2_(float x, int *q)
{
#ifdef cl_khr_fp64
    double xd = (double)x;
    double t = xd * 0x1.45f306dc9c883p-1 + 6755399441055744.0;    /* 1.5*2^52 */
    double kd = t - 6755399441055744.0;
    *q = (int)(as_long(t) & 3);
    /* pi/2 in three 33-bit pieces: k * piece exact for |k| < 2^20 */
    double r = ((xd - kd * 0x1.921fb544p+0) - kd * 0x1.0b4611a6p-34) - kd * 0x1.3198a2e037073p-69;
    return (float)r;
#else
    float t = x * 0.636619772f + 12582912.0f;
    float kf = t - 12582912.0f;
    *q = as_int(t) & 3;
    return (((x - kf * 1.57080078125f) + kf * 4.45358455e-06f) + kf * 8.70613803e-10f)
           - kf * 6.22337197e-14f;
#endif
}

PYS_FN float pys_sinf(float x)
{
    int q;
    float r = pys_reduce_pio2_(x, &q);
    float s = pys_sin_poly_(r);
    float c = pys_cos_poly_(r);
    float v = (q & 1) ? c : s;
    v = (q & 2) ? -v : v;
    v = v > 1.0f ? 1.0f : (v < -1.0f ? -1.0f : v);  /* |x| > 1.6e6: reduction inexact, stay bounded */
    return pys_fabsf_(x) < PYS_INF_F ? v : x - x;   /* inf -> NaN, NaN -> NaN */
}

PYS_FN float pys_cosf(float x)
{
    int q;
    float r = pys_reduce_pio2_(x, &q);
    float s = pys_sin_poly_(r);
    float c = pys_cos_poly_(r);
    float v = (q & 1) ? s : c;
    v = ((q + 1) & 2) ? -v : v;
    v = v > 1.0f ? 1.0f : (v < -1.0f ? -1.0f : v);
    return pys_fabsf_(x) < PYS_INF_F ? v : x - x;
}

#ifdef cl_khr_fp64
/* double log / exp good to ~1e-14, only for pow's y*log|x| */
PYS_FN double pys_log_d_(double x)
{
    long ix = as_long(x);
    long t = ix - 0x3fe6a09e667f3bcdL;
    double e = (double)(t >> 52);
    double f = as_double((t & 0x000fffffffffffffL) + 0x3fe6a09e667f3bcdL) - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    double R = z * (6.6666666666666667e-01 + z * (4.0e-01 + z * (2.8571428571428571e-01
               + z * (2.2222222222222222e-01 + z * (1.8181818181818182e-01
               + z * (1.5384615384615385e-01 + z * 1.3333333333333333e-01))))));
    double hfsq = 0.5 * f * f;
    return e * 0x1.62e42ffp-1 + ((f - (hfsq - s * (hfsq + R))) + e * -0x1.718432a1b0e26p-35);
}
PYS_FN double pys_exp_d_(double x)
{
    x = x > 300.0 ? 300.0 : x;
    x = x < -300.0 ? -300.0 : x;
    double t = x * 1.44269504088896339 + 6755399441055744.0;
    long k = as_long(t) - 0x4338000000000000L;
    double kd = t - 6755399441055744.0;
    double r = (x - kd * 0x1.62e42ffp-1) - kd * -0x1.718432a1b0e26p-35;
    double p = 2.08767569878680990e-09;            /* 1/12! */
    p = p * r + 2.50521083854417188e-08;
    p = p * r + 2.75573192239858907e-07;
    p = p * r + 2.75573192239858907e-06;
    p = p * r + 2.48015873015873016e-05;
    p = p * r + 1.98412698412698413e-04;
    p = p * r + 1.38888888888888889e-03;
    p = p * r + 8.33333333333333333e-03;
    p = p * r + 4.16666666666666667e-02;
    p = p * r + 1.66666666666666667e-01;
    p = p * r + 0.5;
    p = 1.0 + (r + r * r * p);
    return p * as_double((k + 1023) << 52);
}
#endif

/* numpy / C99 pow rules for float32 */
PYS_FN float pys_powf(float x, float y)
{
    float ax = pys_fabsf_(x);
    float ay = pys_fabsf_(y);
    /* y integral? (every float >= 2^23 is); odd when |y| < 2^24 and the last bit is set */
    int yint = pys_rintf(y) == y;
    int iy = (int)(ay < 16777216.0f ? ay : 0.0f);     /* no out-of-range conversion */
    int yodd = yint && (iy & 1);
#ifdef cl_khr_fp64
    float mag = (float)pys_exp_d_((double)y * pys_log_d_((double)ax));
#else
    float mag = pys_expf(y * pys_logf(ax));
#endif
    /* |x| == 0 or inf: log is +-inf, handled by hand */
    float zinf = ((ax == 0.0f) == (y > 0.0f)) ? 0.0f : PYS_INF_F;
    mag = (ax == 0.0f || ax == PYS_INF_F) ? zinf : mag;
    mag = (ay == PYS_INF_F) ? ((ax == 1.0f) ? 1.0f : (((ax < 1.0f) == (y > 0.0f)) ? 0.0f : PYS_INF_F)) : mag;
    mag = (x != x || y != y) ? PYS_NAN_F : mag;
    float r = (x < 0.0f || as_int(x) == (int)0x80000000) && yodd ? -mag : mag;
    r = (x < 0.0f && !yint && ax != PYS_INF_F) ? PYS_NAN_F : r;
    r = (x < 0.0f && !yint && ax == PYS_INF_F) ? mag : r;
    r = (y == 0.0f || x == 1.0f) ? 1.0f : r;
    return r;
}

#else  /* built-ins */

#define pys_expf(x)    exp(x)
#define pys_logf(x)    log(x)
#define pys_log1pf(x)  log1p(x)
#define pys_expm1f(x)  expm1(x)
#define pys_tanhf(x)   tanh(x)
#define pys_sinf(x)    sin(x)
#define pys_cosf(x)    cos(x)
#define pys_powf(x, y) pow(x, y)
#define pys_sqrtf(x)   sqrt(x)
#define pys_rsqrtf(x)  rsqrt(x)
#define pys_floorf(x)  floor(x)
#define pys_ceilf(x)   ceil(x)
#define pys_rintf(x)   rint(x)
PYS_FN float pys_sigmoidf(float x) { return 1.0f / (1.0f + exp(-x)); }

#endif  /* PYS_INLINE_MATH */

#endif  /* PYS_MATH_H */
