package dev.exegpt.scheduler.sim;

import static dev.exegpt.scheduler.Require.require;

/**
 * Simulator settings where the paper is silent (scheduler/README.md).
 *
 * @param batchMode             LITTLE (default) or the paper's LITERAL batch formula (PAPER.md §8.4)
 * @param waaBufferFraction     latency buffer for WAA's runtime adjustment (PAPER.md §7, §8.3 [open]): 5%
 * @param rraBufferFraction     the same for RRA; 0, as RRA's input randomisation keeps encoder times steady (§7.9)
 * @param usableMemoryFraction  share of device memory for weights + KV; the rest is workspace and fragmentation
 */
public record SimOptions(BatchComposition.Mode batchMode, double waaBufferFraction, double rraBufferFraction,
                         double usableMemoryFraction) {
    public SimOptions {
        require(waaBufferFraction >= 0 && rraBufferFraction >= 0, "buffers must be >= 0, got %s, %s",
                waaBufferFraction, rraBufferFraction);
        require(usableMemoryFraction > 0 && usableMemoryFraction <= 1, "usableMemoryFraction must be in (0, 1], got %s",
                usableMemoryFraction);
    }

    public static final SimOptions DEFAULTS = new SimOptions(BatchComposition.Mode.LITTLE, 0.05, 0.0, 0.90);

    public SimOptions withBatchMode(BatchComposition.Mode mode) {
        return new SimOptions(mode, waaBufferFraction, rraBufferFraction, usableMemoryFraction);
    }

    public SimOptions withoutBuffers() {
        return new SimOptions(batchMode, 0, 0, usableMemoryFraction);
    }
}
