package dev.aegis.core;

import java.net.URI;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

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
public record LlmProvider(Kind kind, URI baseUrl, String keySecret, Instant updatedAt) {
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
        URI u;
        try {
            u = new URI(baseUrl);
        } catch (java.net.URISyntaxException | NullPointerException e) {
            throw AegisException.invalid("base_url", "\"" + baseUrl + "\" is not a URL; use e.g. https://api.openai.com/v1");
        }
        try {
            Secrets.checkName(keySecret);
        } catch (AegisException e) {
            throw AegisException.invalid("key_secret", e.getMessage().replaceFirst("^name: ", ""));
        }
        return new LlmProvider(k, u, keySecret, at);
    }

    /** The host and port requests go to, for audit records (never the path's query or anything secret). */
    public String endpoint() {
        return baseUrl.getScheme() + "://" + baseUrl.getAuthority();
    }

    private static URI checkUrl(URI u) {
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        String why = !u.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) ? "must be an http:// or https:// URL"
                : u.getHost() == null ? "has no host"
                : u.getRawUserInfo() != null ? "must not hold user info (the key goes in a secret, named by key_secret)"
                : u.getRawQuery() != null || u.getRawFragment() != null ? "must not have a query or fragment"
                : null;
        if (why != null) throw AegisException.invalid("base_url", "\"" + u + "\" " + why + "; use e.g. https://api.openai.com/v1");
        String s = u.toString();
        while (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        return URI.create(s);
    }
}
