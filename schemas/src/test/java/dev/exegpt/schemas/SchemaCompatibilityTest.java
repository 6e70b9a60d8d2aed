package dev.exegpt.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Every top-level schema must stay backward compatible with the copy committed under {@code schemas/compat/}: a
 * reader on the current schema must read data written with the committed one, so that records already on a topic
 * (or in a results file) stay readable after an upgrade. An incompatible change fails the build.
 *
 * <p>After a deliberate, compatible change, refresh the committed copies with
 * {@code mvn -pl schemas test -Dexegpt.schemas.updateCompat=true} and commit them with the change.
 */
class SchemaCompatibilityTest {

    /** The records that cross a process boundary (DESIGN.md §4); nested types are covered through them. */
    static List<Schema> topLevelSchemas() {
        return List.of(InferenceRequest.getClassSchema(), InferenceResult.getClassSchema(), ExecutorSteps.getClassSchema(),
                RequestLatency.getClassSchema(), DeadLetter.getClassSchema(), Schedule.getClassSchema(),
                Profile.getClassSchema(), AuditWindow.getClassSchema());
    }

    private static Path compatDir() {
        String dir = System.getProperty("exegpt.schemas.compatDir", "compat");
        return Path.of(dir);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("topLevelSchemas")
    void shouldReadDataWrittenWithTheCommittedSchema(Schema current) throws IOException {
        Path committed = compatDir().resolve(current.getName() + ".avsc");
        if (Boolean.getBoolean("exegpt.schemas.updateCompat")) {
            Files.createDirectories(committed.getParent());
            Files.writeString(committed, current.toString(true) + "\n");
        }
        if (!Files.exists(committed)) {
            fail("No committed copy of " + current.getName() + " at " + committed.toAbsolutePath()
                    + ": run mvn -pl schemas test -Dexegpt.schemas.updateCompat=true and commit schemas/compat/");
        }
        Schema writer = new Schema.Parser().parse(committed.toFile());
        SchemaPairCompatibility result = SchemaCompatibility.checkReaderWriterCompatibility(current, writer);
        assertEquals(SchemaCompatibilityType.COMPATIBLE, result.getType(),
                () -> current.getName() + " can no longer read data written with " + committed + ": "
                        + result.getResult().getIncompatibilities());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("topLevelSchemas")
    void shouldDocumentEveryFieldAndDefaultEveryOptionalOne(Schema schema) {
        checkFields(schema);
    }

    private static void checkFields(Schema record) {
        assertNotNull(record.getDoc(), () -> record.getFullName() + " has no doc");
        for (Schema.Field field : record.getFields()) {
            String where = record.getName() + "." + field.name();
            assertTrue(field.doc() != null && !field.doc().isBlank(), () -> where + " has no doc string");
            Schema type = field.schema();
            if (type.isNullable()) {
                assertTrue(field.hasDefaultValue(), () -> where + " is optional (nullable) but has no default");
            }
            Stream.concat(Stream.of(type), type.isUnion() ? type.getTypes().stream() : Stream.empty())
                    .map(s -> s.getType() == Schema.Type.ARRAY ? s.getElementType() : s)
                    .filter(s -> s.getType() == Schema.Type.RECORD)
                    .forEach(SchemaCompatibilityTest::checkFields);
        }
    }

    @Test
    void committedCopiesShouldNameOnlyExistingSchemas() throws IOException {
        List<String> known = topLevelSchemas().stream().map(Schema::getName).toList();
        try (Stream<Path> files = Files.list(compatDir())) {
            files.map(p -> p.getFileName().toString().replace(".avsc", ""))
                    .forEach(name -> assertTrue(known.contains(name),
                            () -> "schemas/compat/" + name + ".avsc has no schema in this test's list"));
        }
    }
}
