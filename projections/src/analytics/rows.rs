//! One struct per ClickHouse table, field for field in column order.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

/// `clicks`.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct ClickRow {
    pub click_id: String,
    pub product_id: String,
    pub kind: String,
    pub area: String,
    /// Seconds since the epoch (DateTime).
    pub at: u32,
}

/// `order_lines`.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct OrderLineRow {
    pub order_id: String,
    pub product_id: String,
    pub customer_id: String,
    pub units: i64,
    pub revenue_cents: i64,
    pub at: u32,
}

/// `order_status`.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct OrderStatusRow {
    pub order_id: String,
    pub status: String,
    pub version: i64,
    pub at: u32,
}

/// `products`.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct ProductRow {
    pub product_id: String,
    pub name: String,
    pub category: String,
    pub brand: String,
    pub version: i64,
}

/// `inventory`.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct InventoryRow {
    pub product_id: String,
    pub inventory: i64,
    pub version: i64,
    pub at: u32,
}

/// `customers`.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct CustomerRow {
    pub customer_id: String,
    pub area: String,
    pub version: i64,
}

/// `ratings`.
#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
pub struct RatingRow {
    pub rating_id: String,
    pub product_id: String,
    /// 1 to 5; 0 once withdrawn.
    pub stars: i64,
    pub version: i64,
    pub at: u32,
}
