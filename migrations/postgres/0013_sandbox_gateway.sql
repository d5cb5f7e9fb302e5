-- The sandbox payment gateway's own ledger, as a provider's dashboard would
-- show it: one charge per order (approved or declined) and its refund.
CREATE TABLE sandbox_charges
(
    order_id     uuid PRIMARY KEY,
    payment_id   text        NOT NULL UNIQUE,
    amount_cents bigint      NOT NULL,
    approved     boolean     NOT NULL,
    charged_at   timestamptz NOT NULL DEFAULT now(),
    -- Refunds are refused before this (`tok_refund_later`: an outage of the
    -- provider's refunds).
    refundable_at timestamptz NOT NULL DEFAULT now(),
    refund_id    text,
    refunded_at  timestamptz
);
