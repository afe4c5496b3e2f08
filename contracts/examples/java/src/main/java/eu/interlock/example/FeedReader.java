package eu.interlock.example;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a team's Interlock feed as a national system does, with nothing of Interlock but its
 * published contract: SASL/SCRAM-SHA-512 with the team's own credentials, the official
 * CloudEvents Kafka deserializer (structured mode, chosen by the record's content-type header),
 * and every event validated against contracts/schemas/ (the envelope, then the payload schema its
 * type names). It reads the feed from the beginning to its end at start, drops repeats by event
 * id, prints one line per invalid event and a last line "events=N invalid=M".
 *
 * <p>Exit status: 0 all valid, 1 an event did not validate or could not be parsed, 2 bad usage.
 *
 * <pre>
 * java -jar target/feed-reader.jar --bootstrap 127.0.0.1:9094 --team RO-DIICOT \
 *   --user ns-ro-diicot --password-file ro.secret --contracts ../../ --ca-file ca.pem \
 *   [--topic-prefix staging.]
 * </pre>
 */
public final class FeedReader {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = parse(argv);
    if (args == null) {
      System.err.println(
          "usage: FeedReader --bootstrap HOST:PORT --team TEAM --user USER"
              + " (--password P | --password-file FILE) --contracts DIR"
              + " [--topic-prefix PREFIX] [--group GROUP] [--ca-file CA.pem]");
      System.exit(2);
    }
    String password =
        args.containsKey("password")
            ? args.get("password")
            : Files.readString(Path.of(args.get("password-file"))).strip();
    Contract contract = Contract.load(Path.of(args.get("contracts"), "schemas"));
    String topic = args.getOrDefault("topic-prefix", "") + "interlock.feed." + args.get("team");
    String group =
        args.getOrDefault("group", args.get("user") + "-java-" + UUID.randomUUID().toString().substring(0, 8));

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
    if (args.containsKey("ca-file")) {
      // SASL_SSL: the broker's certificate verified against the deployment's CA (PEM), host too
      props.put("security.protocol", "SASL_SSL");
      props.put("ssl.truststore.type", "PEM");
      props.put("ssl.truststore.location", args.get("ca-file"));
      props.put("ssl.endpoint.identification.algorithm", "https");
    } else {
      props.put("security.protocol", "SASL_PLAINTEXT");
    }
    props.put("sasl.mechanism", "SCRAM-SHA-512");
    props.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + args.get("user") + "\" password=\"" + password + "\";");
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");

    CloudEventDeserializer cloudEvents = new CloudEventDeserializer();
    cloudEvents.configure(Map.of(), false);
    Set<String> seen = new HashSet<>();
    int invalid = 0;
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
        partitions.add(new TopicPartition(topic, info.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      while (!caughtUp(consumer, end)) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          String where = record.partition() + ":" + record.offset();
          CloudEvent event;
          try {
            // structured or binary mode is chosen by the record's headers (protocol binding §3)
            event = cloudEvents.deserialize(record.topic(), record.headers(), record.value());
          } catch (RuntimeException e) {
            invalid++;
            System.out.println("INVALID " + where + " not a CloudEvent: " + e.getMessage());
            continue;
          }
          if (!seen.add(event.getId())) {
            continue; // at-least-once delivery: a repeat has the same id
          }
          List<String> problems = contract.problems(record.value(), event);
          if (!problems.isEmpty()) {
            invalid++;
            System.out.println("INVALID " + where + " " + event.getType() + ": " + problems);
          }
        }
      }
    }
    System.out.println("events=" + seen.size() + " invalid=" + invalid);
    System.exit(invalid == 0 ? 0 : 1);
  }

  private static boolean caughtUp(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static Map<String, String> parse(String[] argv) {
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (!argv[i].startsWith("--")) {
        return null;
      }
      args.put(argv[i].substring(2), argv[i + 1]);
    }
    boolean complete =
        argv.length % 2 == 0
            && args.containsKey("bootstrap")
            && args.containsKey("team")
            && args.containsKey("user")
            && args.containsKey("contracts")
            && (args.containsKey("password") || args.containsKey("password-file"));
    return complete ? args : null;
  }

  /** The published JSON Schemas: the envelope, and one payload schema per event type. */
  static final class Contract {
    private final JsonSchema envelope;
    private final Map<String, JsonSchema> payloads;

    private Contract(JsonSchema envelope, Map<String, JsonSchema> payloads) {
      this.envelope = envelope;
      this.payloads = payloads;
    }

    static Contract load(Path schemas) throws IOException {
      JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
      JsonSchema envelope = factory.getSchema(JSON.readTree(schemas.resolve("cloudevent.json").toFile()));
      Map<String, JsonSchema> payloads = new HashMap<>();
      try (DirectoryStream<Path> files = Files.newDirectoryStream(schemas, "interlock.*.json")) {
        for (Path file : files) {
          JsonNode schema = JSON.readTree(file.toFile());
          if ("event".equals(schema.path("x-interlock-kind").asText("event"))) {
            payloads.put(schema.path("x-interlock-type").asText(), factory.getSchema(schema));
          }
        }
      }
      return new Contract(envelope, payloads);
    }

    /** Everything wrong with one event: the wire JSON against the envelope, the SDK's data
     * against the payload schema its type names. */
    List<String> problems(byte[] wire, CloudEvent event) throws IOException {
      List<String> found = new ArrayList<>();
      for (ValidationMessage m : envelope.validate(JSON.readTree(wire))) {
        found.add(m.getMessage());
      }
      JsonSchema payload = payloads.get(event.getType());
      if (payload == null) {
        found.add("type: " + event.getType() + " is not an event type of the contract");
      } else if (event.getData() == null) {
        found.add("data: missing");
      } else {
        String data = new String(event.getData().toBytes(), StandardCharsets.UTF_8);
        for (ValidationMessage m : payload.validate(JSON.readTree(data))) {
          found.add(m.getMessage());
        }
      }
      return found;
    }
  }
}
