-- How far each projector has applied each aggregate: the version of the last
-- event of it applied. A query that carries a consistency token waits here
-- until the read models it reads have applied the write it names.
CREATE TABLE projection_versions (
    projection   text   NOT NULL,
    aggregate_id text   NOT NULL,
    version      bigint NOT NULL,
    PRIMARY KEY (projection, aggregate_id)
);
