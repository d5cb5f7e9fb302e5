-- The typo look-up probes the vocabulary for the query word (a word it holds
-- is taken as spelled right) and compares any other word with the terms of
-- the lengths its budget allows: a word n edits away is at most n letters
-- longer or shorter. The trigram index served neither, and the planner took
-- it over the primary key for the probe.
CREATE INDEX search_terms_length ON search_terms (length(term));

-- A GIN index keeps new entries in a pending list that every search reads
-- through until the list is merged; a catalogue loaded in one go stayed
-- there whole. A small limit keeps the list, and that linear read, short.
-- Index names differ once a replay has swapped the tables in, so the indexes
-- are found by table and kind.
DO $$
DECLARE
    gin_index regclass;
BEGIN
    FOR gin_index IN
        SELECT i.indexrelid::regclass
        FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = 'search_terms'::regclass AND am.amname = 'gin'
    LOOP
        EXECUTE format('DROP INDEX %s', gin_index);
    END LOOP;
    FOR gin_index IN
        SELECT i.indexrelid::regclass
        FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = 'search_products'::regclass AND am.amname = 'gin'
    LOOP
        EXECUTE format('ALTER INDEX %s SET (gin_pending_list_limit = 128)', gin_index);
    END LOOP;
END
$$;
