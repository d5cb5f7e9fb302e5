//! A batch's catalogue updates of one product folded into one, for the read
//! models that keep only a product's current fields (search, the cache): a
//! busy product is written once per batch instead of once per event.

use crate::Envelope;
use atlantic_domain::published::PublishedEvent;
use std::collections::HashMap;

/// `events` with each run of `product.updated` events of one product (no
/// other event of that product between them) folded into one: at the run's
/// first place, with every field the run set (a later value over an earlier
/// one) and the last event's sequence, position and timestamp, so the
/// versions a read model records stay exact. Events of other aggregates in
/// between do not end a run: they change no field an update sets.
pub fn product_updates(events: &[Envelope]) -> Vec<Envelope> {
    let mut folded: Vec<Envelope> = Vec::with_capacity(events.len());
    let mut open_runs: HashMap<&str, usize> = HashMap::new();
    for event in events {
        let is_update = matches!(event.event(), PublishedEvent::ProductUpdated { .. });
        let key = event.aggregate_id.as_str();
        match open_runs.get(key) {
            Some(&run) if is_update => fold_into(&mut folded[run], event),
            _ => {
                if is_update {
                    open_runs.insert(key, folded.len());
                } else {
                    open_runs.remove(key);
                }
                folded.push(event.clone());
            }
        }
    }
    folded
}

/// Folds the update `later` into the update `run`.
fn fold_into(run: &mut Envelope, later: &Envelope) {
    if let (
        PublishedEvent::ProductUpdated {
            name,
            description,
            category,
            brand,
            price,
            specifications,
            inventory,
            inventory_change,
            reason,
            order_id,
            ..
        },
        PublishedEvent::ProductUpdated {
            name: later_name,
            description: later_description,
            category: later_category,
            brand: later_brand,
            price: later_price,
            specifications: later_specifications,
            inventory: later_inventory,
            inventory_change: later_inventory_change,
            reason: later_reason,
            order_id: later_order_id,
            ..
        },
    ) = (&mut run.published.event, later.event())
    {
        fn newer<T: Clone>(field: &mut Option<T>, later: &Option<T>) {
            if later.is_some() {
                field.clone_from(later);
            }
        }
        newer(name, later_name);
        newer(description, later_description);
        newer(category, later_category);
        newer(brand, later_brand);
        newer(price, later_price);
        newer(specifications, later_specifications);
        newer(inventory, later_inventory);
        // The last change's own account; the fields above are the state.
        *inventory_change = *later_inventory_change;
        *reason = *later_reason;
        *order_id = *later_order_id;
        run.sequence = later.sequence;
        run.position = later.position;
        run.published
            .timestamp
            .clone_from(&later.published.timestamp);
    }
}

#[cfg(test)]
mod tests {
    use super::product_updates;
    use crate::Envelope;
    use atlantic_domain::published::{Published, PublishedEvent};
    use uuid::Uuid;

    fn event(product: Uuid, sequence: i64, event: PublishedEvent) -> Envelope {
        Envelope {
            subject: "events.product.updated".into(),
            aggregate_type: "Product".into(),
            aggregate_id: product.to_string(),
            sequence,
            position: sequence * 10,
            published: Published {
                timestamp: format!("2026-12-01T00:00:{sequence:02}Z"),
                event,
            },
        }
    }

    fn update(product: Uuid, name: Option<&str>, inventory: Option<i64>) -> PublishedEvent {
        PublishedEvent::ProductUpdated {
            product_id: product,
            name: name.map(str::to_string),
            description: None,
            category: None,
            brand: None,
            price: None,
            specifications: None,
            inventory,
            inventory_change: None,
            reason: None,
            order_id: None,
        }
    }

    #[test]
    fn a_run_of_updates_becomes_one_with_every_field_and_the_last_version() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let events = [
            event(a, 2, update(a, Some("first"), None)),
            event(b, 2, update(b, None, Some(7))),
            event(a, 3, update(a, None, Some(5))),
            event(a, 4, update(a, Some("second"), None)),
            event(a, 5, PublishedEvent::ProductDeleted { product_id: a }),
            event(a, 6, update(a, None, Some(9))),
        ];
        let folded = product_updates(&events);
        assert_eq!(folded.len(), 4, "{folded:#?}");
        assert_eq!(folded[0].sequence, 4);
        assert_eq!(folded[0].position, 40);
        assert_eq!(folded[0].published.timestamp, "2026-12-01T00:00:04Z");
        assert_eq!(
            folded[0].published.event,
            update(a, Some("second"), Some(5))
        );
        assert_eq!(folded[1], events[1]);
        // A deletion ends the run: what follows it is not folded before it.
        assert_eq!(folded[2], events[4]);
        assert_eq!(folded[3], events[5]);
    }
}
