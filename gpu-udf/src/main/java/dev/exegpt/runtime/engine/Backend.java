package dev.exegpt.runtime.engine;

import dev.exegpt.runtime.cuda.CudaProbe;
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
     * The backend to run on. CUDA needs a device that answers (probed once per JVM, {@link CudaProbe}); without one
     * it is refused with a one-line reason. AUTO picks CUDA when a device answers and the CPU otherwise, and logs
     * the choice and why.
     *
     * @throws UnsupportedOperationException for CUDA where no device answers
     */
    public Backend resolve() {
        switch (this) {
            case CUDA: {
                CudaProbe.Result probe = CudaProbe.probe();
                if (!probe.available()) {
                    throw new UnsupportedOperationException("backend cuda: no usable CUDA device: " + probe.reason()
                            + "; use --backend cpu or auto");
                }
                return CUDA;
            }
            case AUTO: {
                LOG.info("backend auto: {}", autoChoice());
                return CudaProbe.probe().available() ? CUDA : CPU;
            }
            default:
                return CPU;
        }
    }

    /** What AUTO chooses here and why, in one line (for logs and the CLI). */
    public static String autoChoice() {
        CudaProbe.Result probe = CudaProbe.probe();
        return probe.available() ? "using the CUDA backend (" + probe.reason() + ")"
                : "using the CPU backend (" + probe.reason() + ")";
    }
}
