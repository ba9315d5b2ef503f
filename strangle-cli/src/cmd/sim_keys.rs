//! The credentials the local market accepts: the public demo key and secret, or the ones in
//! [`KEY_VAR`] and [`SECRET_VAR`] (used by `sim-server`, `run --market sim`, `check` and
//! `serve`).

use strangle_delta::Credentials;
use strangle_delta_market::demo_credentials;

use crate::error::CliError;

/// Environment variable with the API key the server accepts (default `sim-key`).
pub const KEY_VAR: &str = "STRANGLE_SIM_API_KEY";
/// Environment variable with the API secret the server accepts (default: the public demo
/// secret documented in README; never printed).
pub const SECRET_VAR: &str = "STRANGLE_SIM_API_SECRET";

/// The credentials the local market accepts.
pub fn credentials() -> Result<Credentials, CliError> {
    match (std::env::var(KEY_VAR), std::env::var(SECRET_VAR)) {
        (Err(_), Err(_)) => Ok(demo_credentials()),
        (k, s) => Credentials::new(
            k.unwrap_or_else(|_| "sim-key".into()),
            s.unwrap_or_default(),
        )
        .map_err(|e| CliError::Invalid(format!("{KEY_VAR}/{SECRET_VAR}: {e}"))),
    }
}
