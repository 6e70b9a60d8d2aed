package dev.exegpt.operators.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GpuAssignmentTest {

    @Test
    void flinkExternalResourcesWinAndSubtasksTakeThemInTurn() {
        List<String> offered = List.of("3", "1");                       // discovery order is not index order
        assertEquals(1, GpuAssignment.pick(offered, List.of(7), 0, 8));
        assertEquals(3, GpuAssignment.pick(offered, List.of(7), 1, 8));
        assertEquals(1, GpuAssignment.pick(offered, List.of(), 2, 8));
    }

    @Test
    void configuredIndexesApplyWhereFlinkOffersNone() {
        assertEquals(2, GpuAssignment.pick(List.of(), List.of(2, 5), 0, 8));
        assertEquals(5, GpuAssignment.pick(List.of(), List.of(2, 5), 1, 8));
        assertEquals(2, GpuAssignment.pick(List.of(), List.of(2, 5), 2, 8));
    }

    @Test
    void otherwiseTheSubtaskIndexModuloTheDevices() {
        assertEquals(1, GpuAssignment.pick(List.of(), List.of(), 3, 2));
        assertEquals(0, GpuAssignment.pick(List.of(), List.of(), 3, 0));   // no device: the backend will say so
    }

    @Test
    void badIndexesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GpuAssignment.pick(List.of("gpu0"), List.of(), 0, 1));
        assertTrue(e.getMessage().contains("'gpu0'"), e.getMessage());
        assertEquals(List.of(0, 3), GpuAssignment.parseList(" 0, 3"));
        assertEquals(List.of(), GpuAssignment.parseList(""));
        IllegalArgumentException neg = assertThrows(IllegalArgumentException.class, () -> GpuAssignment.parseList("1,-2"));
        assertTrue(neg.getMessage().startsWith("executor.gpu.indexes '-2'"), neg.getMessage());
    }
}
