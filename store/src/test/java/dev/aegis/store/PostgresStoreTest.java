package dev.aegis.store;

import static org.assertj.core.api.Assertions.fail;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** Runs the contract on the local PostgreSQL in a database of its own, created and dropped here. */
class PostgresStoreTest extends StoreContract {
    private static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/";
    private static final String ADMIN = SERVER + "postgres?user=postgres";
    private static final String NAME = "aegis_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);

    @BeforeAll
    static void createDatabase() {
        sql("CREATE DATABASE " + NAME);
    }

    @AfterAll
    static void dropDatabase() {
        sql("DROP DATABASE IF EXISTS " + NAME + " WITH (FORCE)");
    }

    @Override
    Database open() {
        return Database.open(SERVER + NAME + "?user=postgres");
    }

    // the database lives for the class (runs after the contract's @BeforeEach opened it): start each test empty
    @BeforeEach
    void emptyTables() {
        db.reader().useHandle(h -> h.execute("TRUNCATE agents, tasks, transitions, task_logs, api_keys, secrets"));
    }

    private static void sql(String statement) {
        try (Connection c = DriverManager.getConnection(ADMIN); Statement s = c.createStatement()) {
            s.execute(statement);
        } catch (SQLException e) {
            fail("PostgreSQL is not reachable at 127.0.0.1:5432 as user postgres (" + e.getMessage()
                    + "); start it with: pg_ctlcluster 15 main start", e);
        }
    }
}
