//! The plans PostgreSQL makes for the project's statements.

use serde_json::Value;

/// How a statement is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planning {
    /// For the arguments of the execution, as the first executions of a
    /// prepared statement are.
    Custom,
    /// Once for every execution, as a prepared statement keeps it after its
    /// first executions (sqlx prepares every statement it runs).
    Generic,
}

/// The plan of `sql` for `params` (the arguments as a literal list), as JSON.
pub async fn plan(pool: &sqlx::PgPool, sql: &str, params: &str, planning: Planning) -> Value {
    let mut connection = pool.acquire().await.expect("a connection");
    let mode = match planning {
        Planning::Custom => "auto",
        Planning::Generic => "force_generic_plan",
    };
    sqlx::raw_sql(&format!(
        "SET plan_cache_mode = {mode}; PREPARE planned AS {sql}"
    ))
    .execute(&mut *connection)
    .await
    .expect("prepare");
    let plan: Value =
        sqlx::query_scalar(&format!("EXPLAIN (FORMAT JSON) EXECUTE planned({params})"))
            .fetch_one(&mut *connection)
            .await
            .expect("explain");
    sqlx::raw_sql("DEALLOCATE planned; RESET plan_cache_mode")
        .execute(&mut *connection)
        .await
        .expect("deallocate");
    plan
}

/// The nodes of `plan` that read `table`, each as its node type and the
/// condition it reads the index by (empty when it reads none).
pub fn reads_of(plan: &Value, table: &str) -> Vec<(String, String)> {
    let mut reads = Vec::new();
    let mut nodes: Vec<&Value> = match plan {
        Value::Array(plans) => plans.iter().filter_map(|p| p.get("Plan")).collect(),
        other => vec![other],
    };
    while let Some(node) = nodes.pop() {
        if node["Relation Name"] == table && node["Operation"].is_null() {
            reads.push((
                node["Node Type"].as_str().unwrap_or_default().to_string(),
                node["Index Cond"]
                    .as_str()
                    .or(node["Recheck Cond"].as_str())
                    .unwrap_or_default()
                    .to_string(),
            ));
        }
        if let Some(children) = node["Plans"].as_array() {
            nodes.extend(children);
        }
    }
    reads
}
