-- A returned order's units come back to each product once: the product no
-- longer remembers its finished orders (its state holds only orders in
-- flight), so the rule lives in the transaction that writes the event.
CREATE UNIQUE INDEX products_restock_once ON events (aggregate_id, (payload -> 'StockRestocked' ->> 'orderId'))
    WHERE aggregate_type = 'Product' AND event_type = 'StockRestocked';
