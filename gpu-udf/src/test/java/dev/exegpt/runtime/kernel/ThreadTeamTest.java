package dev.exegpt.runtime.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ThreadTeamTest {

    @Test
    void everyIndexRunsExactlyOnceOverManyLoops() {
        try (ThreadTeam team = new ThreadTeam(3, "test-team")) {
            for (int loop = 0; loop < 2000; loop++) {
                int n = 1 + loop % 37;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                team.run(n, hits::incrementAndGet);
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "loop " + loop + " index " + i);
            }
        }
    }

    @Test
    void helpersShareTheWork() {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        try (ThreadTeam team = new ThreadTeam(1, "test-team")) {
            for (int loop = 0; loop < 200 && threads.size() < 2; loop++) {
                team.run(2, i -> {
                    threads.add(Thread.currentThread().getName());
                    long until = System.nanoTime() + 200_000;
                    while (System.nanoTime() < until) Thread.onSpinWait();
                });
            }
        }
        assertEquals(2, threads.size(), "the caller and its helper both ran chunks: " + threads);
    }

    @Test
    void aFailureInAHelperReachesTheCaller() {
        try (ThreadTeam team = new ThreadTeam(1, "test-team")) {
            String caller = Thread.currentThread().getName();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
                for (int loop = 0; loop < 500; loop++) {
                    team.run(4, i -> {
                        if (!Thread.currentThread().getName().equals(caller)) throw new IllegalStateException("boom");
                        long until = System.nanoTime() + 100_000;              // leave the helper chunks to take
                        while (System.nanoTime() < until) Thread.onSpinWait();
                    });
                }
            });
            assertEquals("boom", e.getMessage());
            AtomicIntegerArray hits = new AtomicIntegerArray(8);                // and the team still works
            team.run(8, hits::incrementAndGet);
            for (int i = 0; i < 8; i++) assertEquals(1, hits.get(i));
        }
    }

    @Test
    void aLoopStartedWhileAnotherHoldsTheTeamRunsOnItsCaller() throws Exception {
        try (ThreadTeam team = new ThreadTeam(1, "test-team")) {
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread holder = new Thread(() -> team.run(2, i -> {
                if (i == 0) {
                    inside.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }));
            holder.start();
            assertTrue(inside.await(10, java.util.concurrent.TimeUnit.SECONDS));
            Set<String> threads = ConcurrentHashMap.newKeySet();
            team.run(16, i -> threads.add(Thread.currentThread().getName()));
            assertEquals(Set.of(Thread.currentThread().getName()), threads);
            release.countDown();
            holder.join(10_000);
        }
    }
}
