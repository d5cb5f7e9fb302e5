-- A word within n edits of another is at most n letters longer or shorter:
-- the typo look-up compares a query word with the terms of those lengths only.
CREATE INDEX search_terms_length ON search_terms (length(term));
