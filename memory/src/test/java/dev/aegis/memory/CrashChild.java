package dev.aegis.memory;

import dev.aegis.core.Memory;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Run by CrashDurabilityTest in its own JVM: stores notes until killed, printing each one it got acknowledged. */
public final class CrashChild {
    public static void main(String[] args) {
        Fixtures.Node node = Fixtures.cortex(Path.of(args[0]), Fixtures.defaultModel(), java.time.Clock.systemUTC());
        System.out.println("ready");
        System.out.flush();
        for (int i = 0; ; i++) {
            // A batch of three and a single one in turn: both paths must be durable when they return.
            List<Memory.Note> notes = i % 2 == 0
                    ? List.of(note(i, 0), note(i, 1), note(i, 2))
                    : List.of(note(i, 0));
            List<String> ids = node.cortex().storeAll(notes);
            for (int j = 0; j < ids.size(); j++) System.out.println("ack " + ids.get(j) + " " + notes.get(j).text());
            System.out.flush();
        }
    }

    private static Memory.Note note(int i, int j) {
        return new Memory.Note("acme", "crasher", Optional.empty(), Memory.Kind.NOTE,
                "Crash note " + i + "." + j + ": worker " + (i * 7 + j) % 13 + " processed batch " + i, List.of(), Optional.empty());
    }
}
