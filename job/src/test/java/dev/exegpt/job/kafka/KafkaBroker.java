package dev.exegpt.job.kafka;

import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** A broker a test can use: where it is, and fresh topics on it. */
public record KafkaBroker(String bootstrapServers, String kind) {

    /** A new admin client; the caller closes it. */
    public Admin admin() {
        return Admin.create(java.util.Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /**
     * Creates a topic no other test uses, named after a standard topic so that its schema is known
     * ({@code exegpt.requests.<uuid>}), and returns its name.
     */
    public String freshTopic(String standardTopic) {
        String topic = standardTopic + "." + UUID.randomUUID();
        try (Admin admin = admin()) {
            Topics.create(admin, List.of(topic), Topics.DEFAULT_PARTITIONS);
        }
        return topic;
    }
}
