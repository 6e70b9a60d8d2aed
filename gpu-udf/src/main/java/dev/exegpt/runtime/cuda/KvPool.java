package dev.exegpt.runtime.cuda;

import static dev.exegpt.runtime.Require.require;

import java.util.Map;
import java.util.TreeMap;

/**
 * The byte accounting of the device's KV-cache pool: one device allocation of {@link #capacityBytes} that sequences'
 * states are carved from, first fit, in granules of {@link #GRANULE_BYTES} (so every state starts aligned), with
 * freed ranges merged with their neighbours. Pure bookkeeping (offsets only), so it is tested without a GPU.
 * Not thread-safe: the engine's thread owns it.
 */
public final class KvPool {
    /** Allocation unit and alignment of every range. */
    public static final int GRANULE_BYTES = 256;

    private final long capacityBytes;
    private final TreeMap<Long, Long> free = new TreeMap<>();      // offset -> length, disjoint and not adjacent
    private final TreeMap<Long, Long> used = new TreeMap<>();      // offset -> length
    private long usedBytes;

    public KvPool(long capacityBytes) {
        require(capacityBytes >= GRANULE_BYTES, "capacityBytes=%s: must be at least %s", capacityBytes, GRANULE_BYTES);
        this.capacityBytes = capacityBytes / GRANULE_BYTES * GRANULE_BYTES;
        free.put(0L, this.capacityBytes);
    }

    public long capacityBytes() { return capacityBytes; }

    /** Bytes held by live ranges (rounded up to granules). */
    public long usedBytes() { return usedBytes; }

    public long freeBytes() { return capacityBytes - usedBytes; }

    /** Live ranges. */
    public int numRanges() { return used.size(); }

    /** Largest range that {@link #allocate} could return now. */
    public long largestFreeBytes() {
        long best = 0;
        for (long len : free.values()) best = Math.max(best, len);
        return best;
    }

    /** Bytes a request of this size takes: rounded up to the granule. */
    public static long rounded(long bytes) {
        return (bytes + GRANULE_BYTES - 1) / GRANULE_BYTES * GRANULE_BYTES;
    }

    /** Byte offset of a new range of at least bytes, or -1 when no free range is large enough. */
    public long allocate(long bytes) {
        require(bytes > 0, "bytes=%s: must be positive", bytes);
        long need = rounded(bytes);
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            long len = e.getValue();
            if (len < need) continue;
            long at = e.getKey();                // read before removing: TreeMap reuses the entry object
            free.remove(at);
            if (len > need) free.put(at + need, len - need);
            used.put(at, need);
            usedBytes += need;
            return at;
        }
        return -1;
    }

    /** Frees the range that starts at offset (from {@link #allocate}). */
    public void free(long offset) {
        Long len = used.remove(offset);
        require(len != null, "offset %s: no live range starts there", offset);
        usedBytes -= len;
        long start = offset;
        long end = offset + len;
        Map.Entry<Long, Long> before = free.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() == start) {
            start = before.getKey();
            free.remove(start);
        }
        Long afterLen = free.get(end);
        if (afterLen != null) {
            free.remove(end);
            end += afterLen;
        }
        free.put(start, end - start);
    }
}
