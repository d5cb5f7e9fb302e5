-- A generation per Postgres read model, raised in the transaction of every
-- batch that changes it and of the replay that swaps it in: an answer
-- computed from the read model at one generation stays right until the
-- next, so the query API may keep it that long.
CREATE TABLE read_model_generations
(
    name       text PRIMARY KEY,
    generation bigint NOT NULL
);
