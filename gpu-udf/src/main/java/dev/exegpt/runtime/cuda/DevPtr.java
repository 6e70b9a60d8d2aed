package dev.exegpt.runtime.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A device allocation whose address the host can do arithmetic on: kernels take device pointers as 64-bit values,
 * so an offset into the KV pool or a scratch buffer is passed as {@code address() + bytes}, with no JCuda pointer
 * object per launch.
 */
final class DevPtr extends CUdeviceptr {
    /** The device address (this allocation's start). */
    long address() {
        return getNativePointer();
    }

    /** The device address of float index i of this allocation. */
    long floatAt(long i) {
        return getNativePointer() + 4 * i;
    }
}
