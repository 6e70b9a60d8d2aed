package dev.exegpt.operators.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Which GPU an executor subtask runs on (DESIGN.md §6: Flink's MiniCluster never exposes GPUs, so the mapping is
 * ours). On a cluster, the TaskManager's GPUs come from {@code getExternalResourceInfos("gpu")} (their "index"
 * property, from Flink's GPU discovery script); subtasks sharing a TaskManager take them in turn. Without them
 * (MiniCluster, or no external resource configured) the indexes of {@code executor.gpu.indexes} are taken in turn,
 * and without those the subtask index modulo the devices the driver reports. Pure, so it is tested without Flink.
 */
public final class GpuAssignment {
    private GpuAssignment() {}

    /**
     * @param externalIndexes the "index" property of each GPU Flink offers this task (empty in a MiniCluster)
     * @param configured {@code executor.gpu.indexes} (empty when not set)
     * @param subtaskIndex this executor subtask's index
     * @param numDevices CUDA devices the driver reports here (0 when unknown or none)
     * @return the GPU index to open
     */
    public static int pick(List<String> externalIndexes, List<Integer> configured, int subtaskIndex, int numDevices) {
        if (subtaskIndex < 0) throw new IllegalArgumentException("subtaskIndex=" + subtaskIndex + ": must be >= 0");
        if (!externalIndexes.isEmpty()) {
            List<Integer> ids = new ArrayList<>();
            for (String s : externalIndexes) ids.add(parseIndex(s, "Flink external resource gpu index"));
            ids.sort(null);
            return ids.get(subtaskIndex % ids.size());
        }
        if (!configured.isEmpty()) return configured.get(subtaskIndex % configured.size());
        return numDevices > 0 ? subtaskIndex % numDevices : 0;
    }

    /** Parses {@code executor.gpu.indexes}: comma-separated non-negative integers, or empty. */
    public static List<Integer> parseList(String csv) {
        List<Integer> out = new ArrayList<>();
        if (csv == null || csv.isBlank()) return out;
        for (String s : csv.split(",")) out.add(parseIndex(s, "executor.gpu.indexes"));
        return out;
    }

    private static int parseIndex(String s, String what) {
        try {
            int i = Integer.parseInt(s.trim());
            if (i >= 0) return i;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(what + " '" + s + "': expected a GPU index (0, 1, ...)");
    }
}
