// matmul.cl -- batched GEMM  C[b] = op(A[b]) @ op(B[b]),  row-major, C contiguous (batch, M, N).
//
// op(A) is M x K with element (i,k) at A[b*a_bstride + i*sai + k*sak]; a transposed A is just
// other strides (sai = 1, sak = M).  Likewise op(B) is K x N, element (k,j) at B[.. + k*sbk + j*sbj].
// pysession/runtime/gemm.py (gemm_recipe) picks the kernels, defines and launch sizes.
//
// Defines: T (float | double), and for the CPU path MR, NV, KC, KP; for the portable path TS.
//
// ---------------------------------------------------------------------------------------------
// CPU path (PoCL): gemm_pack (both operands, one launch) + gemm_cpu; no local memory, no barriers.
//
//   * Register block.  Each step of the inner loop does  acc[r][:] += a[r] * b[:]  for an MR x NR
//     tile (NR = 16*NV columns held as NV `T16` vectors per row); MR=8, NV=2 gives 16 float16
//     accumulators = 16 of the 32 AVX-512 registers, 2 B vectors and one broadcast.  Written with
//     plain `*` and `+` (LLVM contracts them to FMA): PoCL's built-ins (fma, vload16, mad) are
//     out-of-line calls on this CPU and ~10x slower.  The tile is unrolled by the preprocessor
//     (RP macros): LLVM left `for (r < MR)` loops over private arrays rolled, with the
//     accumulators in memory (about 40 GFLOP/s instead of 400).
//   * Packing.  A pre-pass copies op(A) into panels of MR rows and op(B) into panels of NR
//     columns, k-major inside a panel, zero-padded past M / N.  So the inner loop reads two
//     sequential streams whatever the transposes, needs no bounds checks, and B vectors are
//     aligned.  Edges cost only the padded work in the last panel and a guarded store.
//   * Cache blocking (Goto style).  K is cut in chunks of KC; the packed buffers are stored
//     chunk-major (all panels of chunk 0, then chunk 1, ...) so the A block a work-item uses in
//     one chunk is contiguous.  (Panel-major storage put the MB A pieces of a chunk at a stride
//     of K*MR*4 bytes, a multiple of 64 KiB at n = 2048: they all fell in the same L2 sets and
//     the kernel lost a third of its speed.)  A work-item owns a block of MB A panels x NB B
//     panels of C and runs  for chunk: for B panel (KC*NR*4 = 32 KiB, stays in L1):
//     for A panel (MB*KC*MR*4 = 128 KiB, stays in L2): tile += ..., then adds the tile into C.
//     The block of C (MB*MR x NB*NR = 128 x 256) stays in L2 between chunks.
//   * Parallelism.  One work-item per work-group (lws 1,1,1), one work-group per C block;
//     PoCL's pthread device hands work-groups to its threads (one per core).  gemm.py shrinks
//     MB / NB until there are enough blocks for the cores.
//   * Measured (2-core Zen 5 VM, PoCL 3.0 and 3.1): gemm_cpu alone ~220 GFLOP/s per core, up to
//     430 on both at n = 256..1024, ~285 at n = 2048; the pack launch adds ~30 us at n = 256
//     (mostly thread wake-up).  bench/gemm_probe.py compares the whole plan with numpy.
//
// Portable path (GPUs etc.): gemm_tiled, the classic local-memory tiled kernel, TS x TS tiles,
// one output per work-item, barriers.  Correct anywhere (tested on PoCL), not fast on a CPU.
// ---------------------------------------------------------------------------------------------

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#ifndef T
#define T float
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define T16 CAT(T, 16)

#ifndef MR
#define MR 8
#endif
#ifndef NV
#define NV 2
#endif
#define NR (16 * NV)
#ifndef KC
#define KC 256
#endif
#ifndef KP
#define KP 64  // k-length packed by one work-item; must divide KC
#endif
#ifndef TS
#define TS 16
#endif

// RP(X) expands X(0) .. X(MR-1).
#define RP1(X) X(0)
#define RP2(X) RP1(X) X(1)
#define RP3(X) RP2(X) X(2)
#define RP4(X) RP3(X) X(3)
#define RP5(X) RP4(X) X(4)
#define RP6(X) RP5(X) X(5)
#define RP7(X) RP6(X) X(6)
#define RP8(X) RP7(X) X(7)
#define RP9(X) RP8(X) X(8)
#define RP10(X) RP9(X) X(9)
#define RP11(X) RP10(X) X(10)
#define RP12(X) RP11(X) X(11)
#define RP(X) CAT(RP, MR)(X)

// Offset of element (panel pn, k, lane) in a packed buffer of npan panels of width W:
// chunk-major, chunk kc0 = k - k % KC holds npan panels of kcn = min(KC, K - kc0) rows of W.
//   off = kc0 * npan * W + pn * kcn * W + (k - kc0) * W + lane

