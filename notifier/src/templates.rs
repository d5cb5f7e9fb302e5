//! The mail templates (`notifier/templates/`), an HTML and a plain-text body
//! per kind of mail.

use minijinja::Environment;
use serde::Serialize;

/// Every template, by kind.
const TEMPLATES: [(&str, &str, &str); 7] = [
    (
        "order_created",
        include_str!("../templates/order_created.txt"),
        include_str!("../templates/order_created.html"),
    ),
    (
        "order_shipped",
        include_str!("../templates/order_shipped.txt"),
        include_str!("../templates/order_shipped.html"),
    ),
    (
        "order_delivered",
        include_str!("../templates/order_delivered.txt"),
        include_str!("../templates/order_delivered.html"),
    ),
    (
        "order_cancelled",
        include_str!("../templates/order_cancelled.txt"),
        include_str!("../templates/order_cancelled.html"),
    ),
    (
        "order_returned",
        include_str!("../templates/order_returned.txt"),
        include_str!("../templates/order_returned.html"),
    ),
    (
        "stock_alert",
        include_str!("../templates/stock_alert.txt"),
        include_str!("../templates/stock_alert.html"),
    ),
    (
        "welcome",
        include_str!("../templates/welcome.txt"),
        include_str!("../templates/welcome.html"),
    ),
];

/// The templates, parsed once.
pub(crate) struct Templates {
    environment: Environment<'static>,
}

impl Templates {
    pub(crate) fn new() -> anyhow::Result<Self> {
        let mut environment = Environment::new();
        for (kind, text, html) in TEMPLATES {
            environment.add_template_owned(format!("{kind}.txt"), text.to_string())?;
            environment.add_template_owned(format!("{kind}.html"), html.to_string())?;
        }
        Ok(Templates { environment })
    }

    /// The plain-text and HTML bodies of `kind` with `context`.
    pub(crate) fn render(
        &self,
        kind: &str,
        context: impl Serialize,
    ) -> anyhow::Result<(String, String)> {
        let context = minijinja::Value::from_serialize(&context);
        let text = self
            .environment
            .get_template(&format!("{kind}.txt"))?
            .render(&context)?;
        let html = self
            .environment
            .get_template(&format!("{kind}.html"))?
            .render(&context)?;
        Ok((text, html))
    }
}
