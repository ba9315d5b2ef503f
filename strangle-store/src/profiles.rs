//! Stored profiles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strangle_core::profile::Profile;

use crate::StoreError;

/// A profile as kept in the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredProfile {
    /// Row id.
    pub id: i64,
    /// Whether it is the active profile (at most one is).
    pub active: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The settings.
    pub profile: Profile,
}

/// Profile `id` in `profiles` (a list as [`crate::Store::profiles`] gives it), by
/// reference; [`StoreError::NoProfile`] when it is not there.
pub fn profile_in(profiles: &[StoredProfile], id: i64) -> Result<&StoredProfile, StoreError> {
    profiles
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| StoreError::NoProfile(id.to_string()))
}
