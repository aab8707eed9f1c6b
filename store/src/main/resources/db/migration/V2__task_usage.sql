-- What a task's instance used, when its runtime meters it (NULL otherwise). Durations in nanoseconds, memory in bytes.
ALTER TABLE tasks ADD COLUMN usage_uptime_ns BIGINT;
ALTER TABLE tasks ADD COLUMN usage_cpu_ns BIGINT;
ALTER TABLE tasks ADD COLUMN usage_memory_peak BIGINT;
