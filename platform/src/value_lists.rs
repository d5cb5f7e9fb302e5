//! Lists bound as `VALUES` rows of placeholders, padded to a power of two.
//!
//! PostgreSQL plans a statement that binds a list as an array (`unnest($1)`)
//! again on every call: its generic plan assumes an array of unknown length,
//! costs more than a custom plan for the few elements bound, and so never
//! wins. A `VALUES` list has a length the plan knows; padded to a power of
//! two, a statement has a few texts, each prepared once and run on its
//! generic plan.

/// How many rows a list of `len` items is padded to: the next power of two
/// (1 for an empty list).
pub fn padded_len(len: usize) -> usize {
    len.max(1).next_power_of_two()
}

/// `(VALUES ($first::type, …), …)`: `rows` rows of one placeholder per type
/// of `types`, numbered from `$first`.
pub fn values(first: usize, rows: usize, types: &[&str]) -> String {
    let rows: Vec<String> = (0..rows)
        .map(|row| {
            let columns: Vec<String> = types
                .iter()
                .enumerate()
                .map(|(column, kind)| format!("${}::{kind}", first + row * types.len() + column))
                .collect();
            format!("({})", columns.join(", "))
        })
        .collect();
    format!("(VALUES {})", rows.join(", "))
}

#[cfg(test)]
mod tests {
    use super::{padded_len, values};

    #[test]
    fn lists_are_padded_to_a_power_of_two() {
        let padded: Vec<usize> = [0, 1, 2, 3, 4, 5, 100].map(padded_len).to_vec();
        assert_eq!(padded, [1, 1, 2, 4, 4, 8, 128]);
    }

    #[test]
    fn rows_number_their_placeholders_from_the_first() {
        assert_eq!(
            values(2, 2, &["text", "bigint"]),
            "(VALUES ($2::text, $3::bigint), ($4::text, $5::bigint))"
        );
        assert_eq!(values(1, 1, &["text"]), "(VALUES ($1::text))");
    }
}
