//! Atlantic assembled: the one place that builds the system from its
//! configuration ([`system`]), used by every `atlantic` subcommand and by the
//! tests.

pub mod system;
