-- Ratings and comments as the query API shows them, kept by the reviews
-- projection. A withdrawn rating keeps its row with no stars; a deleted
-- comment keeps its row, marked deleted (so a late event cannot bring it back).
CREATE TABLE product_ratings
(
    rating_id  uuid PRIMARY KEY,
    product_id uuid   NOT NULL,
    user_id    uuid   NOT NULL,
    stars      smallint,
    version    bigint NOT NULL
);
CREATE INDEX product_ratings_product ON product_ratings (product_id) WHERE stars IS NOT NULL;

CREATE TABLE product_comments
(
    comment_id uuid PRIMARY KEY,
    product_id uuid        NOT NULL,
    author_id  uuid        NOT NULL,
    text       text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted    boolean     NOT NULL DEFAULT false,
    version    bigint      NOT NULL
);
CREATE INDEX product_comments_product ON product_comments (product_id, created_at DESC, comment_id DESC)
    WHERE NOT deleted;
