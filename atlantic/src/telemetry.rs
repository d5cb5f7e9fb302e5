//! Logging: tracing to stderr, filtered by `RUST_LOG` (default `info`), as JSON
//! when `LOG_FORMAT=json`.

use tracing_subscriber::EnvFilter;

/// Sets up the global subscriber once.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
