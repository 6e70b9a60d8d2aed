package dev.exegpt.runtime.kernel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The caller and a fixed set of helper threads sharing loops, as an OpenMP team does: a helper that has just worked
 * spins for {@link #SPIN_NANOS} waiting for the next loop before it parks, so a decode step's back-to-back matrix
 * products (tens of microseconds each at batch 1) are handed over in well under a microsecond instead of the
 * 20-40 microseconds an executor's wake-up costs (measured: a 768 x 768 product at batch 1 took 85 us on two threads
 * through an executor and 101 us on one; its weights stream in 35 us at the triad's rate).
 *
 * <p>A dispatch allocates nothing. A helper that has not started by the time the caller runs out of work is claimed
 * back and never runs that loop: on a loaded machine a helper may wait a whole scheduler slice for a core, and the
 * caller must not wait for it then. Several kernels may share a team (the device and the LM head of a one-device
 * engine, which take turns); a loop dispatched while another caller holds the team runs on its caller alone.
 */
final class ThreadTeam implements AutoCloseable {
    /** How long an idle helper spins before it parks: longer than the gaps inside a step, shorter than between steps' work on a busy machine. */
    static final long SPIN_NANOS = 50_000;

    private static final int IDLE = 0;
    private static final int PENDING = 1;
    private static final int RUNNING = 2;
    private static final int CLAIMED = 3;

    private final Thread[] helpers;
    private final AtomicIntegerArray state;
    private final AtomicIntegerArray parked;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile int generation;
    private volatile boolean closed;
    private volatile RuntimeException helperFailure;
    // Written by the caller before the states go PENDING; a helper reads them after it moves its state to RUNNING.
    private IntConsumer body;
    private int n;

    /** A team of the caller and numHelpers daemon threads named name. */
    ThreadTeam(int numHelpers, String name) {
        helpers = new Thread[numHelpers];
        state = new AtomicIntegerArray(numHelpers);
        parked = new AtomicIntegerArray(numHelpers);
        for (int h = 0; h < numHelpers; h++) {
            int id = h;
            helpers[h] = new Thread(() -> helperLoop(id), name + "-" + (h + 1));
            helpers[h].setDaemon(true);
            helpers[h].start();
        }
    }

    /** Runs body(i) for i in [0, count), shared between the caller and the helpers; returns when every i is done. */
    void run(int count, IntConsumer loopBody) {
        if (helpers.length == 0 || count <= 1 || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < count; i++) loopBody.accept(i);
            return;
        }
        try {
            dispatch(count, loopBody);
        } finally {
            busy.set(false);
        }
    }

    private void dispatch(int count, IntConsumer loopBody) {
        body = loopBody;
        n = count;
        next.set(0);
        int engaged = Math.min(helpers.length, count - 1);
        for (int h = 0; h < engaged; h++) state.set(h, PENDING);
        generation++;                                                   // volatile: publishes the loop
        for (int h = 0; h < engaged; h++) if (parked.get(h) == 1) LockSupport.unpark(helpers[h]);
        Throwable failure = null;
        try {
            work(loopBody, count);
        } catch (RuntimeException | Error e) {                          // wait for the helpers before rethrowing
            failure = e;
            next.set(Integer.MAX_VALUE / 2);
        }
        for (int h = 0; h < engaged; h++) {
            if (state.compareAndSet(h, PENDING, CLAIMED)) continue;     // never started: nothing to wait for
            while (state.get(h) == RUNNING) Thread.onSpinWait();
        }
        body = null;
        if (failure instanceof RuntimeException e) throw e;
        if (failure != null) throw (Error) failure;
        if (helperFailure != null) {
            RuntimeException e = helperFailure;
            helperFailure = null;
            throw e;
        }
    }

    private void work(IntConsumer loopBody, int count) {
        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) loopBody.accept(i);
    }

    private void helperLoop(int id) {
        int seen = generation;
        while (!closed) {
            int g = generation;
            if (g == seen) {
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                while (generation == seen && !closed && System.nanoTime() < spinUntil) Thread.onSpinWait();
                if (generation == seen && !closed) {
                    parked.set(id, 1);
                    if (generation == seen && !closed) LockSupport.park(this);
                    parked.set(id, 0);
                }
                continue;
            }
            seen = g;
            if (!state.compareAndSet(id, PENDING, RUNNING)) continue;  // claimed back, or no work for this helper
            try {
                work(body, n);
            } catch (RuntimeException e) {
                helperFailure = e;
                next.set(Integer.MAX_VALUE / 2);                        // the others stop taking work
            } catch (Error e) {
                helperFailure = new IllegalStateException("kernel thread failed", e);
                next.set(Integer.MAX_VALUE / 2);
            } finally {
                state.set(id, IDLE);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : helpers) LockSupport.unpark(t);
    }
}
