//! Which components a process runs.

use atlantic_projections::read_models::ReadModel;

/// The components to run side by side.
#[derive(Debug, Clone, Default)]
pub struct Components {
    /// The command API.
    pub command_api: bool,
    /// The query API.
    pub query_api: bool,
    /// The relay (it stands by while another process leads).
    pub relay: bool,
    /// The order saga.
    pub saga: bool,
    /// These read models' projectors.
    pub projections: Vec<ReadModel>,
    /// The notifier (mail to customers).
    pub notifier: bool,
}

impl Components {
    /// Every component (`atlantic serve`).
    pub fn all() -> Self {
        Components {
            command_api: true,
            query_api: true,
            relay: true,
            saga: true,
            projections: ReadModel::ALL.to_vec(),
            notifier: true,
        }
    }

    /// Whether any of them talks to NATS.
    pub fn need_nats(&self) -> bool {
        self.command_api
            || self.query_api
            || self.relay
            || self.saga
            || self.notifier
            || !self.projections.is_empty()
    }

    /// Whether any of them writes to or reads from ClickHouse.
    pub fn need_analytics(&self) -> bool {
        self.query_api || self.projections.iter().any(|m| m.needs_analytics())
    }
}

/// A read model by its name, or all of them (`atlantic project <name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectionName {
    /// One read model.
    One(ReadModel),
    /// Every read model.
    All,
}

/// Every name the command line takes.
const PROJECTION_NAMES: [ProjectionName; 7] = [
    ProjectionName::One(ReadModel::ALL[0]),
    ProjectionName::One(ReadModel::ALL[1]),
    ProjectionName::One(ReadModel::ALL[2]),
    ProjectionName::One(ReadModel::ALL[3]),
    ProjectionName::One(ReadModel::ALL[4]),
    ProjectionName::One(ReadModel::ALL[5]),
    ProjectionName::All,
];

impl clap::ValueEnum for ProjectionName {
    fn value_variants<'a>() -> &'a [Self] {
        &PROJECTION_NAMES
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            ProjectionName::One(model) => {
                clap::builder::PossibleValue::new(model.name()).help(model.about())
            }
            ProjectionName::All => {
                clap::builder::PossibleValue::new("all").help("Every read model")
            }
        })
    }
}

impl ProjectionName {
    /// The read models this name stands for.
    pub fn read_models(self) -> Vec<ReadModel> {
        match self {
            ProjectionName::One(model) => vec![model],
            ProjectionName::All => ReadModel::ALL.to_vec(),
        }
    }
}