// Pack the KP-long piece of k from k0 of panel p (MR rows) of op(A[b]).  The loop order follows
// the contiguous direction of the source.
inline void pack_a(__global const T* A, __global T* Ap, long a_bstride, long ap_bstride,
                   int M, int K, long sai, long sak, int k0, int p, int b)
{
    const int npa = (M + MR - 1) / MR;
    const int kn = min(KP, K - k0);
    const int rn = min(MR, M - p * MR);
    const int kc0 = k0 / KC * KC, kcn = min(KC, K - kc0);
    __global const T* src = A + b * a_bstride + (long)k0 * sak + (long)p * MR * sai;
    __global T* dst = Ap + b * ap_bstride + (long)kc0 * npa * MR + ((long)p * kcn + k0 - kc0) * MR;
    if (sak == 1 && rn == MR) {  // A not transposed, full panel: MR row streams in, one out
        for (int k = 0; k < kn; ++k) {
#define PACK_A_ROW(r) dst[k * MR + r] = src[r * sai + k];
            RP(PACK_A_ROW)
        }
    } else if (sak == 1) {
        for (int r = 0; r < rn; ++r)
            for (int k = 0; k < kn; ++k) dst[k * MR + r] = src[r * sai + k];
    } else {
        for (int k = 0; k < kn; ++k)
            for (int r = 0; r < rn; ++r) dst[k * MR + r] = src[k * sak + r * sai];
    }
    for (int r = rn; r < MR; ++r)
        for (int k = 0; k < kn; ++k) dst[k * MR + r] = (T)0;
}

// Pack the KP-long piece of k from k0 of panel q (NR columns) of op(B[b]).
inline void pack_b(__global const T* B, __global T* Bp, long b_bstride, long bp_bstride,
                   int N, int K, long sbk, long sbj, int k0, int q, int b)
{
    const int npb = (N + NR - 1) / NR;
    const int kn = min(KP, K - k0);
    const int cn = min(NR, N - q * NR);
    const int kc0 = k0 / KC * KC, kcn = min(KC, K - kc0);
    __global const T* src = B + b * b_bstride + (long)k0 * sbk + (long)q * NR * sbj;
    __global T* dst = Bp + b * bp_bstride + (long)kc0 * npb * NR + ((long)q * kcn + k0 - kc0) * NR;
    if (cn == NR && sbj == 1) {
        for (int k = 0; k < kn; ++k)
            for (int c = 0; c < NR; ++c) dst[k * NR + c] = src[k * sbk + c];
    } else if (sbj == 1) {
        for (int k = 0; k < kn; ++k)
            for (int c = 0; c < NR; ++c) dst[k * NR + c] = c < cn ? src[k * sbk + c] : (T)0;
    } else {
        for (int c = 0; c < cn; ++c)
            for (int k = 0; k < kn; ++k) dst[k * NR + c] = src[c * sbj + k * sbk];
        for (int c = cn; c < NR; ++c)
            for (int k = 0; k < kn; ++k) dst[k * NR + c] = (T)0;
    }
}

// Packing, one launch for both operands (every launch costs ~20 us of thread wake-ups on PoCL,
// which matters at n <= 512).  Work-item (k piece, panel, batch): panels 0 .. npa-1 are A's,
// npa .. npa+npb-1 are B's.  A broadcast operand has a_batches (b_batches) = 1.
__kernel void gemm_pack(__global const T* A, __global T* Ap, __global const T* B, __global T* Bp,
                        long a_bstride, long ap_bstride, long b_bstride, long bp_bstride,
                        int M, int N, int K, long sai, long sak, long sbk, long sbj,
                        int a_batches, int b_batches)
{
    const int k0 = get_global_id(0) * KP;
    const int p = get_global_id(1);
    const int b = get_global_id(2);
    const int npa = (M + MR - 1) / MR;
    if (p < npa) {
        if (b < a_batches) pack_a(A, Ap, a_bstride, ap_bstride, M, K, sai, sak, k0, p, b);
    } else if (b < b_batches) {
        pack_b(B, Bp, b_bstride, bp_bstride, N, K, sbk, sbj, k0, p - npa, b);
    }
}


