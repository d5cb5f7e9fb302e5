-- The order saga's persisted deadlines: a step that waits for an answer (the
-- payment gateway's) and must give up at `due_at`, across restarts.
CREATE TABLE saga_deadlines
(
    order_id uuid        NOT NULL,
    step     text        NOT NULL,
    due_at   timestamptz NOT NULL,
    -- Correlation and causation of the event that started the wait.
    metadata jsonb       NOT NULL,
    PRIMARY KEY (order_id, step)
);
CREATE INDEX saga_deadlines_due_at ON saga_deadlines (due_at);
