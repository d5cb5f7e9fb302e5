//! The indexes' settings as code: what the products and ratings indexes must
//! have, compared with what they have, and applied only where they differ.

use super::tasks;
use anyhow::Context;
use meilisearch_sdk::client::Client;
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::settings::{
    FilterableAttribute, MinWordSizeForTypos, Settings, TypoToleranceSettings,
};
use std::collections::BTreeSet;
use std::time::Duration;

/// Searched in this order: what a listing *is* outranks what its title
/// mentions ("laptop" finds laptops before laptop bags).
const SEARCHABLE: [&str; 4] = ["category", "name", "brand", "description"];

/// What searches filter on.
const FILTERABLE: [&str; 5] = ["category", "brand", "price", "inStock", "rating"];

/// What searches sort by.
const SORTABLE: [&str; 2] = ["price", "rating"];

/// A chosen sort orders every hit, as in the Postgres adapter.
const RANKING_RULES: [&str; 6] = [
    "sort",
    "words",
    "typo",
    "proximity",
    "attribute",
    "exactness",
];

/// One typo from 4 letters, two from 6, as in the Postgres adapter.
const TYPOS: MinWordSizeForTypos = MinWordSizeForTypos {
    one_typo: Some(4),
    two_typos: Some(6),
};

/// What the ratings index filters on: a product's ratings, by stars.
const RATINGS_FILTERABLE: [&str; 2] = ["productId", "stars"];

/// The settings of the products index.
pub fn products() -> Settings {
    Settings::new()
        .with_searchable_attributes(SEARCHABLE)
        .with_filterable_attributes(FILTERABLE)
        .with_sortable_attributes(SORTABLE)
        .with_ranking_rules(RANKING_RULES)
        .with_typo_tolerance(TypoToleranceSettings {
            enabled: Some(true),
            min_word_size_for_typos: Some(TYPOS),
            ..Default::default()
        })
}

/// The settings of the ratings index.
pub fn ratings() -> Settings {
    Settings::new().with_filterable_attributes(RATINGS_FILTERABLE)
}

/// The names of filterable attributes, in any order.
fn filterable(settings: &Settings) -> BTreeSet<String> {
    settings
        .filterable_attributes
        .iter()
        .flatten()
        .map(|attribute| match attribute {
            FilterableAttribute::Attribute(name) => name.clone(),
            FilterableAttribute::Settings(settings) => settings.attribute_patterns.join(","),
        })
        .collect()
}

/// The names of sortable attributes, in any order.
fn sortable(settings: &Settings) -> BTreeSet<String> {
    settings
        .sortable_attributes
        .iter()
        .flatten()
        .cloned()
        .collect()
}

/// Whether `current` has every setting `wanted` sets (what `wanted` leaves
/// unset is not looked at).
pub fn holds(current: &Settings, wanted: &Settings) -> bool {
    let typos = |s: &Settings| {
        s.typo_tolerance.as_ref().map(|t| {
            (
                t.enabled.unwrap_or(true),
                t.min_word_size_for_typos
                    .as_ref()
                    .map(|m| (m.one_typo, m.two_typos)),
            )
        })
    };
    (wanted.searchable_attributes.is_none()
        || current.searchable_attributes == wanted.searchable_attributes)
        && (wanted.filterable_attributes.is_none() || filterable(current) == filterable(wanted))
        && (wanted.sortable_attributes.is_none() || sortable(current) == sortable(wanted))
        && (wanted.ranking_rules.is_none() || current.ranking_rules == wanted.ranking_rules)
        && (wanted.typo_tolerance.is_none() || typos(current) == typos(wanted))
}

/// Gives `index` the settings `wanted` unless it has them, waiting for the
/// task; answers whether it had to.
pub async fn ensure(
    client: &Client,
    index: &Index,
    wanted: &Settings,
    timeout: Duration,
) -> anyhow::Result<bool> {
    let current = index
        .get_settings()
        .await
        .with_context(|| format!("cannot read the settings of the index {}", index.uid))?;
    if holds(&current, wanted) {
        return Ok(false);
    }
    let task = index.set_settings(wanted).await?;
    tasks::finish(client, &[task], timeout)
        .await
        .with_context(|| format!("cannot apply the settings of the index {}", index.uid))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_hold_whatever_the_order_of_sets() {
        let mut current = products();
        current.filterable_attributes = current.filterable_attributes.map(|mut f| {
            f.reverse();
            f
        });
        assert!(holds(&current, &products()));
    }

    #[test]
    fn another_order_of_searched_attributes_differs() {
        let current = products().with_searchable_attributes(["name", "category", "brand"]);
        assert!(!holds(&current, &products()));
        let current = products().with_typo_tolerance(TypoToleranceSettings::default());
        assert!(!holds(&current, &products()));
    }
}
