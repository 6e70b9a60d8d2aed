package dev.exegpt.runtime.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/** What the JVM has allocated and collected so far, for benchmarks that report a step's heap use beside its time. */
final class HeapUse {
    private HeapUse() {}

    /** Bytes allocated on the heap by every live thread so far (HotSpot's per-thread counters); -1 where unsupported. */
    static long allocatedBytes() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (!(threads instanceof com.sun.management.ThreadMXBean hotspot) || !hotspot.isThreadAllocatedMemorySupported()) {
            return -1;
        }
        long sum = 0;
        for (long bytes : hotspot.getThreadAllocatedBytes(threads.getAllThreadIds())) if (bytes > 0) sum += bytes;
        return sum;
    }

    /**
     * {pauses, milliseconds paused} so far. A collector that reports its pauses apart (ZGC: "ZGC Pauses" beside the
     * concurrent "ZGC Cycles", whose time the application does not wait for) counts only those; G1's and Parallel's
     * collections stop the application, so they count whole.
     */
    static long[] gc() {
        boolean pausesApart = false;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            pausesApart |= gc.getName().endsWith(" Pauses");
        }
        long count = 0;
        long ms = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (pausesApart && !gc.getName().endsWith(" Pauses")) continue;
            count += Math.max(0, gc.getCollectionCount());
            ms += Math.max(0, gc.getCollectionTime());
        }
        return new long[] {count, ms};
    }
}
