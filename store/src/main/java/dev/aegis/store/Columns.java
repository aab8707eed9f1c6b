package dev.aegis.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/** How values become columns and back, the same way on SQLite and PostgreSQL. */
final class Columns {
    private static final long NANOS = 1_000_000_000L;

    private Columns() {}

    /** Nanoseconds since the epoch: exact for the JDK clock, an integer on both databases. */
    static long nanos(Instant at) {
        try {
            return Math.addExact(Math.multiplyExact(at.getEpochSecond(), NANOS), at.getNano());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("timestamp " + at + " is outside what the store keeps (years 1678 to 2262)");
        }
    }

    static Long nanos(Optional<Instant> at) {
        return at.map(Columns::nanos).orElse(null);
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        long n = rs.getLong(column);
        return Instant.ofEpochSecond(Math.floorDiv(n, NANOS), Math.floorMod(n, NANOS));
    }

    static Optional<Instant> optionalInstant(ResultSet rs, String column) throws SQLException {
        Instant at = instant(rs, column);
        return rs.wasNull() ? Optional.empty() : Optional.of(at);
    }

    static Optional<String> optionalString(ResultSet rs, String column) throws SQLException {
        return Optional.ofNullable(rs.getString(column));
    }

    static Optional<Integer> optionalInt(ResultSet rs, String column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(v);
    }

    /** Whether an insert failed because the primary key is taken: SQLSTATE 23505 on PostgreSQL, a result code on SQLite. */
    static boolean isDuplicateKey(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLiteException s && (s.getResultCode() == SQLiteErrorCode.SQLITE_CONSTRAINT_PRIMARYKEY
                    || s.getResultCode() == SQLiteErrorCode.SQLITE_CONSTRAINT_UNIQUE)) return true;
            if (t instanceof SQLException s && "23505".equals(s.getSQLState())) return true;
        }
        return false;
    }
}
