-- Sellers as the query API shows them; their product count comes from the
-- product read model (search_products), counted by seller.
CREATE TABLE seller_views
(
    seller_id     uuid PRIMARY KEY,
    user_id       uuid        NOT NULL,
    name          text        NOT NULL,
    contact_email text        NOT NULL,
    created_at    timestamptz NOT NULL,
    version       bigint      NOT NULL
);

CREATE INDEX search_products_seller ON search_products (seller_id);
