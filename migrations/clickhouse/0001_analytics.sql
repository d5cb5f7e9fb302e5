-- Analytics tables. SQL for ClickHouse 18.16 and current releases. Every table
-- is a ReplacingMergeTree keyed so that a redelivered event writes the same key
-- again and is counted once (queries read with FINAL).
CREATE TABLE IF NOT EXISTS clicks
(
    click_id   String,
    product_id String,
    kind       String,
    area       String,
    at         DateTime
) ENGINE = ReplacingMergeTree() ORDER BY click_id;

CREATE TABLE IF NOT EXISTS order_lines
(
    order_id      String,
    product_id    String,
    customer_id   String,
    units         Int64,
    revenue_cents Int64,
    at            DateTime
) ENGINE = ReplacingMergeTree() ORDER BY (order_id, product_id);

CREATE TABLE IF NOT EXISTS order_status
(
    order_id String,
    status   String,
    version  Int64,
    at       DateTime
) ENGINE = ReplacingMergeTree(version) ORDER BY order_id;

CREATE TABLE IF NOT EXISTS products
(
    product_id String,
    name       String,
    category   String,
    brand      String,
    version    Int64
) ENGINE = ReplacingMergeTree(version) ORDER BY product_id;

CREATE TABLE IF NOT EXISTS inventory
(
    product_id String,
    inventory  Int64,
    version    Int64,
    at         DateTime
) ENGINE = ReplacingMergeTree(version) ORDER BY product_id;

CREATE TABLE IF NOT EXISTS customers
(
    customer_id String,
    area        String,
    version     Int64
) ENGINE = ReplacingMergeTree(version) ORDER BY customer_id;
