package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A provider's fields are checked where they enter, each error naming its field; URLs lexically (core does no I/O). */
class LlmProviderTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            https://api.openai.com/v1         | https://api.openai.com/v1 | https://api.openai.com
            https://api.anthropic.com/        | https://api.anthropic.com | https://api.anthropic.com
            http://127.0.0.1:8089/v1//        | http://127.0.0.1:8089/v1  | http://127.0.0.1:8089
            http://[::1]:8089/v1              | http://[::1]:8089/v1      | http://[::1]:8089
            HTTPS://Example.com/openai/v1     | HTTPS://Example.com/openai/v1 | https://Example.com
            """)
    void goodUrlsAreKeptWithoutTrailingSlashes(String given, String kept, String endpoint) {
        LlmProvider p = LlmProvider.of("openai", given, "OPENAI_API_KEY", Instant.EPOCH);
        assertThat(p.baseUrl()).isEqualTo(kept);
        assertThat(p.endpoint()).isEqualTo(endpoint);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            ftp://x.example/v1                | must be an http:// or https:// URL
            api.openai.com/v1                 | must be an http:// or https:// URL
            https://                          | has no valid host
            https://user:pw@x.example/v1      | must not hold user info
            https://x.example/v1?key=1        | must not have a query or fragment
            https://x.example/v1#top          | must not have a query or fragment
            https://x.example/v 1             | must be an http:// or https:// URL
            https://x.example/{v1}            | has characters a URL path cannot hold
            https://-x.example/v1             | has no valid host
            """)
    void badUrlsAreRefusedNamingTheField(String given, String why) {
        assertThatThrownBy(() -> LlmProvider.of("openai", given, "OPENAI_API_KEY", Instant.EPOCH))
                .isInstanceOfSatisfying(AegisException.class, e -> {
                    assertThat(e.field()).contains("base_url");
                    assertThat(e.getMessage()).contains(why);
                });
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', textBlock = """
            gemini | OPENAI_API_KEY | kind
            openai | openai_key     | key_secret
            openai | AEGIS_TOKEN    | key_secret
            """)
    void badKindsAndSecretNamesAreRefusedNamingTheField(String kind, String secret, String field) {
        assertThatThrownBy(() -> LlmProvider.of(kind, "https://x.example/v1", secret, Instant.EPOCH))
                .isInstanceOfSatisfying(AegisException.class, e -> assertThat(e.field()).contains(field));
    }
}
