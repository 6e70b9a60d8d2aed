package dev.exegpt.operators.flink;

import java.io.Serializable;
import java.util.Properties;

/**
 * Where executors publish their engine steps for the job's control loop ({@code ExecutorSteps} records).
 *
 * @param topic    the steps topic
 * @param producer Kafka producer settings: bootstrap servers and the user's client settings (security)
 */
public record StepTopic(String topic, Properties producer) implements Serializable {
    public StepTopic {
        if (topic == null || topic.isBlank()) throw new IllegalArgumentException("the steps topic must be named");
        if (producer == null || producer.getProperty("bootstrap.servers") == null) {
            throw new IllegalArgumentException("the steps producer needs bootstrap.servers");
        }
    }
}
