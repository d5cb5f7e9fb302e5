use super::Stars;
use uuid::Uuid;

/// What can be asked of a rating.
#[derive(Debug, Clone, PartialEq)]
pub enum RatingCommand {
    /// Give `stars` to `product_id` (again, or for the first time).
    Rate {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
        /// 1 to 5.
        stars: Stars,
    },
    /// Take the rating back.
    Withdraw {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
    },
}
