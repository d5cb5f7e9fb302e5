//! A few counters and gauges, rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// A metric's name and its labels.
type Key = (String, String);

/// Named counters and gauges with labels, shared by every component of a process.
#[derive(Clone, Default)]
pub struct Metrics {
    values: Arc<Mutex<BTreeMap<Key, Arc<AtomicI64>>>>,
}

impl Metrics {
    fn cell(&self, name: &str, labels: &str) -> Arc<AtomicI64> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        values
            .entry((name.to_string(), labels.to_string()))
            .or_default()
            .clone()
    }

    /// Adds `by` to counter `name{labels}` (labels as `key="value",…`).
    pub fn add(&self, name: &str, labels: &str, by: i64) {
        self.cell(name, labels).fetch_add(by, Ordering::Relaxed);
    }

    /// Sets gauge `name{labels}`.
    pub fn set(&self, name: &str, labels: &str, value: i64) {
        self.cell(name, labels).store(value, Ordering::Relaxed);
    }

    /// The current value of `name{labels}`.
    pub fn get(&self, name: &str, labels: &str) -> i64 {
        self.cell(name, labels).load(Ordering::Relaxed)
    }

    /// Everything in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        for ((name, labels), value) in values.iter() {
            let value = value.load(Ordering::Relaxed);
            if labels.is_empty() {
                out.push_str(&format!("{name} {value}\n"));
            } else {
                out.push_str(&format!("{name}{{{labels}}} {value}\n"));
            }
        }
        out
    }
}
