-- Where each projector got to in its stream (the JetStream stream sequence of
-- the last message it dealt with) and which incarnation of the stream that
-- sequence belongs to (its creation time); a restart reads again from there.
CREATE TABLE projection_checkpoints
(
    projection      text PRIMARY KEY,
    stream_sequence bigint NOT NULL,
    stream_created  text   NOT NULL
);
