package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.exegpt.runtime.engine.Backend;
import org.junit.jupiter.api.Test;

/** Without a GPU (CI): the probe says why, AUTO picks the CPU, CUDA is refused in one line. */
class CudaBackendChoiceTest {

    @Test
    void probeIsCachedAndGivesAReason() {
        CudaProbe.Result r = CudaProbe.probe();
        assertSame(r, CudaProbe.probe());
        assertFalse(r.reason().isBlank());
        assertFalse(r.reason().contains("\n"), "one line: " + r.reason());
    }

    @Test
    void withoutADeviceAutoPicksTheCpuAndCudaIsRefused() {
        CudaProbe.Result r = CudaProbe.probe();
        assumeFalse(r.available(), "a CUDA device answers here (" + r.reason() + "): CudaEngineTest covers this machine");
        assertEquals(Backend.CPU, Backend.AUTO.resolve());
        assertTrue(Backend.autoChoice().startsWith("using the CPU backend ("), Backend.autoChoice());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, Backend.CUDA::resolve);
        assertTrue(e.getMessage().startsWith("backend cuda: no usable CUDA device: "), e.getMessage());
        assertTrue(e.getMessage().endsWith("use --backend cpu or auto"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        IllegalStateException open = assertThrows(IllegalStateException.class, () -> new CudaDevice(0));
        assertTrue(open.getMessage().startsWith("backend cuda: "), open.getMessage());
    }
}
