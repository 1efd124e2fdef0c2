/* Array movement kernels (pysession/ops/array_ops.py).
 *
 * Build defines:
 *   T     element type chosen by element size only (uchar/ushort/uint/ulong): movement
 *         kernels copy bit patterns, so one program serves every dtype of that size.
 *   I     index type: int when every offset fits in 31 bits, else long.
 *   RANK  iteration rank (1..8) of strided_copy / mirror_pad; NREST (0..6) of transpose_tiled.
 *   TI    index dtype of gather / one_hot (int, long, uchar).
 *   V     value type of range_fill (int, long, float, double).
 * Each program holds one kernel, chosen by K_<name>.
 * No OpenCL built-ins are used (PoCL does not inline them); every kernel has a bounds guard
 * because global sizes are rounded up to the pinned local size.
 */
#ifndef RANK
#define RANK 1
#endif
#ifndef NREST
#define NREST 0
#endif
#ifndef TILE
#define TILE 32
#endif
#ifndef OUT_CONTIG
#define OUT_CONTIG 0
#endif

#ifdef K_strided_copy
/* out[obase + sum idx_k * o_k] = in[ibase + sum idx_k * s_k] over the iteration box d[0..RANK).
 * With OUT_CONTIG the output offset is obase + the flat index. */
__kernel void strided_copy(__global const T *in, __global T *out, I n, I ibase, I obase,
                           I d0, I d1, I d2, I d3, I d4, I d5, I d6, I d7,
                           I s0, I s1, I s2, I s3, I s4, I s5, I s6, I s7,
                           I o0, I o1, I o2, I o3, I o4, I o5, I o6, I o7)
{
    I g = (I)get_global_id(0);
    if (g >= n)
        return;
    const I d[8] = {d0, d1, d2, d3, d4, d5, d6, d7};
    const I s[8] = {s0, s1, s2, s3, s4, s5, s6, s7};
    const I o[8] = {o0, o1, o2, o3, o4, o5, o6, o7};
    I rem = g, io = ibase, oo = obase;
#pragma unroll
    for (int k = RANK - 1; k > 0; --k) {
        I q = rem / d[k];
        I r = rem - q * d[k];
        io += r * s[k];
#if !OUT_CONTIG
        oo += r * o[k];
#endif
        rem = q;
    }
    io += rem * s[0];
#if OUT_CONTIG
    oo = obase + g;
#else
    oo += rem * o[0];
#endif
    out[oo] = in[io];
}
#endif

#ifdef K_strided_rows
/* strided_copy for a long innermost dim: each work-item copies a chunk of up to `chunk`
 * elements of one row (the row offset is decomposed once per chunk, not per element).
 * With INNER_CONTIG both innermost strides are 1 and the loop is a plain copy. */
__kernel void strided_rows(__global const T *in, __global T *out, I nitems, I ibase, I obase,
                           I d0, I d1, I d2, I d3, I d4, I d5, I d6, I d7,
                           I s0, I s1, I s2, I s3, I s4, I s5, I s6, I s7,
                           I o0, I o1, I o2, I o3, I o4, I o5, I o6, I o7,
                           I chunk, I nchunks)
{
    I g = (I)get_global_id(0);
    if (g >= nitems)
        return;
    const I d[8] = {d0, d1, d2, d3, d4, d5, d6, d7};
    const I s[8] = {s0, s1, s2, s3, s4, s5, s6, s7};
    const I o[8] = {o0, o1, o2, o3, o4, o5, o6, o7};
    I c = g % nchunks;
    I rem = g / nchunks, io = ibase, oo = obase;
#pragma unroll
    for (int k = RANK - 2; k >= 0; --k) {
        I q = rem / d[k];
        I r = rem - q * d[k];
        io += r * s[k];
        oo += r * o[k];
        rem = q;
    }
    I inner = d[RANK - 1];
    I b = c * chunk;
    I e = inner - b < chunk ? inner : b + chunk;
#if INNER_CONTIG
    __global const T *src = in + io;
    __global T *dst = out + oo;
    for (I i = b; i < e; ++i)
        dst[i] = src[i];
#else
    const I si = s[RANK - 1], so = o[RANK - 1];
    for (I i = b; i < e; ++i)
        out[oo + i * so] = in[io + i * si];
#endif
}
#endif

#ifdef K_transpose_tiled
/* A transpose whose output's last dim is strided in the input: each work-item moves one
 * TILE x TILE block (a along the output dim p that is contiguous in the input, b along the
 * output's last dim), so reads and writes both stay within a few cache lines.  The other
 * dims (NREST of them) are decomposed once per block. */
