//! How enums are spelled in the database, shared by both backends.

use crate::error::StoreError;
use crate::model::{Cohort, Role};

/// How often an import reports progress, in votes.
pub(crate) const PROGRESS_EVERY: usize = 100_000;

pub(crate) fn cohort_name(c: Cohort) -> &'static str {
    match c {
        Cohort::Open => "open",
        Cohort::Panel => "panel",
    }
}

pub(crate) fn cohort_of(name: &str) -> Result<Cohort, StoreError> {
    match name {
        "open" => Ok(Cohort::Open),
        "panel" => Ok(Cohort::Panel),
        other => Err(StoreError::Corrupt(format!("unknown cohort `{other}`"))),
    }
}

pub(crate) fn role_columns(role: &Role) -> (&'static str, Option<&str>) {
    match role {
        Role::Admin => ("admin", None),
        Role::Moderator { conversation } => ("moderator", Some(conversation.as_str())),
    }
}

pub(crate) fn role_of(name: &str, conversation: Option<String>) -> Result<Role, StoreError> {
    match (name, conversation) {
        ("admin", _) => Ok(Role::Admin),
        ("moderator", Some(conversation)) => Ok(Role::Moderator { conversation }),
        (other, _) => Err(StoreError::Corrupt(format!("unknown key role `{other}`"))),
    }
}
