-- The event store: postgres-es's events and snapshots tables, plus what the relay
-- needs to publish every committed event exactly once and in order.
CREATE TABLE events
(
    aggregate_type  text                         NOT NULL,
    aggregate_id    text                         NOT NULL,
    sequence        bigint CHECK (sequence >= 0) NOT NULL,
    event_type      text                         NOT NULL,
    event_version   text                         NOT NULL,
    payload         jsonb                        NOT NULL,
    metadata        jsonb                        NOT NULL,
    -- Total order of all events, in the order rows were inserted.
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    -- The inserting transaction: rows are safe to publish once it is below the
    -- oldest running transaction, so a late commit under a lower position is
    -- never skipped.
    transaction_id  xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at     timestamptz                  NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE UNIQUE INDEX events_global_position ON events (global_position);
CREATE INDEX events_relay_order ON events (transaction_id, global_position);

-- One account per e-mail and one seller per user, enforced in the very
-- transaction that writes the event, so two registrations cannot race.
CREATE UNIQUE INDEX users_email_unique ON events ((payload -> 'UserRegistered' ->> 'email'))
    WHERE aggregate_type = 'User' AND event_type = 'UserRegistered';
CREATE UNIQUE INDEX sellers_owner_unique ON events ((payload -> 'SellerCreated' ->> 'userId'))
    WHERE aggregate_type = 'Seller' AND event_type = 'SellerCreated';

CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          jsonb                                NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

-- Wakes the relay as soon as events commit (one notification per statement).
CREATE FUNCTION notify_events_committed() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('atlantic_events', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_committed
    AFTER INSERT ON events
    FOR EACH STATEMENT
EXECUTE FUNCTION notify_events_committed();

-- How far the relay has published, as (transaction id, global position).
CREATE TABLE relay_checkpoint
(
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    transaction_id  bigint      NOT NULL,
    global_position bigint      NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO relay_checkpoint (transaction_id, global_position) VALUES (0, 0);
