//! Atlantic's command API: HTTP requests to the use cases
//! (`atlantic_application`), and the server that answers them.

pub mod app;
pub mod http;