// Write (first chunk) or add (later chunks) 16 values of a C row; only the first n when n < 16.
// Element stores, not a vector store: C rows need not be 64-byte aligned.
inline void store_row(__global T* crow, T16 v, int n, int first)
{
    if (n >= 16) {
        if (first) {
            crow[0] = v.s0; crow[1] = v.s1; crow[2] = v.s2; crow[3] = v.s3;
            crow[4] = v.s4; crow[5] = v.s5; crow[6] = v.s6; crow[7] = v.s7;
            crow[8] = v.s8; crow[9] = v.s9; crow[10] = v.sa; crow[11] = v.sb;
            crow[12] = v.sc; crow[13] = v.sd; crow[14] = v.se; crow[15] = v.sf;
        } else {
            crow[0] += v.s0; crow[1] += v.s1; crow[2] += v.s2; crow[3] += v.s3;
            crow[4] += v.s4; crow[5] += v.s5; crow[6] += v.s6; crow[7] += v.s7;
            crow[8] += v.s8; crow[9] += v.s9; crow[10] += v.sa; crow[11] += v.sb;
            crow[12] += v.sc; crow[13] += v.sd; crow[14] += v.se; crow[15] += v.sf;
        }
    } else {
        T tmp[16];
        *(T16*)tmp = v;
        for (int c = 0; c < n; ++c) crow[c] = (first ? (T)0 : crow[c]) + tmp[c];
    }
}

#if NV == 1
#define DECL(r) T16 c##r##_0 = (T16)0;
#define LOADB const T16 b0 = *(__global const T16*)bp;
#define STEP(r) { const T a = ap[r]; c##r##_0 = a * b0 + c##r##_0; }
#define STORE(r) if (i0 + r < M) { __global T* crow = C + (long)(i0 + r) * N + j0;               \
    store_row(crow, c##r##_0, N - j0, k0 == 0); }
#elif NV == 2
#define DECL(r) T16 c##r##_0 = (T16)0, c##r##_1 = (T16)0;
#define LOADB const T16 b0 = *(__global const T16*)bp, b1 = *(__global const T16*)(bp + 16);
#define STEP(r) { const T a = ap[r]; c##r##_0 = a * b0 + c##r##_0; c##r##_1 = a * b1 + c##r##_1; }
#define STORE(r) if (i0 + r < M) { __global T* crow = C + (long)(i0 + r) * N + j0;               \
    store_row(crow, c##r##_0, N - j0, k0 == 0);                                                 \
    if (j0 + 16 < N) store_row(crow + 16, c##r##_1, N - j0 - 16, k0 == 0); }
#else
#error "NV must be 1 or 2"
#endif

// One work-item per block of MB A panels x NB B panels of C (global id 0: block column,
// 1: block row, 2: batch).  ap_bstride / bp_bstride are 0 for a broadcast operand.
__kernel void gemm_cpu(__global const T* Ap, __global const T* Bp, __global T* C,
                       long ap_bstride, long bp_bstride, long c_bstride,
                       int M, int N, int K, int MB, int NB)
{
    const int bn = get_global_id(0);
    const int bm = get_global_id(1);
    const int b = get_global_id(2);
    const int npa = (M + MR - 1) / MR;
    const int npb = (N + NR - 1) / NR;
    const int p0 = bm * MB, p1 = min(p0 + MB, npa);
    const int q0 = bn * NB, q1 = min(q0 + NB, npb);
    Ap += b * ap_bstride;
    Bp += b * bp_bstride;
    C += b * c_bstride;
    for (int k0 = 0; k0 < K; k0 += KC) {
        const int kn = min(KC, K - k0);
        for (int q = q0; q < q1; ++q) {
            for (int p = p0; p < p1; ++p) {
                __global const T* ap = Ap + (long)k0 * npa * MR + p * kn * MR;
                __global const T* bp = Bp + (long)k0 * npb * NR + q * kn * NR;
                RP(DECL)
                for (int k = 0; k < kn; ++k) {
                    LOADB
                    RP(STEP)
                    ap += MR;
                    bp += NR;
                }
                const int i0 = p * MR, j0 = q * NR;
                RP(STORE)
            }
        }
    }
}

// Portable tiled GEMM: work-group TS x TS computes a TS x TS tile of C, one element per
// work-item, staging TS x TS tiles of op(A) and op(B) through local memory.
// Global size (ceil(N/TS)*TS, ceil(M/TS)*TS, batch), local size (TS, TS, 1).
__kernel void gemm_tiled(__global const T* A, __global const T* B, __global T* C,
                         long a_bstride, long b_bstride, long c_bstride, int M, int N, int K,
                         long sai, long sak, long sbk, long sbj)
{
    __local T As[TS][TS + 1];
    __local T Bs[TS][TS + 1];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int j = get_global_id(0), i = get_global_id(1), b = get_global_id(2);
    A += b * a_bstride;
    B += b * b_bstride;
    T acc = (T)0;
    for (int k0 = 0; k0 < K; k0 += TS) {
        const int ka = k0 + tx, kb = k0 + ty;
        As[ty][tx] = (i < M && ka < K) ? A[i * sai + ka * sak] : (T)0;
        Bs[ty][tx] = (kb < K && j < N) ? B[kb * sbk + j * sbj] : (T)0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TS; ++k) acc += As[ty][k] * Bs[k][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < M && j < N) C[b * c_bstride + (long)i * N + j] = acc;
}
