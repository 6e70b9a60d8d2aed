package dev.exegpt.scheduler.cost.fit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.exegpt.schemas.Profile;
import dev.exegpt.schemas.ProfileEntry;
import dev.exegpt.schemas.ProfileOperation;
import dev.exegpt.schemas.ProfilePhase;

/**
 * A profile fitted to the engine as it runs: its compute entries scaled per phase by measured / predicted, each
 * factor held within [{@value #MIN_FACTOR}, {@value #MAX_FACTOR}] (a fit outside says more about the run than about
 * the engine). The one place the bench's fit round, the fit to serving, {@code exegpt fidelity} and the job's
 * control loop scale a profile.
 */
public final class ProfileScaling {

    public static final double MIN_FACTOR = 0.5;
    public static final double MAX_FACTOR = 3;

    private ProfileScaling() {}

    /** A ratio as a scale factor: 1 when unknown (NaN), else held within [MIN_FACTOR, MAX_FACTOR]. */
    public static double clamp(double ratio) {
        return clamp(ratio, MIN_FACTOR, MAX_FACTOR);
    }

    /** A ratio as a scale factor: 1 when unknown (NaN), else held within [min, max]. */
    public static double clamp(double ratio, double min, double max) {
        return Double.isNaN(ratio) ? 1 : Math.max(min, Math.min(max, ratio));
    }

    /**
     * The profile with its compute entries scaled by phase: ENCODE LAYER, ATTENTION and NON_ATTENTION entries by
     * {@code encodeFactor}; the DECODE ones and the model head (paid at every decode step) by {@code decodeFactor}.
     * Communication entries are kept. {@code note} is appended to the device name, so that the file says it was fitted.
     */
    public static Profile scaled(Profile p, double encodeFactor, double decodeFactor, String note) {
        if (!(encodeFactor > 0 && decodeFactor > 0)) {
            throw new IllegalArgumentException("scale factors must be > 0, got encode %s, decode %s".formatted(encodeFactor, decodeFactor));
        }
        List<ProfileEntry> entries = new ArrayList<>(p.getEntries().size());
        for (ProfileEntry e : p.getEntries()) {
            ProfileOperation op = e.getOperation();
            boolean compute = op == ProfileOperation.LAYER || op == ProfileOperation.ATTENTION || op == ProfileOperation.NON_ATTENTION;
            double f = op == ProfileOperation.HEAD ? decodeFactor
                    : !compute ? 1 : e.getPhase() == ProfilePhase.ENCODE ? encodeFactor : decodeFactor;
            entries.add(f == 1 ? e : ProfileEntry.newBuilder(e).setMedianMs(e.getMedianMs() * f).setMinMs(e.getMinMs() * f)
                    .setMaxMs(e.getMaxMs() * f).build());
        }
        return Profile.newBuilder(p).setEntries(entries).setDeviceName(p.getDeviceName() + "; " + note).build();
    }

    /** The median; NaN of none. */
    public static double median(double[] v) {
        return trimmedMean(v, 0.5);
    }

    /**
     * The mean of the values left after cutting {@code cut} of them at each end (0: the mean; 0.5: the median), the
     * robust centre a sliding window of measurements is fitted by: a GC pause or a step that shared its core with a
     * burst of another process moves it little. NaN of none.
     */
    public static double trimmedMean(double[] v, double cut) {
        if (!(cut >= 0 && cut <= 0.5)) throw new IllegalArgumentException("cut " + cut + ": expected 0..0.5");
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        if (cut == 0.5 || n - 2 * (int) Math.floor(cut * n) <= 0) {
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }
        int k = (int) Math.floor(cut * n);
        double sum = 0;
        for (int i = k; i < n - k; i++) sum += s[i];
        return sum / (n - 2 * k);
    }
}
