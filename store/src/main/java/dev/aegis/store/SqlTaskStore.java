package dev.aegis.store;

import dev.aegis.core.AegisException;
import dev.aegis.core.BoundedCache;
import dev.aegis.core.InstanceState;
import dev.aegis.core.LogLine;
import dev.aegis.core.Task;
import dev.aegis.core.TaskState;
import dev.aegis.core.TaskStore;
import dev.aegis.core.Transition;
import dev.aegis.core.Usage;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.jdbi.v3.core.statement.SqlStatement;
import org.jdbi.v3.core.statement.StatementException;

/** {@link TaskStore} in tables {@code tasks}, {@code transitions} and {@code task_logs}. */
final class SqlTaskStore implements TaskStore {
    private static final List<String> UNFINISHED =
            Arrays.stream(TaskState.values()).filter(s -> !s.isFinal()).map(Enum::name).toList();

    private final Jdbi write;
    private final Jdbi read;
    /** Ended tasks read through {@link #detailed}, by id: at most 10,000 and 32 Mi characters of input and result. */
    private final BoundedCache<String, Detailed> finished = new BoundedCache<>(10_000, 32L << 20, 256L << 10);

    SqlTaskStore(Jdbi write, Jdbi read) {
        this.write = write;
        this.read = read;
    }

    @Override
    public void create(Task task) {
        write.useHandle(h -> insert(h, task));
    }

    @Override
    public void update(Task task) {
        finished.remove(task.id());
        write.useHandle(h -> update(h, task));
    }

    @Override
    public void record(Task task, boolean insert, List<Transition> transitions, List<LogLine> logs) {
        finished.remove(task.id());
        for (Transition t : transitions) finished.remove(t.taskId());
        for (int attempt = 1; ; attempt++) {
            try {
                write.useTransaction(h -> {
                    if (insert) insert(h, task);
                    else update(h, task);
                    for (Transition t : transitions) insertTransition(h, t);
                    insertLogs(h, logs);
                });
                return;
            } catch (StatementException e) {
                // A raced transition seq on PostgreSQL (a duplicate task id is a conflict, thrown by insert()):
                // the whole transaction rolled back, so retrying is safe.
                if (attempt == 3 || !Columns.isDuplicateKey(e)) throw e;
            }
        }
    }

    private static void insert(Handle h, Task task) {
        try {
            bindTask(h.createUpdate("""
                    INSERT INTO tasks (id, tenant, agent, input, state, result, error_code, error_message,
                                       exit_code, created_at, started_at, finished_at,
                                       usage_uptime_ns, usage_cpu_ns, usage_memory_peak, usage_egress_bytes, parent_task)
                    VALUES (:id, :tenant, :agent, :input, :state, :result, :errorCode, :errorMessage,
                            :exitCode, :created, :started, :finished, :uptime, :cpu, :memoryPeak, :egress, :parent)"""), task)
                    .bind("parent", task.parent().orElse(null)).execute();
        } catch (StatementException e) {
            if (Columns.isDuplicateKey(e)) throw AegisException.conflict("task \"" + task.id() + "\" already exists");
            throw e;
        }
    }

    private static void update(Handle h, Task task) {
        int rows = bindTask(h.createUpdate("""
                UPDATE tasks SET tenant = :tenant, agent = :agent, input = :input, state = :state, result = :result,
                    error_code = :errorCode, error_message = :errorMessage, exit_code = :exitCode,
                    created_at = :created, started_at = :started, finished_at = :finished,
                    usage_uptime_ns = :uptime, usage_cpu_ns = :cpu, usage_memory_peak = :memoryPeak,
                    usage_egress_bytes = :egress
                WHERE id = :id"""), task).execute();
        if (rows == 0) throw AegisException.notFound("task \"" + task.id() + "\" does not exist");
    }

    private static <S extends SqlStatement<S>> S bindTask(S s, Task t) {
        return s.bind("id", t.id())
                .bind("tenant", t.tenant())
                .bind("agent", t.agent())
                .bind("input", t.input())
                .bind("state", t.state().name())
                .bind("result", t.result().orElse(null))
                .bind("errorCode", t.error().map(Task.TaskError::code).orElse(null))
                .bind("errorMessage", t.error().map(Task.TaskError::message).orElse(null))
                .bind("exitCode", t.exitCode().orElse(null))
                .bind("created", Columns.nanos(t.createdAt()))
                .bind("started", Columns.nanos(t.startedAt()))
                .bind("finished", Columns.nanos(t.finishedAt()))
                .bind("uptime", t.usage().map(u -> u.uptime().toNanos()).orElse(null))
                .bind("cpu", t.usage().map(u -> u.cpu().toNanos()).orElse(null))
                .bind("memoryPeak", t.usage().map(Usage::memoryPeakBytes).orElse(null))
                .bind("egress", t.usage().map(Usage::egressBytes).orElse(null));
    }

