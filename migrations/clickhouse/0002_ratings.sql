-- Customers' ratings: one row per rating (customer and product), its stars
-- (0 once withdrawn) as of its latest version.
CREATE TABLE IF NOT EXISTS ratings
(
    rating_id  String,
    product_id String,
    stars      Int64,
    version    Int64,
    at         DateTime
) ENGINE = ReplacingMergeTree(version) ORDER BY rating_id;
