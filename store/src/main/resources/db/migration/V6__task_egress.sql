-- Bytes a task's instance sent and received through the egress proxy (both ways); NULL for tasks before this column.
ALTER TABLE tasks ADD COLUMN usage_egress_bytes BIGINT;