    @Override
    public Optional<Task> find(String id) {
        return read.withHandle(h -> h.createQuery("SELECT * FROM tasks WHERE id = :id")
                .bind("id", id).map((rs, ctx) -> task(rs)).findOne());
    }

    @Override
    public List<Task> list(String tenant, int limit) {
        if (limit < 0) throw new IllegalArgumentException("limit: " + limit + " must be 0 or more");
        return read.withHandle(h -> h.createQuery("""
                        SELECT * FROM tasks WHERE tenant = :tenant ORDER BY created_at DESC, id DESC LIMIT :limit""")
                .bind("tenant", tenant).bind("limit", limit).map((rs, ctx) -> task(rs)).list());
    }

    @Override
    public List<Task> children(String parentId) {
        return read.withHandle(h -> h.createQuery("SELECT * FROM tasks WHERE parent_task = :parent ORDER BY created_at, id")
                .bind("parent", parentId).map((rs, ctx) -> task(rs)).list());
    }

    @Override
    public List<Task> unfinished() {
        return read.withHandle(h -> h.createQuery("SELECT * FROM tasks WHERE state IN (<states>) ORDER BY created_at, id")
                .bindList("states", UNFINISHED).map((rs, ctx) -> task(rs)).list());
    }

    /**
     * Summed in Java, task by task: memory-MiB-seconds multiply two large numbers, which could overflow a BIGINT
     * in SQL. Wall time is from acceptance to the end (what the tenant waited for).
     */
    @Override
    public List<Metered> usage(String tenant, java.time.Instant from, java.time.Instant to) {
        java.util.Map<String, double[]> sums = new java.util.TreeMap<>();
        java.util.Map<String, long[]> egress = new java.util.HashMap<>();
        read.useHandle(h -> h.createQuery("""
                        SELECT agent, state, created_at, finished_at, usage_uptime_ns, usage_cpu_ns, usage_memory_peak,
                               usage_egress_bytes
                        FROM tasks WHERE tenant = :tenant AND finished_at >= :from AND finished_at < :to""")
                .bind("tenant", tenant).bind("from", Columns.nanos(from)).bind("to", Columns.nanos(to))
                .map((rs, ctx) -> {
                    double[] a = sums.computeIfAbsent(rs.getString("agent"), k -> new double[5]);
                    a[0]++;
                    if (!rs.getString("state").equals("SUCCEEDED")) a[1]++;
                    a[2] += rs.getLong("usage_cpu_ns") / 1e9;
                    a[3] += rs.getLong("usage_memory_peak") / 1048576.0 * (rs.getLong("usage_uptime_ns") / 1e9);
                    a[4] += (rs.getLong("finished_at") - rs.getLong("created_at")) / 1e9;
                    egress.computeIfAbsent(rs.getString("agent"), k -> new long[1])[0] += rs.getLong("usage_egress_bytes");
                    return 0;
                }).list());
        return sums.entrySet().stream().map(e -> new Metered(e.getKey(), (long) e.getValue()[0], (long) e.getValue()[1],
                e.getValue()[2], e.getValue()[3], e.getValue()[4], egress.get(e.getKey())[0])).toList();
    }

    private static Task task(ResultSet rs) throws SQLException {
        String errorCode = rs.getString("error_code");
        Optional<Task.TaskError> error = errorCode == null ? Optional.empty()
                : Optional.of(new Task.TaskError(errorCode, rs.getString("error_message")));
        return new Task(rs.getString("id"), rs.getString("tenant"), rs.getString("agent"), rs.getString("input"),
                TaskState.valueOf(rs.getString("state")), Columns.optionalString(rs, "result"), error,
                Columns.optionalInt(rs, "exit_code"), Columns.instant(rs, "created_at"),
                Columns.optionalInstant(rs, "started_at"), Columns.optionalInstant(rs, "finished_at"), usage(rs),
                Columns.optionalString(rs, "parent_task"));
    }

    private static Optional<Usage> usage(ResultSet rs) throws SQLException {
        long cpu = rs.getLong("usage_cpu_ns");
        if (rs.wasNull()) return Optional.empty();
        return Optional.of(new Usage(Duration.ofNanos(rs.getLong("usage_uptime_ns")), Duration.ofNanos(cpu),
                rs.getLong("usage_memory_peak"), rs.getLong("usage_egress_bytes")));
    }

