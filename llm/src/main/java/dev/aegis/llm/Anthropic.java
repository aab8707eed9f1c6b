package dev.aegis.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.LlmUpstream;
import java.util.Set;

/**
 * Anthropic's Messages API in the OpenAI shape: requests are translated on the way out, answers and stream events on
 * the way back, so agents speak one protocol whatever their tenant configured. Text and images translate; tool calls
 * do not yet, and a request using them is refused naming the field rather than sent half-translated.
 */
final class Anthropic {
    static final String VERSION = "2023-06-01";
    /** Anthropic requires max_tokens; this is what a request that sets none gets. */
    static final int DEFAULT_MAX_TOKENS = 4096;
    private static final Set<String> TRANSLATED = Set.of("model", "messages", "max_tokens", "max_completion_tokens", "temperature",
            "top_p", "stop", "stream", "stream_options", "user", "n", "metadata");
    private static final ObjectMapper JSON = new ObjectMapper();

    private Anthropic() {}

    /** The Messages request for an OpenAI chat request. */
    static ObjectNode request(ObjectNode openai) {
        for (String field : (Iterable<String>) openai::fieldNames)
            if (!TRANSLATED.contains(field))
                throw AegisException.invalid(field, "is not translated for an anthropic provider; supported: " + String.join(", ",
                        new java.util.TreeSet<>(TRANSLATED)));
        if (openai.has("n") && openai.get("n").asInt(1) != 1) throw AegisException.invalid("n", "an anthropic provider gives one choice; use 1");
        ObjectNode out = JSON.createObjectNode();
        out.set("model", openai.get("model"));
        JsonNode max = openai.has("max_completion_tokens") ? openai.get("max_completion_tokens") : openai.get("max_tokens");
        out.put("max_tokens", max != null && max.canConvertToLong() ? max.asLong() : DEFAULT_MAX_TOKENS);
        StringBuilder system = new StringBuilder();
        ArrayNode messages = out.putArray("messages");
        JsonNode in = openai.path("messages");
        for (int i = 0; i < in.size(); i++) {
            JsonNode m = in.get(i);
            String role = m.path("role").asText();
            String at = "messages[" + i + "]";
            if (m.has("tool_calls") || m.has("tool_call_id"))
                throw AegisException.invalid(at, "tool calls are not translated for an anthropic provider yet");
            switch (role) {
                case "system", "developer" -> system.append(system.isEmpty() ? "" : "\n\n").append(text(m.path("content"), at));
                case "user", "assistant" -> messages.addObject().put("role", role).set("content", content(m.path("content"), at));
                default -> throw AegisException.invalid(at + ".role", "\"" + role + "\" is not translated for an anthropic provider; "
                        + "use system, developer, user or assistant");
            }
        }
        if (!system.isEmpty()) out.put("system", system.toString());
        if (openai.has("temperature")) out.set("temperature", openai.get("temperature"));
        if (openai.has("top_p")) out.set("top_p", openai.get("top_p"));
        JsonNode stop = openai.get("stop");
        if (stop != null && !stop.isNull()) {
            ArrayNode seq = out.putArray("stop_sequences");
            if (stop.isArray()) stop.forEach(seq::add);
            else seq.add(stop.asText());
        }
        if (openai.path("user").isTextual()) out.putObject("metadata").put("user_id", openai.get("user").asText());
        if (openai.path("stream").asBoolean(false)) out.put("stream", true);
        return out;
    }

    /** The OpenAI {@code chat.completion} for a Messages answer. */
    static ObjectNode response(JsonNode msg) {
        StringBuilder text = new StringBuilder();
        for (JsonNode block : msg.path("content")) if (block.path("type").asText().equals("text")) text.append(block.path("text").asText());
        ObjectNode out = JSON.createObjectNode();
        out.put("id", msg.path("id").asText("msg"));
        out.put("object", "chat.completion");
        out.put("created", System.currentTimeMillis() / 1000);
        out.put("model", msg.path("model").asText());
        ObjectNode choice = out.putArray("choices").addObject();
        choice.put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", text.toString());
        choice.put("finish_reason", finish(msg.path("stop_reason").asText("end_turn")));
        choice.putNull("logprobs");
        out.set("usage", usage(msg.path("usage")));
        return out;
    }

    /**
     * Turns the Messages stream's events into OpenAI chunks: a role chunk at {@code message_start}, a content chunk
     * per text delta, a finish chunk and a usage chunk at {@code message_stop}.
     */
    static final class Stream {
        private final LlmUpstream.Chunks out;
        private String id = "msg";
        private String model = "";
        private final ObjectNode usage = JSON.createObjectNode();
        private String stopReason = "end_turn";
        private boolean stopped;

