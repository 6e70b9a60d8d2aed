package dev.exegpt.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KvPoolTest {

    @Test
    void allocatesAlignedRangesFirstFitAndRefusesWhenFull() {
        KvPool p = new KvPool(4096);
        long a = p.allocate(1);                          // one granule
        long b = p.allocate(300);                        // two
        assertEquals(0, a);
        assertEquals(256, b);
        assertEquals(768, p.usedBytes());
        assertEquals(-1, p.allocate(4096));
        long c = p.allocate(4096 - 768);
        assertEquals(768, c);
        assertEquals(0, p.freeBytes());
        assertEquals(-1, p.allocate(1));
    }

    @Test
    void freedRangesMergeWithTheirNeighbours() {
        KvPool p = new KvPool(1024);
        long a = p.allocate(256);
        long b = p.allocate(256);
        long c = p.allocate(256);
        p.free(a);
        p.free(c);
        assertEquals(512, p.largestFreeBytes());         // c merged with the tail; a alone
        assertEquals(-1, p.allocate(768));
        p.free(b);
        assertEquals(1024, p.largestFreeBytes());
        assertEquals(0, p.allocate(1024));
    }

    @Test
    void randomChurnKeepsTheAccountsExact() {
        KvPool p = new KvPool(1 << 20);
        SplittableRandom rnd = new SplittableRandom(7);
        List<long[]> live = new ArrayList<>();            // offset, rounded bytes
        long used = 0;
        for (int i = 0; i < 5000; i++) {
            if (!live.isEmpty() && rnd.nextInt(3) == 0) {
                long[] r = live.remove(rnd.nextInt(live.size()));
                p.free(r[0]);
                used -= r[1];
            } else {
                long bytes = 1 + rnd.nextInt(20_000);
                long at = p.allocate(bytes);
                if (at >= 0) {
                    assertEquals(0, at % KvPool.GRANULE_BYTES);
                    for (long[] r : live) {
                        boolean disjoint = at + KvPool.rounded(bytes) <= r[0] || r[0] + r[1] <= at;
                        assertEquals(true, disjoint, "overlap at " + at);
                    }
                    live.add(new long[] {at, KvPool.rounded(bytes)});
                    used += KvPool.rounded(bytes);
                }
            }
            assertEquals(used, p.usedBytes());
        }
        for (long[] r : live) p.free(r[0]);
        assertEquals(p.capacityBytes(), p.largestFreeBytes());
    }

    @Test
    void doubleFreeIsRefused() {
        KvPool p = new KvPool(1024);
        long a = p.allocate(10);
        p.free(a);
        assertThrows(IllegalArgumentException.class, () -> p.free(a));
    }
}
