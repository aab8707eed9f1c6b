-- The task that delegated this one (tasks.delegate on the agent API); NULL for tasks a client submitted.
-- The parent row is never deleted before its children (tasks are kept), so no foreign key is needed to stay whole.
ALTER TABLE tasks ADD COLUMN parent_task TEXT;
CREATE INDEX tasks_parent ON tasks (parent_task);
