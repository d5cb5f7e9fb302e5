-- Where each projector got to in its stream (the JetStream stream sequence of
-- the last message it dealt with); a restart reads again from there.
CREATE TABLE projection_checkpoints
(
    projection      text PRIMARY KEY,
    stream_sequence bigint NOT NULL
);
