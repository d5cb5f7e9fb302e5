-- Messages a consumer (the relay, the order saga, a projector) could not
-- handle because of the message itself, parked with their error and retried
-- on a long backoff. A letter with an aggregate is held behind any letter of
-- the same consumer and aggregate with a lower sequence, so per-aggregate
-- order holds when they are driven again.
CREATE TABLE dead_letters
(
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer        text        NOT NULL,
    -- The message's id (`{aggregate_type}:{aggregate_id}:{sequence}`), unique
    -- per consumer, so parking the same message twice keeps one letter.
    message_key     text        NOT NULL,
    subject         text        NOT NULL,
    aggregate       text,
    sequence        bigint,
    headers         jsonb       NOT NULL,
    payload         bytea       NOT NULL,
    error           text        NOT NULL,
    attempts        integer     NOT NULL,
    parked_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL,
    UNIQUE (consumer, message_key)
);
CREATE INDEX dead_letters_due ON dead_letters (consumer, next_attempt_at);
CREATE INDEX dead_letters_aggregate ON dead_letters (consumer, aggregate, sequence);
