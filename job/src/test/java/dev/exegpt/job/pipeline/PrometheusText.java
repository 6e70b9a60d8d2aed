package dev.exegpt.job.pipeline;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A Prometheus text exposition scraped over HTTP ({@code text}) and its samples, for assertions on metric values. */
record PrometheusText(String text, List<Sample> samples) {

    /** One sample line: metric name, its labels as written, and its value. */
    record Sample(String name, String labels, double value) {}

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{.*})?\\s+(\\S+)");

    static PrometheusText scrape(int port) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET /metrics on port " + port + ": HTTP " + response.statusCode());
        }
        List<Sample> samples = new ArrayList<>();
        for (String line : response.body().split("\n")) {
            Matcher m = LINE.matcher(line);
            if (!line.startsWith("#") && m.find()) {
                samples.add(new Sample(m.group(1), m.group(2) == null ? "" : m.group(2), Double.parseDouble(m.group(3))));
            }
        }
        return new PrometheusText(response.body(), samples);
    }

    /** Samples whose metric name ends with {@code suffix} and whose labels contain {@code labelPart}. */
    List<Sample> named(String suffix, String labelPart) {
        return samples.stream().filter(s -> s.name().endsWith(suffix) && s.labels().contains(labelPart)).toList();
    }

    /** Every metric name in the exposition that contains {@code part}, for failure messages. */
    List<String> names(String part) {
        return samples.stream().map(Sample::name).filter(n -> n.contains(part)).distinct().sorted().toList();
    }
}
