-- The sandbox carrier's own ledger of bookings, as a carrier's dashboard
-- would show them: one booking per order, cancelled or not.
CREATE TABLE sandbox_shipments
(
    order_id        uuid PRIMARY KEY,
    shipment_id     text        NOT NULL,
    tracking_number text        NOT NULL,
    booked_at       timestamptz NOT NULL DEFAULT now(),
    cancelled_at    timestamptz
);
