//! Delta's environments. Each is independent: keys, product ids and users differ, so a
//! client is bound to one environment for its whole life.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where to connect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Delta Exchange India, production (the default).
    #[default]
    IndiaProduction,
    /// Delta Exchange India, testnet ("Demo").
    IndiaTestnet,
    /// Delta Exchange Global, production.
    GlobalProduction,
    /// Delta Exchange Global, testnet.
    GlobalTestnet,
    /// Any other base URL (the local server, a proxy).
    Custom {
        /// REST base, e.g. `http://127.0.0.1:8080`.
        rest: String,
        /// Private WebSocket endpoint.
        ws_private: String,
        /// Public WebSocket endpoint.
        ws_public: String,
    },
}

impl Environment {
    /// A custom environment served at `base` (`http://host:port`), with both WebSockets at
    /// `ws://host:port/ws` and `/ws/public` — the layout of the local server.
    pub fn local(base: &str) -> Self {
        let ws = base.replacen("http", "ws", 1);
        Self::Custom {
            rest: base.trim_end_matches('/').to_string(),
            ws_private: format!("{}/ws", ws.trim_end_matches('/')),
            ws_public: format!("{}/ws/public", ws.trim_end_matches('/')),
        }
    }

    /// Whether the REST base is on this machine (`localhost`, 127.0.0.0/8 or `[::1]`): a
    /// local market such as `strangle sim-server`, never one of Delta's hosts.
    pub fn is_loopback(&self) -> bool {
        let Ok(url) = url::Url::parse(self.rest_url()) else {
            return false;
        };
        match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }

    /// REST base URL (no trailing slash).
    pub fn rest_url(&self) -> &str {
        match self {
            Self::IndiaProduction => "https://api.india.delta.exchange",
            Self::IndiaTestnet => "https://cdn-ind.testnet.deltaex.org",
            Self::GlobalProduction => "https://api.delta.exchange",
            Self::GlobalTestnet => "https://testnet-api.delta.exchange",
            Self::Custom { rest, .. } => rest,
        }
    }

    /// Private WebSocket endpoint (auth and private channels).
    pub fn ws_private_url(&self) -> &str {
        match self {
            Self::IndiaProduction => "wss://socket.india.delta.exchange",
            Self::IndiaTestnet => "wss://socket-ind.testnet.deltaex.org",
            Self::GlobalProduction => "wss://socket.delta.exchange",
            Self::GlobalTestnet => "wss://testnet-socket.delta.exchange",
            Self::Custom { ws_private, .. } => ws_private,
        }
    }

    /// Public WebSocket endpoint (compact market-data channels), where one is documented.
    /// Global's docs list India's public host (a copy-paste, see the API notes): quotes from
    /// another exchange must never price Global orders, so Global has none and takes its
    /// quotes from REST.
    pub fn ws_public_url(&self) -> Option<&str> {
        match self {
            Self::IndiaProduction => Some("wss://public-socket.india.delta.exchange"),
            Self::IndiaTestnet => Some("wss://socket-ind-pub.testnet.deltaex.org"),
            Self::GlobalProduction | Self::GlobalTestnet => None,
            Self::Custom { ws_public, .. } => Some(ws_public),
        }
    }

    /// Whether this is one of Delta's production environments (real money).
    pub fn is_production(&self) -> bool {
        matches!(self, Self::IndiaProduction | Self::GlobalProduction)
    }

    /// Short name, e.g. `india-production`.
    pub fn name(&self) -> &str {
        match self {
            Self::IndiaProduction => "india-production",
            Self::IndiaTestnet => "india-testnet",
            Self::GlobalProduction => "global-production",
            Self::GlobalTestnet => "global-testnet",
            Self::Custom { .. } => "custom",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Custom { rest, .. } => write!(f, "custom ({rest})"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Environment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "india" | "india-production" => Ok(Self::IndiaProduction),
            "india-testnet" => Ok(Self::IndiaTestnet),
            "global" | "global-production" => Ok(Self::GlobalProduction),
            "global-testnet" => Ok(Self::GlobalTestnet),
            url if url.starts_with("http://") || url.starts_with("https://") => Ok(Self::local(url)),
            other => Err(format!(
                "unknown environment {other:?}: use india, india-testnet, global, global-testnet or a base URL"
            )),
        }
    }
}
