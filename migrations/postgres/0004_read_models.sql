-- Read models kept by the projectors and read by the query API. Each row keeps
-- the version (sequence) of the last event applied to it, so a redelivered or
-- replayed event is applied at most once.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

CREATE TABLE order_views
(
    order_id    uuid PRIMARY KEY,
    customer_id uuid           NOT NULL,
    status      text           NOT NULL,
    items       jsonb          NOT NULL,
    total_price numeric(14, 2) NOT NULL,
    created_at  timestamptz    NOT NULL,
    updated_at  timestamptz    NOT NULL,
    version     bigint         NOT NULL
);
CREATE INDEX order_views_customer ON order_views (customer_id, created_at DESC, order_id);

CREATE TABLE order_timeline
(
    order_id    uuid        NOT NULL,
    sequence    bigint      NOT NULL,
    event       text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    body        jsonb       NOT NULL,
    PRIMARY KEY (order_id, sequence)
);

CREATE TABLE user_views
(
    user_id   uuid PRIMARY KEY,
    email     text   NOT NULL,
    name      text   NOT NULL,
    role      text   NOT NULL,
    address   jsonb,
    seller_id uuid,
    version   bigint NOT NULL
);

-- The search read model of the Postgres adapter: full-text (category outranks
-- name, name outranks brand and description) plus a vocabulary for typos.
CREATE TABLE search_products
(
    product_id     uuid PRIMARY KEY,
    seller_id      uuid           NOT NULL,
    name           text           NOT NULL,
    description    text           NOT NULL,
    category       text           NOT NULL,
    brand          text           NOT NULL,
    price          numeric(14, 2) NOT NULL,
    specifications jsonb          NOT NULL,
    inventory      bigint         NOT NULL,
    rating         real,
    version        bigint         NOT NULL,
    document       tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', category), 'A') ||
        setweight(to_tsvector('simple', name), 'B') ||
        setweight(to_tsvector('simple', brand), 'C') ||
        setweight(to_tsvector('simple', description), 'D')) STORED
);
CREATE INDEX search_products_document ON search_products USING gin (document);
CREATE INDEX search_products_category ON search_products (category);
CREATE INDEX search_products_brand ON search_products (brand);
CREATE INDEX search_products_price ON search_products (price, product_id);

CREATE TABLE search_terms
(
    term text PRIMARY KEY
);
CREATE INDEX search_terms_trigram ON search_terms USING gin (term gin_trgm_ops);
