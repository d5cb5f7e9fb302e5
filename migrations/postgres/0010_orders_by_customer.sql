-- A customer's orders, found from the events table: only a customer who
-- received a product may rate it.
CREATE INDEX events_orders_by_customer ON events ((payload -> 'OrderCreated' ->> 'customerId'))
    WHERE aggregate_type = 'Order' AND event_type = 'OrderCreated';
