package dev.exegpt.scheduler.workload;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The task catalogue: the paper's five synthetic tasks (Table 3) and the real-data tasks derived from
 * ../shared/data, one {@code datasets/NAME.properties} file each, read from the class path (the shaded jar
 * carries them) or from a file given by the user ({@code --workload FILE}).
 *
 * <p>File format (java.util.Properties): {@code name}, {@code description}, {@code source}; for each of
 * {@code input} and {@code output} a {@code .kind} of {@code truncnormal} ({@code .mean}, {@code .std},
 * {@code .max}) or {@code quantiles} ({@code .quantiles}: 101 comma-separated percentiles); optional
 * {@code output.p99} (the latency-defining length; default: the distribution's 99th percentile) and
 * {@code correlation.spearman}.
 */
public final class Workloads {
    /** The paper's synthetic tasks first, then the real-data ones. */
    public static final List<String> NAMES = List.of("S", "T", "G", "C1", "C2",
            "conversation", "code", "humaneval", "arxiv", "cnn_dailymail", "wmt");

    private Workloads() {}

    public static List<String> names() {
        return NAMES;
    }

    private static final Map<String, Workload> CACHE = new ConcurrentHashMap<>();

    /** Looks a task up by name, case-insensitively; throws IllegalArgumentException naming the known tasks. */
    public static Workload byName(String name) {
        String found = NAMES.stream().filter(n -> n.equalsIgnoreCase(name.trim())).findFirst().orElseThrow(
                () -> new IllegalArgumentException("unknown task '%s': expected one of %s".formatted(name, NAMES)));
        return CACHE.computeIfAbsent(found, Workloads::readResource);
    }

    private static Workload readResource(String found) {
        String resource = "/datasets/" + found + ".properties";
        try (InputStream in = Workloads.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("task file " + resource + " missing from the class path");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), resource);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads a task file given by the user. */
    public static Workload load(Path file) {
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read workload file %s: %s".formatted(file, e.getMessage()));
        }
    }

    static Workload parse(String text, String origin) {
        Properties p = new Properties();
        try (Reader r = new StringReader(text)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String name = required(p, "name", origin);
        LengthDistribution input = distribution(p, "input", origin);
        LengthDistribution output = distribution(p, "output", origin);
        String p99 = p.getProperty("output.p99");
        int bound = p99 == null ? output.quantile(0.99) : Integer.parseInt(p99.trim());
        double rho = Double.parseDouble(p.getProperty("correlation.spearman", "0").trim());
        return new Workload(name, p.getProperty("description", name), p.getProperty("source", origin),
                input, output, rho, bound);
    }

    private static LengthDistribution distribution(Properties p, String prefix, String origin) {
        String kind = required(p, prefix + ".kind", origin).toLowerCase(Locale.ROOT);
        switch (kind) {
            case "truncnormal":
                return new TruncatedNormal(number(p, prefix + ".mean", origin), number(p, prefix + ".std", origin),
                        (int) number(p, prefix + ".max", origin));
            case "quantiles":
                int[] q = Arrays.stream(required(p, prefix + ".quantiles", origin).split(","))
                        .map(String::trim).mapToInt(Integer::parseInt).toArray();
                return new EmpiricalQuantiles(q);
            default:
                throw new IllegalArgumentException("%s: %s.kind=%s: expected truncnormal or quantiles"
                        .formatted(origin, prefix, kind));
        }
    }

    private static String required(Properties p, String key, String origin) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("%s: missing key '%s'".formatted(origin, key));
        }
        return v.trim();
    }

    private static double number(Properties p, String key, String origin) {
        String v = required(p, key, origin);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("%s: %s=%s: expected a number".formatted(origin, key, v));
        }
    }

    /**
     * The workload of a known set of requests (a batch file): the prompts' lengths and the outputs' caps (maxNewTokens,
     * what the requests may generate; the bound length is their p99), lengths taken as independent.
     */
    public static Workload fromSamples(String name, int[] inputTokens, int[] outputTokens) {
        EmpiricalQuantiles in = EmpiricalQuantiles.of(inputTokens);
        EmpiricalQuantiles out = EmpiricalQuantiles.of(outputTokens);
        int bound = Math.max(1, Math.min(out.max(), out.quantile(0.99)));
        return new Workload(name, "the requests of " + name, "measured from the file", in, out, 0, bound);
    }
}
