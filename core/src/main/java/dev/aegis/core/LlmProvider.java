package dev.aegis.core;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tenant's LLM provider (bring your own key): where AEGIS forwards its agents' model calls, which protocol it
 * speaks there, and the <em>name</em> of the tenant secret holding the API key. The key itself is read from the
 * secrets store at each call and added on the way out; it is never stored here, shown, or put into a sandbox.
 *
 * @param kind      the protocol of {@code baseUrl}
 * @param baseUrl   {@code openai}: the URL that {@code /chat/completions} and {@code /embeddings} hang off, e.g.
 *                  {@code https://api.openai.com/v1}; {@code anthropic}: the URL before {@code /v1/messages}, e.g.
 *                  {@code https://api.anthropic.com}. No trailing slash, user info, query or fragment.
 * @param keySecret the tenant secret holding the key, e.g. {@code OPENAI_API_KEY}
 * @param updatedAt when it was last set
 */
public record LlmProvider(Kind kind, String baseUrl, String keySecret, Instant updatedAt) {
    /** scheme, authority (host with an optional port, user info caught to refuse it), path; query and fragment caught too. */
    private static final Pattern URL = Pattern.compile("(?i)(https?)://([^/?#]*)([^?#]*)(\\?[^#]*)?(#.*)?");
    private static final Pattern PATH = Pattern.compile("[A-Za-z0-9._~!$&'()*+,;=:@%/-]*");
    private static final Pattern AUTHORITY = Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?");

    /** The wire protocol of a provider. */
    public enum Kind {
        /** OpenAI's chat completions and embeddings, as OpenAI, Azure-compatible gateways, vLLM, Ollama, LiteLLM serve them. */
        OPENAI,
        /** Anthropic's Messages API; AEGIS translates requests and answers to and from the OpenAI shape. */
        ANTHROPIC;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Optional<Kind> parse(String s) {
            for (Kind k : values()) if (k.wire().equals(s)) return Optional.of(k);
            return Optional.empty();
        }
    }

    public LlmProvider {
        java.util.Objects.requireNonNull(kind, "kind");
        java.util.Objects.requireNonNull(updatedAt, "updatedAt");
        baseUrl = checkUrl(baseUrl);
        Secrets.checkName(keySecret);
    }

    /** Parses the API's strings; errors name the field. */
    public static LlmProvider of(String kind, String baseUrl, String keySecret, Instant at) {
        Kind k = Kind.parse(kind).orElseThrow(() -> AegisException.invalid("kind", "\"" + kind + "\" is not allowed; use openai or anthropic"));
        try {
            Secrets.checkName(keySecret);
        } catch (AegisException e) {
            throw AegisException.invalid("key_secret", e.getMessage().replaceFirst("^name: ", ""));
        }
        return new LlmProvider(k, baseUrl, keySecret, at);
    }

    /** The host and port requests go to, for audit records (never the path's query or anything secret). */
    public String endpoint() {
        Matcher m = URL.matcher(baseUrl);
        if (!m.matches()) throw new IllegalStateException(baseUrl);
        return m.group(1).toLowerCase(Locale.ROOT) + "://" + m.group(2);
    }

    /** The URL checked and without trailing slashes. A lexical check: core does no I/O, and the gateway resolves it. */
    private static String checkUrl(String u) {
        if (u == null) throw AegisException.invalid("base_url", "is required; use e.g. https://api.openai.com/v1");
        Matcher m = URL.matcher(u);
        String why = !m.matches() || u.chars().anyMatch(c -> c <= ' ' || c == 0x7f) ? "must be an http:// or https:// URL"
                : m.group(2).contains("@") ? "must not hold user info (the key goes in a secret, named by key_secret)"
                : m.group(4) != null || m.group(5) != null ? "must not have a query or fragment"
                : !AUTHORITY.matcher(m.group(2)).matches() ? "has no valid host (a name, an IPv4 address or [IPv6], and an optional :port)"
                : !PATH.matcher(m.group(3)).matches() ? "has characters a URL path cannot hold (escape them as %XX)"
                : null;
        if (why != null) throw AegisException.invalid("base_url", "\"" + u + "\" " + why + "; use e.g. https://api.openai.com/v1");
        String s = u;
        while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        return s;
    }
}