        Stream(LlmUpstream.Chunks out) {
            this.out = out;
        }

        /** Whether {@code message_stop} has come: nothing more is expected. */
        boolean stopped() {
            return stopped;
        }

        void event(String name, JsonNode data) {
            String type = data.path("type").asText(name);
            switch (type) {
                case "message_start" -> {
                    JsonNode m = data.path("message");
                    id = m.path("id").asText(id);
                    model = m.path("model").asText(model);
                    if (m.path("usage").isObject()) usage.setAll((ObjectNode) m.get("usage").deepCopy());
                    ObjectNode c = chunk();
                    c.withArray("choices").addObject().put("index", 0).putNull("finish_reason")
                            .putObject("delta").put("role", "assistant").put("content", "");
                    out.chunk(c);
                }
                case "content_block_delta" -> {
                    JsonNode d = data.path("delta");
                    if (d.path("type").asText().equals("text_delta")) {
                        ObjectNode c = chunk();
                        c.withArray("choices").addObject().put("index", 0).putNull("finish_reason")
                                .putObject("delta").put("content", d.path("text").asText());
                        out.chunk(c);
                    }
                }
                case "message_delta" -> {
                    stopReason = data.path("delta").path("stop_reason").asText(stopReason);
                    if (data.path("usage").isObject()) usage.setAll((ObjectNode) data.get("usage").deepCopy());
                }
                case "message_stop" -> {
                    stopped = true;
                    ObjectNode c = chunk();
                    c.withArray("choices").addObject().put("index", 0).put("finish_reason", finish(stopReason)).putObject("delta");
                    out.chunk(c);
                    ObjectNode u = chunk();
                    u.putArray("choices");
                    u.set("usage", usage(usage));
                    out.chunk(u);
                }
                case "error" -> throw new AegisException("llm_upstream_error", "the LLM provider (anthropic) failed mid-stream: "
                        + data.path("error").path("type").asText("error") + ": " + data.path("error").path("message").asText(""));
                default -> { } // ping, content_block_start, content_block_stop
            }
        }

        private ObjectNode chunk() {
            ObjectNode c = JSON.createObjectNode();
            c.put("id", id);
            c.put("object", "chat.completion.chunk");
            c.put("created", System.currentTimeMillis() / 1000);
            c.put("model", model);
            return c;
        }
    }

    private static ObjectNode usage(JsonNode u) {
        long prompt = u.path("input_tokens").asLong() + u.path("cache_creation_input_tokens").asLong()
                + u.path("cache_read_input_tokens").asLong();
        long completion = u.path("output_tokens").asLong();
        return JSON.createObjectNode().put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
    }

    private static String finish(String stopReason) {
        return switch (stopReason) {
            case "max_tokens" -> "length";
            case "tool_use" -> "tool_calls";
            case "refusal" -> "content_filter";
            default -> "stop";
        };
    }

    private static String text(JsonNode content, String at) {
        if (content.isTextual()) return content.asText();
        StringBuilder b = new StringBuilder();
        for (JsonNode part : content) {
            if (!part.path("type").asText().equals("text")) throw AegisException.invalid(at + ".content", "a system message holds text only");
            b.append(part.path("text").asText());
        }
        return b.toString();
    }

    /** OpenAI content (a string, or text and image_url parts) as Anthropic content blocks. */
    private static JsonNode content(JsonNode content, String at) {
        if (content.isTextual()) return content;
        if (!content.isArray()) throw AegisException.invalid(at + ".content", "must be a string or an array of parts");
        ArrayNode blocks = JSON.createArrayNode();
        for (JsonNode part : content) {
            switch (part.path("type").asText()) {
                case "text" -> blocks.addObject().put("type", "text").put("text", part.path("text").asText());
                case "image_url" -> {
                    String url = part.path("image_url").path("url").asText();
                    ObjectNode source = blocks.addObject().put("type", "image").putObject("source");
                    int comma = url.indexOf(',');
                    if (url.startsWith("data:") && comma > 0 && url.substring(0, comma).endsWith(";base64"))
                        source.put("type", "base64").put("media_type", url.substring(5, url.indexOf(';')))
                                .put("data", url.substring(comma + 1));
                    else source.put("type", "url").put("url", url);
                }
                default -> throw AegisException.invalid(at + ".content", "part type \"" + part.path("type").asText()
                        + "\" is not translated for an anthropic provider; use text or image_url");
            }
        }
        return blocks;
    }
}
