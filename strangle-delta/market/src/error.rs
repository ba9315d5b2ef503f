//! The one error type of `strangle-delta-market`.

use std::net::SocketAddr;

use strangle_core::error::{ErrorKind, Failure};

/// Why the local market could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MarketError {
    /// A fault knob or scenario is malformed; the text names the field.
    #[error("{0}")]
    Invalid(String),
    /// The market could not listen on its address.
    #[error("the local market cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

impl Failure for MarketError {
    fn error_kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::Listen { .. } => ErrorKind::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_address_is_a_listen_error_naming_it() {
        let taken = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let addr = taken.local_addr().expect("an address");
        let config = crate::ServerConfig {
            addr,
            ..crate::ServerConfig::default()
        };
        let e = crate::LocalServer::start(config)
            .await
            .expect_err("the address is taken");
        assert!(
            matches!(&e, MarketError::Listen { addr: a, .. } if *a == addr),
            "{e}"
        );
        assert_eq!(e.error_kind(), ErrorKind::Failed);
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.to_string().contains(&addr.to_string()), "{e}");
    }
}
