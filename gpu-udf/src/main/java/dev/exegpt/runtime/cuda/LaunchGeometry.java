package dev.exegpt.runtime.cuda;

import static dev.exegpt.runtime.Require.require;

/**
 * Grid and block sizes of the kernels in {@code exegpt_kernels.cu}, computed on the host. Pure arithmetic, kept apart
 * from the launches so that it is tested without a GPU.
 *
 * @param gridX blocks along x
 * @param gridY blocks along y
 * @param blockX threads per block
 * @param sharedBytes dynamic shared memory per block
 */
public record LaunchGeometry(int gridX, int gridY, int blockX, int sharedBytes) {

    /** Output tile of {@code matmul_f32} (64 x 64, 256 threads of 4 x 4 each). */
    public static final int MATMUL_TILE = 64;
    /** Output tile of the tensor-core {@code matmul_f16/bf16} (32 x 32, four warps of one 16 x 16 fragment). */
    public static final int WMMA_TILE = 32;
    /** Threads of the row kernels (norms, softmax, embedding, argmax, KV writes) and of the attention blocks. */
    public static final int ROW_THREADS = 256;
    public static final int ATTENTION_THREADS = 128;
    /** Largest head dimension the attention kernel stages (its shared q and partial sums). */
    public static final int MAX_HEAD_DIM = 256;
    /** Dynamic shared memory a block may use without opting in (the scores of one attention row). */
    public static final int MAX_DYNAMIC_SHARED_BYTES = 48 * 1024 - 10 * 1024;
    /** Grid cap of the grid-stride element-wise kernels. */
    public static final int MAX_ELEMENTWISE_BLOCKS = 65535;

    public LaunchGeometry {
        require(gridX >= 1 && gridY >= 1, "grid %sx%s: must be at least 1x1", gridX, gridY);
        require(blockX >= 32 && blockX <= 1024 && blockX % 32 == 0, "block %s: must be a multiple of 32 in [32, 1024]", blockX);
        require(sharedBytes >= 0, "sharedBytes=%s: must not be negative", sharedBytes);
    }

    /** C (m, n): one block per 64 x 64 tile, x along n, y along m. */
    public static LaunchGeometry matmul(int m, int n) {
        require(m >= 1 && n >= 1, "matmul %sx%s: both dimensions must be positive", m, n);
        return new LaunchGeometry(ceilDiv(n, MATMUL_TILE), ceilDiv(m, MATMUL_TILE), 256, 0);
    }

    /** Rows up to which the skinny (one warp per output column) kernel runs: decode steps of small batches. */
    public static final int SKINNY_MAX_ROWS = 16;
    /** Rows from which the 128 x 128 tile kernel runs. */
    public static final int LARGE_MIN_ROWS = 128;

    /** The f32 GEMM kernel for C (m, n): skinny for a few rows, 128-wide tiles for many, 64-wide between. */
    public static String matmulKernel(int m, int n) {
        if (m <= SKINNY_MAX_ROWS) return "matmul_skinny";
        return m >= LARGE_MIN_ROWS && n >= LARGE_MIN_ROWS ? "matmul_f32_large" : "matmul_f32";
    }

    /** The launch of {@link #matmulKernel}'s choice. */
    public static LaunchGeometry matmulF32(int m, int n) {
        return switch (matmulKernel(m, n)) {
            case "matmul_skinny" -> new LaunchGeometry(ceilDiv(n, 8), 1, 256, 0);
            case "matmul_f32_large" -> new LaunchGeometry(ceilDiv(n, 128), ceilDiv(m, 128), 256, 0);
            default -> matmul(m, n);
        };
    }

    /** C (m, n) on tensor cores: one block of four warps per 32 x 32 tile. */
    public static LaunchGeometry matmulWmma(int m, int n) {
        require(m >= 1 && n >= 1, "matmul %sx%s: both dimensions must be positive", m, n);
        return new LaunchGeometry(ceilDiv(n, WMMA_TILE), ceilDiv(m, WMMA_TILE), 128, 0);
    }

    /** One block per row. */
    public static LaunchGeometry rows(int rows) {
        require(rows >= 1, "rows=%s: must be positive", rows);
        return new LaunchGeometry(rows, 1, ROW_THREADS, 0);
    }

    /** Grid-stride loop over len elements, 256 threads a block, at most {@link #MAX_ELEMENTWISE_BLOCKS} blocks. */
    public static LaunchGeometry elementwise(long len) {
        require(len >= 1, "len=%s: must be positive", len);
        long blocks = Math.min(MAX_ELEMENTWISE_BLOCKS, (len + 255) / 256);
        return new LaunchGeometry((int) blocks, 1, 256, 0);
    }

    /**
     * One block per (row, head), with the scores of up to maxKeys keys in dynamic shared memory. Fails with the
     * limit when a context is longer than one block can hold.
     */
    public static LaunchGeometry attention(int rows, int numHeads, int headDim, int maxKeys) {
        require(rows >= 1 && numHeads >= 1, "attention rows=%s heads=%s: must be positive", rows, numHeads);
        require(headDim >= 1 && headDim <= MAX_HEAD_DIM, "headDim=%s: the attention kernel takes 1 to %s", headDim, MAX_HEAD_DIM);
        long shared = 4L * Math.max(1, maxKeys);
        require(shared <= MAX_DYNAMIC_SHARED_BYTES, "attention over %s keys needs %s bytes of shared memory;"
                + " the kernel takes at most %s keys", maxKeys, shared, MAX_DYNAMIC_SHARED_BYTES / 4);
        long blocks = (long) rows * numHeads;
        require(blocks <= Integer.MAX_VALUE, "attention %s rows x %s heads: too many blocks", rows, numHeads);
        return new LaunchGeometry((int) blocks, 1, ATTENTION_THREADS, (int) shared);
    }

    static int ceilDiv(long a, int b) {
        return (int) ((a + b - 1) / b);
    }
}
