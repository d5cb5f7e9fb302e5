-- Search ranks by customers' ratings. A product nobody has rated yet ranks by
-- its catalogue's rating if it was imported with one; what a seller writes in
-- its specifications never counts. The search model keeps each customer's
-- rating itself (`search_ratings`), so it is rebuilt and kept without any
-- other read model.
ALTER TABLE search_products DROP COLUMN rating;
ALTER TABLE search_products
    ADD COLUMN catalogue_rating real,
    ADD COLUMN customer_rating  real;
ALTER TABLE search_products
    ADD COLUMN rating real GENERATED ALWAYS AS (coalesce(customer_rating, catalogue_rating)) STORED;

CREATE TABLE search_ratings
(
    rating_id  uuid PRIMARY KEY,
    product_id uuid   NOT NULL,
    -- No stars once withdrawn; the row stays, so a late event cannot bring it back.
    stars      smallint,
    version    bigint NOT NULL
);
CREATE INDEX search_ratings_product ON search_ratings (product_id) WHERE stars IS NOT NULL;
