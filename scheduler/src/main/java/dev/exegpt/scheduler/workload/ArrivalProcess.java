package dev.exegpt.scheduler.workload;

import static dev.exegpt.scheduler.Require.require;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * When requests arrive. The paper measures at saturation (bulk: everything at time 0, PAPER.md §2.3); open-loop
 * arrivals (Poisson, trace replay) are our extension for the job (PAPER.md §17).
 */
public sealed interface ArrivalProcess {

    /** Arrival times, ms from the start, of the first n requests; non-decreasing. */
    double[] arrivalsMs(int n, RandomGenerator rng);

    /** Saturation: every request is waiting at time 0. */
    record Bulk() implements ArrivalProcess {
        @Override
        public double[] arrivalsMs(int n, RandomGenerator rng) {
            return new double[n];
        }
    }

    /** Poisson arrivals at a fixed rate. */
    record Poisson(double requestsPerSecond) implements ArrivalProcess {
        public Poisson {
            require(requestsPerSecond > 0, "requestsPerSecond must be > 0, got %s", requestsPerSecond);
        }

        @Override
        public double[] arrivalsMs(int n, RandomGenerator rng) {
            double[] t = new double[n];
            double now = 0;
            for (int i = 0; i < n; i++) {
                now += -Math.log(1 - rng.nextDouble()) * 1000 / requestsPerSecond;
                t[i] = now;
            }
            return t;
        }
    }

    /** Replays recorded offsets (ms from the first request), cycling with the trace's span when n exceeds them. */
    record TraceReplay(double[] offsetsMs) implements ArrivalProcess {
        public TraceReplay {
            require(offsetsMs.length >= 1, "offsetsMs must hold at least one arrival, got %s", offsetsMs.length);
            offsetsMs = offsetsMs.clone();
        }

        @Override
        public double[] arrivalsMs(int n, RandomGenerator rng) {
            double span = offsetsMs[offsetsMs.length - 1] + 1;
            double[] t = new double[n];
            for (int i = 0; i < n; i++) {
                t[i] = offsetsMs[i % offsetsMs.length] + span * (i / offsetsMs.length);
            }
            return t;
        }

        /** Reads an Azure-2023-style CSV ({@code TIMESTAMP,...}, timestamps like 2023-11-16 18:17:03.9799600). */
        public static TraceReplay fromAzureCsv(Path csv) throws IOException {
            DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");
            List<String> lines = Files.readAllLines(csv);
            double[] ms = lines.stream().skip(1).filter(l -> !l.isBlank())
                    .map(l -> l.substring(0, Math.min(26, l.indexOf(','))))
                    .mapToDouble(s -> LocalDateTime.parse(s, f).toInstant(ZoneOffset.UTC).toEpochMilli()
                            + (s.length() > 23 ? Integer.parseInt(s.substring(23)) / 1000.0 : 0))
                    .sorted().toArray();
            double first = ms[0];
            for (int i = 0; i < ms.length; i++) ms[i] -= first;
            return new TraceReplay(ms);
        }
    }
}