    /**
     * The step's seq is computed inside the INSERT, so the order of calls is the order kept. Two writers adding
     * steps to one task at once may compute the same seq on PostgreSQL (SQLite has one writer); the loser retries.
     */
    @Override
    public void addTransition(Transition t) {
        finished.remove(t.taskId());
        for (int attempt = 1; ; attempt++) {
            try {
                insertTransition(t);
                return;
            } catch (StatementException e) {
                if (attempt == 3 || !Columns.isDuplicateKey(e)) throw e;
            }
        }
    }

    private void insertTransition(Transition t) {
        write.useHandle(h -> insertTransition(h, t));
    }

    private static void insertTransition(Handle h, Transition t) {
        h.createUpdate("""
                        INSERT INTO transitions (task_id, seq, instance_id, from_state, to_state, at, reason)
                        SELECT :task, COALESCE(MAX(seq), 0) + 1, :instance, :from, :to, :at, :reason
                        FROM transitions WHERE task_id = :task""")
                .bind("task", t.taskId())
                .bind("instance", t.instanceId())
                .bind("from", t.from().map(Enum::name).orElse(null))
                .bind("to", t.to().name())
                .bind("at", Columns.nanos(t.at()))
                .bind("reason", t.reason())
                .execute();
    }

    @Override
    public List<Transition> transitions(String taskId) {
        return read.withHandle(h -> transitions(h, taskId));
    }

    /**
     * The API's hottest read (clients poll for results): one connection for both queries, and none at all for a task
     * that has ended, once read. An ended task whose instance has ended too never changes again, so caching it is
     * safe on every node of a cluster; a write to it here drops it anyway.
     */
    @Override
    public Optional<Detailed> detailed(String id) {
        Detailed cached = finished.get(id);
        if (cached != null) return Optional.of(cached);
        Optional<Detailed> d = read.withHandle(h -> h.createQuery("SELECT * FROM tasks WHERE id = :id").bind("id", id)
                .map((rs, ctx) -> task(rs)).findOne().map(t -> new Detailed(t, transitions(h, id))));
        d.filter(SqlTaskStore::settled).ifPresent(x -> finished.put(id, x, x.task().input().length()
                + x.task().result().map(String::length).orElse(0) + 200L * (1 + x.transitions().size())));
        return d;
    }

    /** Ended, and so is its last instance (a task may end a moment before its sandbox's last step is written). */
    private static boolean settled(Detailed d) {
        return d.task().state().isFinal() && (d.transitions().isEmpty() || d.transitions().getLast().to().isFinal());
    }

    private static List<Transition> transitions(org.jdbi.v3.core.Handle h, String taskId) {
        return h.createQuery("SELECT * FROM transitions WHERE task_id = :task ORDER BY seq")
                .bind("task", taskId)
                .map((rs, ctx) -> new Transition(rs.getString("task_id"), rs.getString("instance_id"),
                        Columns.optionalString(rs, "from_state").map(InstanceState::valueOf),
                        InstanceState.valueOf(rs.getString("to_state")), Columns.instant(rs, "at"),
                        rs.getString("reason")))
                .list();
    }

    /** One transaction for the batch; a line already stored (same task and seq) is kept, so a retry is harmless. */
    @Override
    public void appendLogs(List<LogLine> lines) {
        if (lines.isEmpty()) return;
        write.useTransaction(h -> insertLogs(h, lines));
    }

    private static void insertLogs(Handle h, List<LogLine> lines) {
        if (lines.isEmpty()) return;
        PreparedBatch batch = h.prepareBatch("""
                INSERT INTO task_logs (task_id, seq, at, line) VALUES (:task, :seq, :at, :line)
                ON CONFLICT (task_id, seq) DO NOTHING""");
        for (LogLine l : lines)
            batch.bind("task", l.taskId()).bind("seq", l.seq()).bind("at", Columns.nanos(l.at()))
                    .bind("line", l.line()).add();
        batch.execute();
    }

    @Override
    public List<LogLine> logs(String taskId, long afterSeq) {
        return read.withHandle(h -> h.createQuery(
                        "SELECT * FROM task_logs WHERE task_id = :task AND seq > :after ORDER BY seq")
                .bind("task", taskId).bind("after", afterSeq)
                .map((rs, ctx) -> new LogLine(rs.getString("task_id"), rs.getLong("seq"), Columns.instant(rs, "at"),
                        rs.getString("line")))
                .list());
    }
}
