package dev.exegpt.runtime.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Where an engine computes. Resolved once, when the engine is built (STYLE.md C6). */
public enum Backend {
    CPU, CUDA, AUTO;

    private static final Logger LOG = LoggerFactory.getLogger(Backend.class);

    /** Parses cpu, cuda or auto (any case). */
    public static Backend parse(String s) {
        for (Backend b : values()) if (b.name().equalsIgnoreCase(s)) return b;
        throw new IllegalArgumentException("backend '" + s + "': expected cpu, cuda or auto");
    }

    /**
     * The backend to run on. CUDA is refused with a clear message (no CUDA backend in this build yet, issue 6);
     * AUTO picks the CPU and logs why.
     */
    public Backend resolve() {
        switch (this) {
            case CUDA:
                throw new UnsupportedOperationException("backend cuda: no CUDA backend is available in this build "
                        + "(it arrives with issue 6); use --backend cpu or auto");
            case AUTO:
                LOG.info("backend auto: using the CPU backend (no CUDA backend in this build)");
                return CPU;
            default:
                return CPU;
        }
    }
}
