// A real Java Kafka producer for the estate tests: length-prefixed LXE1 frames (lux gen --out) to a topic with a chosen compression.type, idempotent, in its own transactions, some aborted on purpose, keys sometimes null or not numbers, with record headers.
//
// Compiled at test time against the assembled kafka-clients jar (test/estate/java-producer.ts). Arguments, all required:
//   --bootstrap HOST:PORT --topic T --in FILE --compression none|gzip|snappy|lz4|zstd --transactional-id ID
//   --frames-per-transaction N --abort-every K (every K-th transaction is aborted; 0 = none) --manifest FILE
// The manifest has one line per frame, in input order: `<index>\t<commit|abort>\t<key or \N>`.
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.BufferedInputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class FrameProducer {
    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) throw new IllegalArgumentException("expected --name value, got " + argv[i]);
            args.put(argv[i].substring(2), argv[i + 1]);
        }
        for (String required : new String[] {"bootstrap", "topic", "in", "compression", "transactional-id", "frames-per-transaction", "abort-every", "manifest"}) {
            if (!args.containsKey(required)) throw new IllegalArgumentException("missing --" + required);
        }
        List<byte[]> frames = readFrames(args.get("in"));
        int perTransaction = Integer.parseInt(args.get("frames-per-transaction"));
        int abortEvery = Integer.parseInt(args.get("abort-every"));
        String topic = args.get("topic");

        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, args.get("compression"));
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, args.get("transactional-id"));
        // Batches of many records, so the broker stores real compressed batches, as a busy collector would.
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "lux-estate-java-producer");

        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
             PrintWriter manifest = new PrintWriter(args.get("manifest"), StandardCharsets.UTF_8)) {
            producer.initTransactions();
            int transaction = 0;
            for (int start = 0; start < frames.size(); start += perTransaction, transaction++) {
                boolean abort = abortEvery > 0 && transaction % abortEvery == abortEvery - 1;
                producer.beginTransaction();
                int end = Math.min(frames.size(), start + perTransaction);
                for (int i = start; i < end; i++) {
                    byte[] frame = frames.get(i);
                    String key = keyFor(i, frame);
                    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, null, key, frame);
                    record.headers().add("collector", "java-estate-test".getBytes(StandardCharsets.UTF_8));
                    record.headers().add("frame-index", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                    producer.send(record);
                    manifest.printf("%d\t%s\t%s%n", i, abort ? "abort" : "commit", key == null ? "\\N" : key);
                }
                if (abort) {
                    // Into the log first, so the abort marker hides records a read_uncommitted reader would see.
                    producer.flush();
                    producer.abortTransaction();
                } else {
                    producer.commitTransaction();
                }
            }
        }
    }

    /** Most keys are the frame's equipment id in decimal, as collectors write them; every 5th is null, every 7th not a number. */
    static String keyFor(int index, byte[] frame) {
        if (index % 5 == 3) return null;
        if (index % 7 == 5) return "collector-7:eq-" + index;
        if (frame.length < 12) return "short-" + index;
        return Long.toString(ByteBuffer.wrap(frame, 8, 4).getInt() & 0xffffffffL);
    }

    static List<byte[]> readFrames(String file) throws Exception {
        List<byte[]> frames = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(file)))) {
            for (;;) {
                int len;
                try {
                    len = in.readInt();
                } catch (EOFException end) {
                    return frames;
                }
                byte[] frame = new byte[len];
                in.readFully(frame);
                frames.add(frame);
            }
        }
    }
}
