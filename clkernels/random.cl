// random.cl -- counter-based random numbers (Philox-4x32-10) for pysession's random ops.
//
// pysession/ops/random_ops.py pastes pys_math.h in front of this file and builds it with
//   -DT=<float|double|int|long> and one of -DDIST_UNIFORM / -DDIST_NORMAL / -DDIST_TRUNCATED /
//   -DDIST_UNIFORM_INT.
//
// Stream layout.  The Philox key is the op's (seed, seed2).  The 128-bit counter is
//   (work-item index, attempt, run counter low, run counter high):
// a work-item draws one Philox block (4 x 32 bits) per attempt and turns it into EPI outputs
// (4 floats / ints, 2 doubles / longs).  The run counter lives in a session-owned int64 state
// buffer that `random_advance` increments after the op's kernel, so every run of a stateful
// random op sees new numbers while a fresh session (counter 0) repeats the first ones.
// Truncated normal draws further attempts (attempt 1, 2, ...) until every output it owns is
// inside two standard deviations.
//
// Uniform floats follow TF: 23 (52) random mantissa bits under exponent 0 give [1, 2), minus 1.
// Normals: Box-Muller on (1 - u1) in (0, 1] and u2, with pys_math.h's inline log/sin/cos.

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

// mul_hi is an out-of-line call on PoCL CPU: 64-bit products instead.
#define PHILOX_ROUND(c0, c1, c2, c3, k0, k1) do {                                      \
        ulong p0_ = (ulong)PHILOX_M0 * (ulong)(c0);                                       \
        ulong p1_ = (ulong)PHILOX_M1 * (ulong)(c2);                                       \
        uint n0_ = (uint)(p1_ >> 32) ^ (c1) ^ (k0);                                       \
        uint n2_ = (uint)(p0_ >> 32) ^ (c3) ^ (k1);                                       \
        c1 = (uint)p1_;                                                                   \
        c3 = (uint)p0_;                                                                   \
        c0 = n0_;                                                                         \
        c2 = n2_;                                                                         \
    } while (0)

// The Philox-4x32-10 block of counter (c0..c3) under key (k0, k1), in place.
#define PHILOX10(c0, c1, c2, c3, k0in, k1in) do {                                      \
        uint k0_ = (k0in), k1_ = (k1in);                                                  \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_); k0_ += PHILOX_W0; k1_ += PHILOX_W1;       \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_); k0_ += PHILOX_W0; k1_ += PHILOX_W1;       \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_); k0_ += PHILOX_W0; k1_ += PHILOX_W1;       \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_); k0_ += PHILOX_W0; k1_ += PHILOX_W1;       \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_); k0_ += PHILOX_W0; k1_ += PHILOX_W1;       \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_); k0_ += PHILOX_W0; k1_ += PHILOX_W1;       \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_); k0_ += PHILOX_W0; k1_ += PHILOX_W1;       \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_); k0_ += PHILOX_W0; k1_ += PHILOX_W1;       \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_); k0_ += PHILOX_W0; k1_ += PHILOX_W1;       \
        PHILOX_ROUND(c0, c1, c2, c3, k0_, k1_);                                           \
    } while (0)

static inline float pys_u01f(uint x) { return as_float((x >> 9) | 0x3f800000u) - 1.0f; }
#ifdef cl_khr_fp64
static inline double pys_u01d(uint hi, uint lo)
{
    ulong m = (((ulong)hi << 32) | (ulong)lo) >> 12;
    return as_double(m | 0x3ff0000000000000UL) - 1.0;
}
#endif

#define TWO_PI_F 6.28318530717958648f
#define TWO_PI_D 6.28318530717958648

__kernel void random_advance(__global long *ctr)
{
    ctr[0] += 1;
}

#ifndef T
#define T float
#endif

#if defined(DIST_UNIFORM_INT)
// out[i] = lo + x % (hi - lo); lo, hi read from 1-element buffers; hi <= lo reports `code`.
__kernel void random_op(__global T *out, const ulong n, const uint k0, const uint k1,
                        __global const long *ctr, __global const T *lo_p,
                        __global const T *hi_p, __global int *err, const int code)
{
    ulong gid = get_global_id(0);
    T lo = lo_p[0], hi = hi_p[0];
    if (gid == 0 && !(lo < hi))
        err[0] = code;
    long run = ctr[0];
    uint c0 = (uint)gid, c1 = (uint)(gid >> 32), c2 = (uint)run, c3 = (uint)((ulong)run >> 32);
    PHILOX10(c0, c1, c2, c3, k0, k1);
    if (!(lo < hi))
        return;
#if EPI == 4
    uint range = (uint)hi - (uint)lo;
    ulong base = gid * 4;
    if (base + 0 < n) out[base + 0] = (T)((uint)lo + c0 % range);
    if (base + 1 < n) out[base + 1] = (T)((uint)lo + c1 % range);
    if (base + 2 < n) out[base + 2] = (T)((uint)lo + c2 % range);
    if (base + 3 < n) out[base + 3] = (T)((uint)lo + c3 % range);
#else
    ulong range = (ulong)hi - (ulong)lo;
    ulong base = gid * 2;
    ulong a = ((ulong)c0 << 32) | c1, b = ((ulong)c2 << 32) | c3;
    if (base + 0 < n) out[base + 0] = (T)((ulong)lo + a % range);
    if (base + 1 < n) out[base + 1] = (T)((ulong)lo + b % range);
#endif
}

