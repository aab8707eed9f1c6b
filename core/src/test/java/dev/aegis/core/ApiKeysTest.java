package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Verified keys are cached, and revocation and expiry still apply to the very next request. */
class ApiKeysTest {
    /** A key store in memory that counts reads. */
    static final class Counting implements KeyStore {
        final Map<String, ApiKey> rows = new ConcurrentHashMap<>();
        final AtomicInteger reads = new AtomicInteger();

        @Override
        public void save(ApiKey key) {
            rows.put(key.id(), key);
        }

        @Override
        public Optional<ApiKey> find(String id) {
            reads.incrementAndGet();
            return Optional.ofNullable(rows.get(id));
        }

        @Override
        public List<ApiKey> list(String tenant) {
            return new ArrayList<>(rows.values().stream().filter(k -> k.tenant().equals(tenant)).toList());
        }

        @Override
        public boolean isEmpty() {
            return rows.isEmpty();
        }
    }

    /** A clock the test moves. */
    static final class Manual extends Clock {
        Instant now = Instant.parse("2026-11-25T10:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void aVerifiedKeyIsNotReadAgainWhileFresh() {
        Counting store = new Counting();
        Manual clock = new Manual();
        ApiKeys keys = new ApiKeys(store, clock);
        String plain = keys.create("acme", "reader").plaintext();
        for (int i = 0; i < 100; i++) assertThat(keys.verify(plain)).isPresent();
        assertThat(store.reads.get()).isEqualTo(1);
        // A wrong secret for a cached id is still refused: the cache holds the row, not the verdict.
        assertThat(keys.verify(plain.substring(0, plain.length() - 1) + (plain.endsWith("0") ? "1" : "0"))).isEmpty();
        clock.now = clock.now.plus(ApiKeys.CACHE_TTL);
        assertThat(keys.verify(plain)).isPresent();
        assertThat(store.reads.get()).isEqualTo(2);
    }

    @Test
    void revocationAndExpiryApplyToTheNextRequestDespiteTheCache() {
        Counting store = new Counting();
        Manual clock = new Manual();
        ApiKeys keys = new ApiKeys(store, clock);
        ApiKeys.Minted k = keys.create("acme", "admin");
        assertThat(keys.verify(k.plaintext())).isPresent();
        keys.revoke("acme", k.key().id());
        assertThat(keys.verify(k.plaintext())).isEmpty();

        ApiKeys.Minted brief = keys.create("acme", "runner", Optional.of(Duration.ofMillis(500)));
        assertThat(keys.verify(brief.plaintext())).isPresent();
        clock.now = clock.now.plusMillis(500);
        assertThat(keys.verify(brief.plaintext())).as("expired while cached").isEmpty();

        // Revoked behind this object's back (another node, same store): seen once the cached row is a TTL old.
        ApiKeys.Minted other = keys.create("acme", "reader");
        assertThat(keys.verify(other.plaintext())).isPresent();
        store.save(store.rows.get(other.key().id()).revoked(clock.instant()));
        clock.now = clock.now.plus(ApiKeys.CACHE_TTL);
        assertThat(keys.verify(other.plaintext())).isEmpty();
    }

    @Test
    void onlyTheExactKeyShapePasses() {
        String good = ApiKeys.PREFIX + "0123456789ab_" + "0123456789abcdef".repeat(4);
        assertThat(ApiKeys.shaped(good)).isTrue();
        for (String bad : List.of("", ApiKeys.PREFIX, good + "0", good.substring(1), good.replace("aeg_live_", "aeg_test_"),
                good.toUpperCase(), good.replace("ab_", "abx"), good.replace("_0123", "_g123"), good.substring(0, good.length() - 1) + "g",
                good.replace("9ab_0", "9a_b0")))
            assertThat(ApiKeys.shaped(bad)).as(bad).isFalse();
    }
}
