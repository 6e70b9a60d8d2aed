// The CUDA kernels of the ExeGPT runtime (issue 6), compiled to PTX by nvcc during the Maven build and loaded with
// the driver API (cuModuleLoadData) by dev.exegpt.runtime.cuda.CudaModule. Every entry point is extern "C" so its
// PTX name is the plain name the Java side asks for; PtxEntriesTest checks that each name the Java side loads exists.
//
// Conventions, as in dev.exegpt.runtime.kernel.Kernels: row-major, last dimension contiguous; weights in the Hugging
// Face nn.Linear layout (out, in), so a linear layer is C (m, n) = A (m, k) @ W^T, i.e. both operands are read along
// k ("NT" GEMM). Offsets into the KV pool are in floats and 64-bit (a pool may exceed 2^31 floats).

#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <mma.h>

#define TILE 64
#define TILE_K 16

// The GEMM epilogue every matmul kernel shares: C[r, c] = (accumulate ? C[r, c] : 0) + (v + bias[c]).
__device__ __forceinline__ void store_out(float* __restrict__ C, const float* __restrict__ bias, long long r, int c,
                                          int n, float v, int accumulate) {
    if (bias != nullptr) v += bias[c];
    long long at = r * n + c;
    C[at] = accumulate ? C[at] + v : v;
}

