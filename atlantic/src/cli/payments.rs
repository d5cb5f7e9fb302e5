//! `atlantic payments audit`: the money at the gateway against the orders.

use super::args::Connections;
use atlantic::system;
use atlantic_sagas::payment_gateway::SandboxPaymentGateway;
use atlantic_sagas::payments_audit;

pub(super) async fn audit_payments(connections: Connections) -> anyhow::Result<()> {
    let pool = system::Connections::open(&connections.config()).await?.pool;
    let gateway = SandboxPaymentGateway::new(pool.clone());
    let disagreements = payments_audit::audit(&pool, &gateway).await?;
    for d in &disagreements {
        println!("{}\t{}\t{}", d.order_id, d.last_event, d.problem);
    }
    if disagreements.is_empty() {
        println!("every order's money agrees with its state");
        Ok(())
    } else {
        eprintln!("{} orders disagree with their money", disagreements.len());
        std::process::exit(1)
    }
}
