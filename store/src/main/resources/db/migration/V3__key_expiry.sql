-- When an API key stops working (NULL: never); nanoseconds since 1970 like every other time here.
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
