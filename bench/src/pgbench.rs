//! pgbench's TPS for a one-row insert transaction: the ceiling for a command
//! that appends one event.

use anyhow::{bail, Context};
use std::io::Write;
use std::process::Command;
use std::time::Duration;

/// Runs pgbench with `clients` clients for `duration`, each transaction one
/// `INSERT` of a JSON row into a scratch table, and returns its TPS.
pub fn one_row_insert_tps(
    database_url: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let psql = |sql: &str| {
        Command::new("psql")
            .args([database_url, "-q", "-c", sql])
            .status()
            .context("run psql")
    };
    psql("CREATE TABLE IF NOT EXISTS bench_one_row_insert (id bigint GENERATED ALWAYS AS IDENTITY, payload jsonb NOT NULL)")?;
    let mut script = tempfile_script()?;
    writeln!(
        script.1,
        "INSERT INTO bench_one_row_insert (payload) VALUES ('{{\"adjust\": 1}}');"
    )?;
    let output = Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(2).to_string(),
        ])
        .args(["-T", &duration.as_secs().to_string(), "-f"])
        .arg(&script.0)
        .arg(database_url)
        .output()
        .context("run pgbench (install postgresql-contrib or postgresql-client)")?;
    psql("DROP TABLE bench_one_row_insert")?;
    let _ = std::fs::remove_file(&script.0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("tps = ") {
            let value = rest.split_whitespace().next().unwrap_or_default();
            return value
                .parse()
                .with_context(|| format!("pgbench printed `{line}`"));
        }
    }
    bail!(
        "pgbench printed no TPS: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    )
}

fn tempfile_script() -> anyhow::Result<(std::path::PathBuf, std::fs::File)> {
    let path = std::env::temp_dir().join(format!("atlantic-bench-{}.sql", std::process::id()));
    let file = std::fs::File::create(&path)?;
    Ok((path, file))
}