// ---------------------------------------------------------------------------------------------------------------
// f32 GEMM, shared-memory tiled: a block of 256 threads computes a 64x64 tile of C, each thread a 4x4 micro-tile.
// C (m, n) = (accumulate ? C : 0) + (A (m, k) @ W (n, k)^T + bias (n)); bias may be null. The sum A W^T + bias is
// formed first and then added to C, the order in which the CPU engine adds a residual (o += b; x += o).
// A row r of A starts at A + r * lda (lda >= k), so a matmul can read a sub-block of a wider buffer.
extern "C" __global__ void matmul_f32(float* __restrict__ C, const float* __restrict__ A, const float* __restrict__ W,
                                      const float* __restrict__ bias, int m, int n, int k, int lda, int accumulate) {
    __shared__ float As[TILE_K][TILE + 4];
    __shared__ float Ws[TILE_K][TILE + 4];
    const int tx = threadIdx.x % 16;          // column group
    const int ty = threadIdx.x / 16;          // row group
    const int rowBase = blockIdx.y * TILE;
    const int colBase = blockIdx.x * TILE;
    float acc[4][4] = {{0.f}};
    for (int k0 = 0; k0 < k; k0 += TILE_K) {
        // 64 rows x 16 k of A and of W: 1024 values each, 4 per thread
        for (int i = threadIdx.x; i < TILE * TILE_K; i += blockDim.x) {
            int r = i / TILE_K;
            int kk = i % TILE_K;
            int gr = rowBase + r;
            int gk = k0 + kk;
            As[kk][r] = (gr < m && gk < k) ? A[(long long) gr * lda + gk] : 0.f;
            int gc = colBase + r;
            Ws[kk][r] = (gc < n && gk < k) ? W[(long long) gc * k + gk] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TILE_K; kk++) {
            float a[4], w[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[kk][ty * 4 + i];
#pragma unroll
            for (int j = 0; j < 4; j++) w[j] = Ws[kk][tx * 4 + j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], w[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int r = rowBase + ty * 4 + i;
        if (r >= m) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int c = colBase + tx * 4 + j;
            if (c >= n) continue;
            store_out(C, bias, r, c, n, acc[i][j], accumulate);
        }
    }
}

// The same contract for large shapes (m >= 128): 128x128 tiles, 256 threads of 8x8 outputs each, k in steps of 8,
// operands staged transposed in shared memory and read as float4.
extern "C" __global__ void matmul_f32_large(float* __restrict__ C, const float* __restrict__ A,
                                            const float* __restrict__ W, const float* __restrict__ bias, int m, int n,
                                            int k, int lda, int accumulate) {
    __shared__ __align__(16) float As[8][128];
    __shared__ __align__(16) float Ws[8][128];
    const int tx = threadIdx.x % 16;
    const int ty = threadIdx.x / 16;
    const int rowBase = blockIdx.y * 128;
    const int colBase = blockIdx.x * 128;
    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.f;
    for (int k0 = 0; k0 < k; k0 += 8) {
#pragma unroll
        for (int q = 0; q < 4; q++) {
            int i = threadIdx.x + 256 * q;
            int r = i / 8;
            int kk = i % 8;
            int gk = k0 + kk;
            int gr = rowBase + r;
            As[kk][r] = (gr < m && gk < k) ? A[(long long) gr * lda + gk] : 0.f;
            int gc = colBase + r;
            Ws[kk][r] = (gc < n && gk < k) ? W[(long long) gc * k + gk] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < 8; kk++) {
            float4 a0 = *reinterpret_cast<const float4*>(&As[kk][ty * 8]);
            float4 a1 = *reinterpret_cast<const float4*>(&As[kk][ty * 8 + 4]);
            float4 w0 = *reinterpret_cast<const float4*>(&Ws[kk][tx * 8]);
            float4 w1 = *reinterpret_cast<const float4*>(&Ws[kk][tx * 8 + 4]);
            float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            float w[8] = {w0.x, w0.y, w0.z, w0.w, w1.x, w1.y, w1.z, w1.w};
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(a[i], w[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int r = rowBase + ty * 8 + i;
        if (r >= m) continue;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            int c = colBase + tx * 8 + j;
            if (c >= n) continue;
            store_out(C, bias, r, c, n, acc[i][j], accumulate);
        }
    }
}

// The same contract for a few rows (m <= 16, a decode step): memory-bound, so one warp per output column streams
// that row of W once (coalesced) and keeps up to 8 rows of A's dot products in registers; 8 warps per block.
extern "C" __global__ void matmul_skinny(float* __restrict__ C, const float* __restrict__ A,
                                         const float* __restrict__ W, const float* __restrict__ bias, int m, int n,
                                         int k, int lda, int accumulate) {
    const int lane = threadIdx.x % 32;
    const int c = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (c >= n) return;
    const float* w = W + (long long) c * k;
    for (int r0 = 0; r0 < m; r0 += 8) {
        float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        const int rows = min(8, m - r0);
        for (int kk = lane; kk < k; kk += 32) {
            float wv = w[kk];
#pragma unroll
            for (int i = 0; i < 8; i++)
                if (i < rows) acc[i] = fmaf(A[(long long) (r0 + i) * lda + kk], wv, acc[i]);
        }
#pragma unroll
        for (int i = 0; i < 8; i++)
            for (int o = 16; o > 0; o >>= 1) acc[i] += __shfl_xor_sync(0xffffffff, acc[i], o);
        if (lane < rows) {
            float v = acc[0];
#pragma unroll
            for (int i = 1; i < 8; i++)
                if (lane == i) v = acc[i];
            store_out(C, bias, r0 + lane, c, n, v, accumulate);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Half-precision tensor-core GEMM (WMMA 16x16x16, f32 accumulate; sm_70+ for f16, sm_80+ for bf16): the same
// contract as matmul_f32, with W in f16 or bf16 and A (f32 activations) rounded to W's type as it is staged.
// A block of 4 warps computes a 32x32 tile of C, one 16x16 fragment per warp.
using namespace nvcuda;

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

template <typename T>
__device__ void matmul_wmma(float* __restrict__ C, const float* __restrict__ A, const T* __restrict__ W,
                            const float* __restrict__ bias, int m, int n, int k, int lda, int accumulate) {
#if __CUDA_ARCH__ >= 800
    __shared__ __align__(128) T As[32][16 + 8];
    __shared__ __align__(128) T Ws[32][16 + 8];
    __shared__ __align__(128) float Cs[4][16][16];
    const int warp = threadIdx.x / 32;
    const int wr = warp / 2;
    const int wc = warp % 2;
    const int rowBase = blockIdx.y * 32;
    const int colBase = blockIdx.x * 32;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.f);
    for (int k0 = 0; k0 < k; k0 += 16) {
        for (int i = threadIdx.x; i < 32 * 16; i += blockDim.x) {
            int r = i / 16;
            int kk = i % 16;
            int gr = rowBase + r;
            int gk = k0 + kk;
            As[r][kk] = from_float<T>((gr < m && gk < k) ? A[(long long) gr * lda + gk] : 0.f);
            int gc = colBase + r;
            Ws[r][kk] = (gc < n && gk < k) ? W[(long long) gc * k + gk] : from_float<T>(0.f);
        }
        __syncthreads();
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb;   // W rows are B's columns
        wmma::load_matrix_sync(fa, &As[wr * 16][0], 16 + 8);
        wmma::load_matrix_sync(fb, &Ws[wc * 16][0], 16 + 8);
        wmma::mma_sync(acc, fa, fb, acc);
        __syncthreads();
    }
    wmma::store_matrix_sync(&Cs[warp][0][0], acc, 16, wmma::mem_row_major);
    __syncwarp();
    const int lane = threadIdx.x % 32;
    for (int i = lane; i < 256; i += 32) {
        int r = rowBase + wr * 16 + i / 16;
        int c = colBase + wc * 16 + i % 16;
        if (r < m && c < n) {
            store_out(C, bias, r, c, n, Cs[warp][i / 16][i % 16], accumulate);
        }
    }
#endif
}

extern "C" __global__ void matmul_f16(float* C, const float* A, const __half* W, const float* bias, int m, int n,
                                      int k, int lda, int accumulate) {
    matmul_wmma<__half>(C, A, W, bias, m, n, k, lda, accumulate);
}

extern "C" __global__ void matmul_bf16(float* C, const float* A, const __nv_bfloat16* W, const float* bias, int m,
                                       int n, int k, int lda, int accumulate) {
    matmul_wmma<__nv_bfloat16>(C, A, W, bias, m, n, k, lda, accumulate);
}

// f32 -> f16 / bf16, for weights uploaded as f32 and kept in half precision.
extern "C" __global__ void convert_f32_f16(__half* out, const float* x, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        out[i] = __float2half_rn(x[i]);
}

extern "C" __global__ void convert_f32_bf16(__nv_bfloat16* out, const float* x, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn(x[i]);
}

// ---------------------------------------------------------------------------------------------------------------
// Block reductions (blockDim.x a multiple of 32, at most 1024).
__device__ float block_sum(float v, float* shared) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    int lane = threadIdx.x % 32;
    int warp = threadIdx.x / 32;
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    int numWarps = blockDim.x / 32;
    float total = 0.f;
    for (int w = 0; w < numWarps; w++) total += shared[w];
    return total;
}

__device__ float block_max(float v, float* shared) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
    int lane = threadIdx.x % 32;
    int warp = threadIdx.x / 32;
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    int numWarps = blockDim.x / 32;
    float m = -INFINITY;
    for (int w = 0; w < numWarps; w++) m = fmaxf(m, shared[w]);
    return m;
}

// out (rows, dim) = (x - mean) / sqrt(var + eps) * weight + bias; one block per row.
extern "C" __global__ void layer_norm(float* out, const float* x, const float* weight, const float* bias, int rows,
                                      int dim, float eps) {
    __shared__ float red[32];
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = x + (long long) r * dim;
    float s = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) s += xr[i];
    float mean = block_sum(s, red) / dim;
    float v = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float d = xr[i] - mean;
        v += d * d;
    }
    float var = block_sum(v, red) / dim;
    float inv = rsqrtf(var + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x)
        out[(long long) r * dim + i] = (xr[i] - mean) * inv * weight[i] + bias[i];
}

// out (rows, dim) = x / sqrt(mean(x^2) + eps) * weight * scale (T5's norm; scale 1 except before a tied LM head).
extern "C" __global__ void rms_norm(float* out, const float* x, const float* weight, int rows, int dim, float eps,
                                    float scale) {
    __shared__ float red[32];
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = x + (long long) r * dim;
    float s = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) s += xr[i] * xr[i];
    float inv = rsqrtf(block_sum(s, red) / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = xr[i] * inv * weight[i];
        out[(long long) r * dim + i] = scale == 1.f ? v : v * scale;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Element-wise.
extern "C" __global__ void relu(float* x, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        x[i] = fmaxf(x[i], 0.f);
}

__device__ __forceinline__ float gelu_tanh(float v) {
    const float c = 0.7978845608028654f;   // sqrt(2 / pi)
    return 0.5f * v * (1.f + tanhf(c * (v + 0.044715f * v * v * v)));
}

extern "C" __global__ void gelu(float* x, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        x[i] = gelu_tanh(x[i]);
}

// x = gelu(x) * gate (T5's gated-GELU feed-forward).
extern "C" __global__ void gelu_mul(float* x, const float* gate, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        x[i] = gelu_tanh(x[i]) * gate[i];
}

// SiLU (Llama's SwiGLU activation): x * sigmoid(x), in place.
extern "C" __global__ void silu(float* x, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        x[i] = x[i] / (1.f + expf(-x[i]));
}

// SwiGLU's product: silu(x) * gate, in place on x.
extern "C" __global__ void silu_mul(float* x, const float* gate, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        x[i] = x[i] / (1.f + expf(-x[i])) * gate[i];
}

extern "C" __global__ void mul(float* x, const float* y, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        x[i] *= y[i];
}

extern "C" __global__ void scale(float* x, float s, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        x[i] *= s;
}

// RoPE as transformers' Llama applies it (rotate_half): in each head of row r, elements j and j + headDim/2 turn by
// the angle qpos[r] * invFreq[j] (the product in f32, as torch computes position @ inv_freq). One block per row.
extern "C" __global__ void rope(float* x, const long long* qpos, const float* invFreq, int rows, int numHeads,
                                int headDim) {
    int r = blockIdx.x;
    if (r >= rows) return;
    int half = headDim / 2;
    float pos = (float) qpos[r];
    float* xr = x + (long long) r * numHeads * headDim;
    for (int i = threadIdx.x; i < numHeads * half; i += blockDim.x) {
        int h = i / half;
        int j = i % half;
        float angle = pos * invFreq[j];
        float c = cosf(angle);
        float s = sinf(angle);
        float* xh = xr + h * headDim;
        float x1 = xh[j];
        float x2 = xh[j + half];
        xh[j] = x1 * c - x2 * s;
        xh[j + half] = x2 * c + x1 * s;
    }
}

extern "C" __global__ void add(float* x, const float* y, long long len) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < len; i += (long long) gridDim.x * blockDim.x)
        x[i] += y[i];
}

// Softmax of each row of x (rows, len), in place; one block per row.
extern "C" __global__ void softmax_rows(float* x, int rows, int len) {
    __shared__ float red[32];
    int r = blockIdx.x;
    if (r >= rows) return;
    float* xr = x + (long long) r * len;
    float m = -INFINITY;
    for (int i = threadIdx.x; i < len; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = block_max(m, red);
    float s = 0.f;
    for (int i = threadIdx.x; i < len; i += blockDim.x) {
        float e = expf(xr[i] - m);
        xr[i] = e;
        s += e;
    }
    float inv = 1.f / block_sum(s, red);
    for (int i = threadIdx.x; i < len; i += blockDim.x) xr[i] *= inv;
}

// out (rows, dim) = table[ids[r]] (+ positions[posIds[r]] when positions is not null). One block per row.
extern "C" __global__ void embedding(float* out, const float* table, const long long* ids, const float* positions,
                                     const long long* posIds, int rows, int dim) {
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* e = table + ids[r] * dim;
    const float* p = positions == nullptr ? nullptr : positions + posIds[r] * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x)
        out[(long long) r * dim + i] = p == nullptr ? e[i] : e[i] + p[i];
}

// out (n, dim) = rows idx[i] of x: the last prompt row of each sequence after a prefill.
extern "C" __global__ void gather_rows(float* out, const float* x, const long long* idx, int n, int dim) {
    int r = blockIdx.x;
    if (r >= n) return;
    const float* src = x + idx[r] * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[(long long) r * dim + i] = src[i];
}

// out[r] = index of the largest of x[r, 0 .. len), the first on ties (as the CPU kernels choose). One block per row.
extern "C" __global__ void argmax_rows(long long* out, const float* x, int rows, int len) {
    __shared__ float bestV[1024];
    __shared__ int bestI[1024];
    int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = x + (long long) r * len;
    float bv = -INFINITY;
    int bi = len;
    for (int i = threadIdx.x; i < len; i += blockDim.x) {
        float v = xr[i];
        if (v > bv || (v == bv && i < bi) || (bi == len && v != v)) {
            bv = v;
            bi = i;
        }
    }
    bestV[threadIdx.x] = bv;
    bestI[threadIdx.x] = bi;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            float ov = bestV[threadIdx.x + s];
            int oi = bestI[threadIdx.x + s];
            if (ov > bestV[threadIdx.x] || (ov == bestV[threadIdx.x] && oi < bestI[threadIdx.x])) {
                bestV[threadIdx.x] = ov;
                bestI[threadIdx.x] = oi;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) out[r] = bestI[0] >= len ? 0 : bestI[0];
}

// ---------------------------------------------------------------------------------------------------------------
// KV cache. Row r of k and v (rows, inner) goes to the pool at kBase[r] + layer * layerStride[r] + qpos[r] * inner
// (values at vBase[r] + ...): the sequence's cache of this layer at the row's position.
extern "C" __global__ void write_kv(float* pool, const float* k, const float* v, const long long* kBase,
                                    const long long* vBase, const long long* layerStride, const long long* qpos,
                                    int layer, int rows, int inner) {
    int r = blockIdx.x;
    if (r >= rows) return;
    long long off = layer * layerStride[r] + qpos[r] * inner;
    float* kd = pool + kBase[r] + off;
    float* vd = pool + vBase[r] + off;
    for (int i = threadIdx.x; i < inner; i += blockDim.x) {
        kd[i] = k[(long long) r * inner + i];
        vd[i] = v[(long long) r * inner + i];
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Attention, prefill and decode alike: one block per (row, query head). Row r attends over numKeys[r] keys; query
// head h reads key/value head kh = h / (numHeads / numKvHeads) (grouped-query attention; multi-head when equal), whose
// key t starts at K + kBase[r] + layer * layerStride[r] + t * kvStride + kh * headDim (layerStride may be null: 0),
// values likewise from V. scores = scale * q.k (+ T5 relative bias when biasTable is not null:
// biasTable[lut[clamp(t - qpos[r], -maxDistance, maxDistance) + maxDistance] * numHeads + h]), softmax, then
// out[r, h] = sum_t p[t] v[t]. Scores live in dynamic shared memory (maxKeys floats).
extern "C" __global__ void attention(float* out, const float* q, const float* K, const float* V,
                                     const long long* kBase, const long long* vBase, const long long* layerStride,
                                     const long long* numKeys, const long long* qpos, int layer, int rows,
                                     int numHeads, int numKvHeads, int headDim, int kvStride, float scale,
                                     const float* biasTable, const int* lut, int maxDistance) {
    extern __shared__ float scores[];
    __shared__ float red[32];
    __shared__ float qs[256];
    int r = blockIdx.x / numHeads;
    int h = blockIdx.x % numHeads;
    if (r >= rows) return;
    int inner = numHeads * headDim;
    long long ls = layerStride == nullptr ? 0 : layer * layerStride[r];
    int kh = h / (numHeads / numKvHeads);
    const float* kr = K + kBase[r] + ls + kh * headDim;
    const float* vr = V + vBase[r] + ls + kh * headDim;
    int n = (int) numKeys[r];
    int pos = (int) qpos[r];
    for (int e = threadIdx.x; e < headDim; e += blockDim.x) qs[e] = q[(long long) r * inner + h * headDim + e];
    __syncthreads();
    float m = -INFINITY;
    for (int t = threadIdx.x; t < n; t += blockDim.x) {
        const float* kt = kr + (long long) t * kvStride;
        float s = 0.f;
        for (int e = 0; e < headDim; e++) s = fmaf(qs[e], kt[e], s);
        s *= scale;
        if (biasTable != nullptr) {
            int d = max(-maxDistance, min(maxDistance, t - pos));
            s += biasTable[lut[d + maxDistance] * numHeads + h];
        }
        scores[t] = s;
        m = fmaxf(m, s);
    }
    m = block_max(m, red);
    float sum = 0.f;
    for (int t = threadIdx.x; t < n; t += blockDim.x) {
        float e = expf(scores[t] - m);
        scores[t] = e;
        sum += e;
    }
    float inv = 1.f / block_sum(sum, red);
    __syncthreads();
    // out: the warps split the keys, each lane a column group; partial sums meet in shared memory.
    int warp = threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    int numWarps = blockDim.x / 32;
    __shared__ float partial[8][256];
    for (int e = lane; e < headDim; e += 32) {
        float acc = 0.f;
        for (int t = warp; t < n; t += numWarps) acc = fmaf(scores[t], vr[(long long) t * kvStride + e], acc);
        partial[warp][e] = acc;
    }
    __syncthreads();
    for (int e = threadIdx.x; e < headDim; e += blockDim.x) {
        float acc = 0.f;
        for (int w = 0; w < numWarps; w++) acc += partial[w][e];
        out[(long long) r * inner + h * headDim + e] = acc * inv;
    }
}