#else
__kernel void random_op(__global T *out, const ulong n, const uint k0, const uint k1,
                        __global const long *ctr)
{
    ulong gid = get_global_id(0);
    long run = ctr[0];
    uint r0 = (uint)run, r1 = (uint)((ulong)run >> 32);
    uint c0 = (uint)gid, c1 = 0, c2 = r0, c3 = r1;
    ulong base = gid * EPI;
    if (base >= n)
        return;
    PHILOX10(c0, c1, c2, c3, k0, k1);

#if defined(DIST_UNIFORM)
#if EPI == 4
    if (base + 0 < n) out[base + 0] = pys_u01f(c0);
    if (base + 1 < n) out[base + 1] = pys_u01f(c1);
    if (base + 2 < n) out[base + 2] = pys_u01f(c2);
    if (base + 3 < n) out[base + 3] = pys_u01f(c3);
#else
    if (base + 0 < n) out[base + 0] = pys_u01d(c0, c1);
    if (base + 1 < n) out[base + 1] = pys_u01d(c2, c3);
#endif

#elif defined(DIST_NORMAL)
#if EPI == 4
    float ra = pys_sqrtf(-2.0f * pys_logf(1.0f - pys_u01f(c0)));
    float ta = TWO_PI_F * pys_u01f(c1);
    float rb = pys_sqrtf(-2.0f * pys_logf(1.0f - pys_u01f(c2)));
    float tb = TWO_PI_F * pys_u01f(c3);
    if (base + 0 < n) out[base + 0] = ra * pys_sinf(ta);
    if (base + 1 < n) out[base + 1] = ra * pys_cosf(ta);
    if (base + 2 < n) out[base + 2] = rb * pys_sinf(tb);
    if (base + 3 < n) out[base + 3] = rb * pys_cosf(tb);
#else
    double r = sqrt(-2.0 * log(1.0 - pys_u01d(c0, c1)));
    double t = TWO_PI_D * pys_u01d(c2, c3);
    if (base + 0 < n) out[base + 0] = r * sin(t);
    if (base + 1 < n) out[base + 1] = r * cos(t);
#endif

#elif defined(DIST_TRUNCATED)
    // Fill EPI outputs with normals inside (-2, 2), drawing attempt 1, 2, ... as needed.
    T vals[4];
    int have = 0;
    for (uint attempt = 1; attempt < 256 && have < EPI; attempt++) {
#if EPI == 4
        float ra = pys_sqrtf(-2.0f * pys_logf(1.0f - pys_u01f(c0)));
        float ta = TWO_PI_F * pys_u01f(c1);
        float rb = pys_sqrtf(-2.0f * pys_logf(1.0f - pys_u01f(c2)));
        float tb = TWO_PI_F * pys_u01f(c3);
        float z[4] = {ra * pys_sinf(ta), ra * pys_cosf(ta), rb * pys_sinf(tb), rb * pys_cosf(tb)};
        for (int j = 0; j < 4; j++)
            if (have < 4 && z[j] > -2.0f && z[j] < 2.0f)
                vals[have++] = z[j];
#else
        double r = sqrt(-2.0 * log(1.0 - pys_u01d(c0, c1)));
        double t = TWO_PI_D * pys_u01d(c2, c3);
        double z[2] = {r * sin(t), r * cos(t)};
        for (int j = 0; j < 2; j++)
            if (have < 2 && z[j] > -2.0 && z[j] < 2.0)
                vals[have++] = z[j];
#endif
        c0 = (uint)gid; c1 = attempt; c2 = r0; c3 = r1;
        PHILOX10(c0, c1, c2, c3, k0, k1);
    }
    for (int j = have; j < EPI; j++)        // unreachable in practice (p < 1e-300)
        vals[j] = 0;
    for (int j = 0; j < EPI; j++)
        if (base + j < n) out[base + j] = vals[j];
#endif
}
#endif
