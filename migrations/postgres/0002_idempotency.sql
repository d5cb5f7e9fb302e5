-- Answers to POST requests that carried an Idempotency-Key, kept 24 hours, so a
-- retried request gets the same answer and writes nothing twice. A row with no
-- status is a request still in flight.
CREATE TABLE idempotency_keys
(
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       smallint,
    location     text,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
