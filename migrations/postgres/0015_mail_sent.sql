-- Every mail the notifier handed to the mail server, by the event it tells of
-- and its recipient: after a crash only sends not recorded here are made
-- again (with the same Message-ID).
CREATE TABLE mail_sent (
    event_id   uuid        NOT NULL,
    recipient  text        NOT NULL,
    kind       text        NOT NULL,
    message_id text        NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, recipient)
);