__kernel void transpose_tiled(__global const T *in, __global T *out, I nblocks,
                              I dl, I dp, I sl, I op, I nbl, I nbp,
                              I r0, I r1, I r2, I r3, I r4, I r5,
                              I rs0, I rs1, I rs2, I rs3, I rs4, I rs5,
                              I ro0, I ro1, I ro2, I ro3, I ro4, I ro5)
{
    I g = (I)get_global_id(0);
    if (g >= nblocks)
        return;
    I bl = g % nbl;
    g /= nbl;
    I bp = g % nbp;
    g /= nbp;
    I io = 0, oo = 0;
#if NREST > 0
    const I r[6] = {r0, r1, r2, r3, r4, r5};
    const I rs[6] = {rs0, rs1, rs2, rs3, rs4, rs5};
    const I ro[6] = {ro0, ro1, ro2, ro3, ro4, ro5};
#pragma unroll
    for (int k = NREST - 1; k >= 0; --k) {
        I q = g / r[k];
        I x = g - q * r[k];
        io += x * rs[k];
        oo += x * ro[k];
        g = q;
    }
#endif
    I a0 = bp * TILE, b0 = bl * TILE;
    I na = dp - a0 < TILE ? dp - a0 : TILE;
    I nb = dl - b0 < TILE ? dl - b0 : TILE;
    io += a0 + b0 * sl;
    oo += a0 * op + b0;
    for (I a = 0; a < na; ++a) {
        __global T *dst = out + oo + a * op;
        __global const T *src = in + io + a;
        for (I b = 0; b < nb; ++b)
            dst[b] = src[b * sl];
    }
}
#endif

#ifdef K_gather
/* out[o, i, k] = params[o, indices[i], k]; an index outside [0, axis_dim) writes `code`
 * into err[0] (and a zero element) instead of reading. */
__kernel void gather(__global const T *params, __global const TI *indices, __global T *out,
                     __global int *err, int code, I n, I inner, I nidx, I axis_dim)
{
    I g = (I)get_global_id(0);
    if (g >= n)
        return;
    I k = g % inner;
    I t = g / inner;
    I i = t % nidx;
    I o = t / nidx;
    TI v = indices[i];
    if (v < 0 || (I)v >= axis_dim) {
        err[0] = code;
        out[g] = (T)0;
        return;
    }
    out[g] = params[(o * axis_dim + (I)v) * inner + k];
}
#endif

#ifdef K_one_hot
/* out[o, d, k] = indices[o, k] == d ? on[0] : off[0] */
__kernel void one_hot(__global const TI *indices, __global const T *on, __global const T *off,
                      __global T *out, I n, I depth, I inner)
{
    I g = (I)get_global_id(0);
    if (g >= n)
        return;
    I k = g % inner;
    I t = g / inner;
    I d = t % depth;
    I o = t / depth;
    TI v = indices[o * inner + k];
    out[g] = ((I)v == d && v >= 0) ? on[0] : off[0];
}
#endif

#ifdef K_range_fill
/* out[i] = start + i * delta */
__kernel void range_fill(__global const V *start, __global const V *delta, __global V *out,
                         long n)
{
    long g = (long)get_global_id(0);
    if (g >= n)
        return;
    out[g] = start[0] + (V)g * delta[0];
}
#endif

#ifdef K_mirror_pad
/* MirrorPad: each output index maps to an input index per dim (REFLECT: SYM = 0,
 * SYMMETRIC: SYM = 1).  d: output dims, id: input dims, pb: pad before, s: input strides. */
__kernel void mirror_pad(__global const T *in, __global T *out, I n,
                         I d0, I d1, I d2, I d3, I d4, I d5, I d6, I d7,
                         I id0, I id1, I id2, I id3, I id4, I id5, I id6, I id7,
                         I p0, I p1, I p2, I p3, I p4, I p5, I p6, I p7,
                         I s0, I s1, I s2, I s3, I s4, I s5, I s6, I s7)
{
    I g = (I)get_global_id(0);
    if (g >= n)
        return;
    const I d[8] = {d0, d1, d2, d3, d4, d5, d6, d7};
    const I id[8] = {id0, id1, id2, id3, id4, id5, id6, id7};
    const I p[8] = {p0, p1, p2, p3, p4, p5, p6, p7};
    const I s[8] = {s0, s1, s2, s3, s4, s5, s6, s7};
    I rem = g, io = 0;
#pragma unroll
    for (int k = RANK - 1; k >= 0; --k) {
        I q = rem / d[k];
        I x = rem - q * d[k] - p[k];
        rem = q;
        if (x < 0)
            x = -x - SYM;
        else if (x >= id[k])
            x = 2 * id[k] - 2 + SYM - x;
        io += x * s[k];
    }
    out[g] = in[io];
}
#endif
