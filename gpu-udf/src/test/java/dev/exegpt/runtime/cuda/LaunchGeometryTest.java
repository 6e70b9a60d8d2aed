package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LaunchGeometryTest {

    @Test
    void matmulCoversEveryOutputWithTiles() {
        LaunchGeometry g = LaunchGeometry.matmul(65, 128);         // rows m along y, columns n along x
        assertEquals(2, g.gridX());
        assertEquals(2, g.gridY());
        assertEquals(256, g.blockX());
        LaunchGeometry one = LaunchGeometry.matmul(1, 50272);     // a decode step's LM head
        assertEquals(786, one.gridX());
        assertEquals(1, one.gridY());
        LaunchGeometry w = LaunchGeometry.matmulWmma(33, 32);
        assertEquals(1, w.gridX());
        assertEquals(2, w.gridY());
        assertEquals(128, w.blockX());
    }

    @Test
    void f32KernelFollowsTheRowCount() {
        assertEquals("matmul_skinny", LaunchGeometry.matmulKernel(1, 768));
        assertEquals("matmul_skinny", LaunchGeometry.matmulKernel(16, 50272));
        assertEquals("matmul_f32", LaunchGeometry.matmulKernel(64, 768));
        assertEquals("matmul_f32_large", LaunchGeometry.matmulKernel(4096, 4096));
        assertEquals("matmul_f32", LaunchGeometry.matmulKernel(4096, 64));
        LaunchGeometry skinny = LaunchGeometry.matmulF32(4, 768);
        assertEquals(96, skinny.gridX());                          // 8 output columns (warps) per block
        LaunchGeometry large = LaunchGeometry.matmulF32(300, 4096);
        assertEquals(32, large.gridX());
        assertEquals(3, large.gridY());
    }

    @Test
    void elementwiseIsCappedAndGridStrides() {
        assertEquals(1, LaunchGeometry.elementwise(1).gridX());
        assertEquals(2, LaunchGeometry.elementwise(257).gridX());
        assertEquals(LaunchGeometry.MAX_ELEMENTWISE_BLOCKS, LaunchGeometry.elementwise(1L << 40).gridX());
    }

    @Test
    void attentionHasABlockPerRowAndHeadAndScoresInSharedMemory() {
        LaunchGeometry g = LaunchGeometry.attention(64, 12, 64, 2048);
        assertEquals(64 * 12, g.gridX());
        assertEquals(8192, g.sharedBytes());
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> LaunchGeometry.attention(1, 12, 64, 100_000));
        assertTrue(tooLong.getMessage().contains("at most"), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.attention(1, 12, 512, 8));
    }

    @Test
    void rejectsEmptyShapesWithTheirName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.matmul(0, 4));
        assertTrue(e.getMessage().contains("matmul 0x4"), e.getMessage());
    }
}
