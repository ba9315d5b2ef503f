//! Typed Delta endpoints on top of [`RestClient`].

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use strangle_core::clock::ScaledClock;
use strangle_core::model::Quote;

use crate::credentials::Credentials;
use crate::env::Environment;
use crate::error::DeltaError;
use crate::ratelimit::Priority;
use crate::rest::{decode, RestClient, Retry, RetryPolicy};
use crate::scan::Form;
use crate::sign::QueryString;
use crate::wire::{
    CancelOrder, CreateOrder, Envelope, Fill, L2Orderbook, MarginedPosition, Order, Position,
    Product, Ticker, WalletBalance, WalletTransaction,
};

/// A typed Delta Exchange client for one environment.
///
/// ```no_run
/// # async fn demo() -> Result<(), strangle_delta::DeltaError> {
/// use strangle_delta::{api::DeltaClient, Environment};
/// let client = DeltaClient::new(Environment::IndiaProduction, None)?;
/// let chain = client.tickers("BTC", None).await?;
/// println!("{} option tickers", chain.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DeltaClient {
    rest: RestClient,
}

/// Where an order stands in the rate budget: a reduce-only one (an exit, a stop) protects a
/// position and may use the reserve; anything else is routine.
pub fn order_priority(order: &CreateOrder) -> Priority {
    if order.reduce_only == Some(true) {
        Priority::Protective
    } else {
        Priority::Routine
    }
}

fn body<T: Serialize>(v: &T) -> Result<String, DeltaError> {
    serde_json::to_string(v)
        .map_err(|e| DeltaError::Invalid(format!("cannot encode the body: {e}")))
}

fn result<T>(env: Envelope<T>, what: &str) -> Result<T, DeltaError> {
    env.result.ok_or_else(|| DeltaError::Decode {
        method: "GET".into(),
        path: what.into(),
        message: "no result".into(),
    })
}

impl DeltaClient {
    /// A client with the default retry policy.
    pub fn new(env: Environment, creds: Option<Credentials>) -> Result<Self, DeltaError> {
        Self::with_policy(env, creds, RetryPolicy::default())
    }

    /// A client with a custom retry policy.
    pub fn with_policy(
        env: Environment,
        creds: Option<Credentials>,
        policy: RetryPolicy,
    ) -> Result<Self, DeltaError> {
        Ok(Self {
            rest: RestClient::new(env, creds, policy)?,
        })
    }

    /// A client of the local server: no rate limit (the local server enforces none).
    pub fn local(env: Environment, creds: Option<Credentials>) -> Result<Self, DeltaError> {
        let limiter = crate::ratelimit::RateLimiter::unlimited();
        Ok(Self {
            rest: RestClient::with_limiter(env, creds, RetryPolicy::default(), limiter)?,
        })
    }

    /// The transport.
    pub fn rest(&self) -> &RestClient {
        &self.rest
    }

    /// A signed, safely retried call with a JSON body whose answer is not needed.
    async fn send_json(&self, method: Method, path: &str, payload: &str) -> Result<(), DeltaError> {
        self.rest
            .call::<serde_json::Value>(
                method,
                path,
                &QueryString::default(),
                Some(payload),
                true,
                Retry::Safe,
            )
            .await
            .map(|_| ())
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        q: QueryString,
        auth: bool,
    ) -> Result<Envelope<T>, DeltaError> {
        self.rest
            .call(Method::GET, path, &q, None, auth, Retry::Safe)
            .await
    }

    /// Every page of a list endpoint, Delta's way: `pairs` plus `after=<meta.after>` until
    /// `meta.after` is null (or repeats: a server that returns the same cursor is not asked
    /// forever).
    async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        auth: bool,
    ) -> Result<Vec<T>, DeltaError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = pairs.to_vec();
            if let Some(a) = after.as_deref() {
                q.push(("after", a));
            }
            let env: Envelope<Vec<T>> = self.get(path, QueryString::new(q), auth).await?;
            let next = env.meta.as_ref().and_then(|m| m.after.clone());
            out.extend(env.result.unwrap_or_default());
            match next {
                Some(n) if Some(&n) != after.as_ref() => after = Some(n),
                _ => return Ok(out),
            }
        }
    }

    /// The server's clock (`GET /v2/settings` → `server_time`, µs), when it publishes one.
    pub async fn server_time(&self) -> Result<Option<DateTime<Utc>>, DeltaError> {
        let env: Envelope<serde_json::Value> = self
            .get("/v2/settings", QueryString::default(), false)
            .await?;
        Ok(env
            .result
            .and_then(|r| r.get("server_time").and_then(serde_json::Value::as_i64))
            .and_then(DateTime::from_timestamp_micros))
    }

    /// The clock of a local market (`strangle sim-server`, `LocalServer`):
    /// its `market_time` and `market_speed` in `GET /v2/settings`, which Delta itself does
    /// not publish. `None` when the server publishes no steady market clock.
    pub async fn market_clock(&self) -> Result<Option<ScaledClock>, DeltaError> {
        let asked = std::time::Instant::now();
        let env: Envelope<serde_json::Value> = self
            .get("/v2/settings", QueryString::default(), false)
            .await?;
        // The answer was read about half a round trip ago.
        let half_trip = asked.elapsed() / 2;
        let Some(r) = env.result else {
            return Ok(None);
        };
        let time = r
            .get("market_time")
            .and_then(serde_json::Value::as_i64)
            .and_then(DateTime::from_timestamp_micros);
        let speed = r
            .get("market_speed")
            .and_then(serde_json::Value::as_f64)
            .filter(|s| s.is_finite() && *s > 0.0);
        Ok(match (time, speed) {
            (Some(t), Some(speed)) => {
                let ahead =
                    chrono::Duration::from_std(half_trip.mul_f64(speed)).unwrap_or_default();
                Some(ScaledClock::new(t + ahead, speed))
            }
            _ => None,
        })
    }

    /// Every live call and put option (all pages).
    pub async fn option_products(&self) -> Result<Vec<Product>, DeltaError> {
        self.option_products_in("live").await
    }

    /// Every expired call and put option (all pages): where a product is found after it has
    /// left the live list, with its `settlement_price`.
    pub async fn expired_option_products(&self) -> Result<Vec<Product>, DeltaError> {
        self.option_products_in("expired").await
    }

    async fn option_products_in(&self, states: &str) -> Result<Vec<Product>, DeltaError> {
        let pairs = [
            ("contract_types", "call_options,put_options"),
            ("states", states),
            ("page_size", "500"),
        ];
        self.get_all("/v2/products", &pairs, false).await
    }

    /// One product by symbol.
    pub async fn product(&self, symbol: &str) -> Result<Product, DeltaError> {
        result(
            self.get(
                &format!("/v2/products/{symbol}"),
                QueryString::default(),
                false,
            )
            .await?,
            "/v2/products",
        )
    }

    /// Option tickers of an underlying, optionally for one expiry date.
    pub async fn tickers(
        &self,
        underlying: &str,
        expiry: Option<NaiveDate>,
    ) -> Result<Vec<Ticker>, DeltaError> {
        Ok(self
            .get("/v2/tickers", tickers_query(underlying, expiry), false)
            .await?
            .result
            .unwrap_or_default())
    }

    /// The quotes of an underlying's option tickers, optionally for one expiry date: the
    /// same quotes as [`DeltaClient::tickers`] converted with
    /// [`crate::convert::quote_of`], read straight from the answer's bytes
    /// ([`crate::scan`]); an answer the fast path leaves alone is decoded the typed way.
    pub async fn ticker_quotes(
        &self,
        underlying: &str,
        expiry: Option<NaiveDate>,
    ) -> Result<Vec<Quote>, DeltaError> {
        let path = "/v2/tickers";
        self.rest
            .call_with(
                Method::GET,
                path,
                &tickers_query(underlying, expiry),
                None,
                false,
                Retry::Safe,
                |status, reset, bytes| {
                    let form = if (200..300).contains(&status) {
                        Form::Envelope
                    } else {
                        Form::TypedOnly
                    };
                    crate::scan::ticker_quotes(bytes, form, || {
                        let env =
                            crate::rest::decode::<Vec<Ticker>>("GET", path, status, reset, bytes)?;
                        Ok(env.result.unwrap_or_default())
                    })
                },
            )
            .await
    }

    /// One ticker.
    pub async fn ticker(&self, symbol: &str) -> Result<Ticker, DeltaError> {
        result(
            self.get(
                &format!("/v2/tickers/{symbol}"),
                QueryString::default(),
                false,
            )
            .await?,
            "/v2/tickers",
        )
    }

    /// The L2 book, `depth` levels per side.
    pub async fn l2_orderbook(&self, symbol: &str, depth: u32) -> Result<L2Orderbook, DeltaError> {
        let d = depth.to_string();
        result(
            self.get(
                &format!("/v2/l2orderbook/{symbol}"),
                QueryString::new([("depth", d.as_str())]),
                false,
            )
            .await?,
            "/v2/l2orderbook",
        )
    }

    /// Places an order without ever creating a duplicate. Any answer that does not prove the
    /// order absent — a timeout, a 5xx, a 2xx whose body cannot be decoded, and a refusal of a
    /// re-send (perhaps as a duplicate client id) — is resolved by looking the order up by
    /// its `client_order_id` before anything else is sent. It is sent again only when Delta
    /// says, in its own words, that no such order exists; when the lookup itself fails the
    /// answer is [`DeltaError::Uncertain`], and the caller must look again rather than send.
    pub async fn place_order(&self, order: &CreateOrder) -> Result<Order, DeltaError> {
        // A client id is required (an order that cannot be looked up could be sent twice)
        // and checked as strangle checks every id it makes.
        let coid = order.client_order_id.as_deref().ok_or_else(|| {
            DeltaError::Invalid("orders need a client_order_id (looking them up needs it)".into())
        })?;
        let coid = strangle_core::ids::ClientOrderId::new(coid)
            .map_err(|e| DeltaError::Invalid(e.to_string()))?;
        let payload = body(order)?;
        let policy = self.rest.policy();
        let mut attempt = 0;
        loop {
            let res = self
                .rest
                .call_as::<Order>(
                    order_priority(order),
                    Method::POST,
                    "/v2/orders",
                    &QueryString::default(),
                    Some(&payload),
                    true,
                    Retry::Never,
                )
                .await;
            let err = match res.and_then(|env| result(env, "/v2/orders")) {
                Ok(o) => return Ok(o),
                Err(e) => e,
            };
            if !err.outcome_unknown() {
                if err.status() == Some(429) && attempt < policy.max_retries {
                    // Not processed: wait for the window, then send again.
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                return Err(err);
            }
            // Did it get through? If so, that is our order. A "not found" right after proves
            // nothing (Delta does not say how soon a new order can be found by its client
            // id, nor whether it refuses a second order with the same one), so the order is
            // looked up again, never sent again: whoever placed it decides, after reads
            // spread over the venue's visibility lag, whether it is absent.
            let mut lookups = 0;
            loop {
                match self.find_placed(&coid).await {
                    Ok(Some(existing)) => return Ok(existing),
                    Ok(None) if lookups < policy.max_retries => {}
                    Ok(None) => {
                        return Err(DeltaError::Uncertain {
                            client_order_id: coid,
                            cause: Box::new(err),
                            lookup: Box::new(DeltaError::NotVisibleYet {
                                lookups: lookups + 1,
                            }),
                        })
                    }
                    Err(lookup) => {
                        tracing::warn!(client_order_id = %coid, error = %lookup, "order lookup failed");
                        return Err(DeltaError::Uncertain {
                            client_order_id: coid,
                            cause: Box::new(err),
                            lookup: Box::new(lookup),
                        });
                    }
                }
                tokio::time::sleep(policy.backoff(lookups)).await;
                lookups += 1;
            }
        }
    }

    /// Looks a just-placed order up by client id (a read, retried over transient failures):
    /// `None` only when Delta says it has no such order.
    async fn find_placed(&self, coid: &str) -> Result<Option<Order>, DeltaError> {
        self.order_by_client_id(coid).await
    }

    /// Cancels an order by id or client id.
    pub async fn cancel_order(&self, cancel: &CancelOrder) -> Result<Order, DeltaError> {
        let payload = body(cancel)?;
        let env = self
            .rest
            .call::<Order>(
                Method::DELETE,
                "/v2/orders",
                &QueryString::default(),
                Some(&payload),
                true,
                Retry::Safe,
            )
            .await?;
        result(env, "/v2/orders")
    }

    /// Cancels every open option order (limit, stop and reduce-only).
    pub async fn cancel_all_options(&self) -> Result<(), DeltaError> {
        let payload = r#"{"contract_types":"call_options,put_options","cancel_limit_orders":"true","cancel_stop_orders":"true","cancel_reduce_only_orders":"true"}"#;
        self.send_json(Method::DELETE, "/v2/orders/all", payload)
            .await
    }

    /// One order by exchange id.
    pub async fn order(&self, id: u64) -> Result<Option<Order>, DeltaError> {
        not_found_is_none(
            self.get(&format!("/v2/orders/{id}"), QueryString::default(), true)
                .await,
        )
    }

    /// One order by client id; `None` if Delta has never seen it.
    pub async fn order_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<Order>, DeltaError> {
        not_found_is_none(
            self.get(
                &format!("/v2/orders/client_order_id/{client_order_id}"),
                QueryString::default(),
                true,
            )
            .await,
        )
    }

    /// The client-id lookup's answer as it came: HTTP status, the body as text, and whether
    /// it says "no such order" in Delta's own words ([`says_order_absent`]). What
    /// `strangle check --orders` prints for an id Delta never saw.
    pub async fn order_lookup_answer(
        &self,
        client_order_id: &str,
    ) -> Result<(u16, String, bool), DeltaError> {
        let path = format!("/v2/orders/client_order_id/{client_order_id}");
        let m = Method::GET.as_str().to_string();
        self.rest
            .call_with(
                Method::GET,
                &path,
                &QueryString::default(),
                None,
                true,
                Retry::Never,
                |status, reset, bytes| {
                    let text = String::from_utf8_lossy(bytes).into_owned();
                    let absent = decode::<serde_json::Value>(&m, &path, status, reset, bytes)
                        .err()
                        .is_some_and(|e| says_order_absent(&e));
                    Ok((status, text, absent))
                },
            )
            .await
    }

    /// Open orders (untriggered stops included), optionally of some products (at most 10
    /// ids), every page.
    pub async fn open_orders(&self, product_ids: &[u64]) -> Result<Vec<Order>, DeltaError> {
        self.orders_in("/v2/orders", product_ids, "100").await
    }

    /// Closed and cancelled orders of some products (at most 10 ids), newest first, every
    /// page.
    pub async fn order_history(&self, product_ids: &[u64]) -> Result<Vec<Order>, DeltaError> {
        self.orders_in("/v2/orders/history", product_ids, "50")
            .await
    }

    async fn orders_in(
        &self,
        path: &str,
        product_ids: &[u64],
        page_size: &str,
    ) -> Result<Vec<Order>, DeltaError> {
        let ids = comma_list(product_ids);
        let mut pairs = vec![("page_size", page_size)];
        if !ids.is_empty() {
            pairs.push(("product_ids", ids.as_str()));
        }
        if path == "/v2/orders" {
            pairs.push(("states", "open,pending"));
        }
        self.get_all(path, &pairs, true).await
    }

    /// Fills of some products since `start` (all pages).
    pub async fn fills(
        &self,
        product_ids: &[u64],
        start: Option<DateTime<Utc>>,
    ) -> Result<Vec<Fill>, DeltaError> {
        let ids = comma_list(product_ids);
        let start = start.map(|t| t.timestamp_micros().to_string());
        let mut pairs = vec![("page_size", "50")];
        if !ids.is_empty() {
            pairs.push(("product_ids", ids.as_str()));
        }
        if let Some(s) = start.as_deref() {
            pairs.push(("start_time", s));
        }
        self.get_all("/v2/fills", &pairs, true).await
    }

    /// Positions of one underlying (`BTC`), one per product.
    pub async fn positions(&self, underlying: &str) -> Result<Vec<Position>, DeltaError> {
        Ok(self
            .get(
                "/v2/positions",
                QueryString::new([("underlying_asset_symbol", underlying)]),
                true,
            )
            .await?
            .result
            .unwrap_or_default())
    }

    /// The position in one product.
    pub async fn position(&self, product_id: u64) -> Result<Position, DeltaError> {
        let id = product_id.to_string();
        result(
            self.get(
                "/v2/positions",
                QueryString::new([("product_id", id.as_str())]),
                true,
            )
            .await?,
            "/v2/positions",
        )
    }

    /// Option positions with margin details.
    pub async fn margined_positions(&self) -> Result<Vec<MarginedPosition>, DeltaError> {
        Ok(self
            .get(
                "/v2/positions/margined",
                QueryString::new([("contract_types", "call_options,put_options")]),
                true,
            )
            .await?
            .result
            .unwrap_or_default())
    }

    /// The wallet's ledger rows since `start` (all pages).
    pub async fn wallet_transactions(
        &self,
        start: DateTime<Utc>,
    ) -> Result<Vec<WalletTransaction>, DeltaError> {
        let start = start.timestamp_micros().to_string();
        let pairs = [("page_size", "50"), ("start_time", start.as_str())];
        self.get_all("/v2/wallet/transactions", &pairs, true).await
    }

    /// Wallet balances.
    pub async fn wallet_balances(&self) -> Result<Vec<WalletBalance>, DeltaError> {
        Ok(self
            .get("/v2/wallet/balances", QueryString::default(), true)
            .await?
            .result
            .unwrap_or_default())
    }

    /// Arms the dead-man switch: Delta cancels open option orders if no heartbeat arrives
    /// within `ttl`. Call [`DeltaClient::heartbeat`] well within `ttl` to keep it armed.
    pub async fn create_heartbeat(
        &self,
        heartbeat_id: &str,
        underlyings: &[&str],
    ) -> Result<(), DeltaError> {
        self.create_heartbeat_with(heartbeat_id, underlyings, crate::deadman::DEFAULT_IMPACT)
            .await
    }

    /// [`Self::create_heartbeat`] with an `impact` of the caller's (Delta's two sources
    /// disagree on its values; see [`crate::deadman::DeadmanConfig::impact`]).
    pub async fn create_heartbeat_with(
        &self,
        heartbeat_id: &str,
        underlyings: &[&str],
        impact: &str,
    ) -> Result<(), DeltaError> {
        let payload = serde_json::json!({
            "heartbeat_id": heartbeat_id,
            "impact": impact,
            "contract_types": ["call_options", "put_options"],
            "underlying_assets": underlyings,
            "config": [{"action": "cancel_orders", "unhealthy_count": 1}],
        });
        self.send_json(Method::POST, "/v2/heartbeat/create", &body(&payload)?)
            .await
    }

    /// The dead-man heartbeats of the account (`GET /v2/heartbeat`), sent with the
    /// `user_id` the swagger requires (read from `GET /v2/profile`).
    pub async fn heartbeats(&self) -> Result<Vec<crate::wire::Heartbeat>, DeltaError> {
        let user = self.user_id().await?;
        Ok(self
            .get(
                "/v2/heartbeat",
                QueryString::new([("user_id", user.as_str())]),
                true,
            )
            .await?
            .result
            .unwrap_or_default())
    }

    /// The account's user id (`GET /v2/profile` → `id`, a number or a string).
    pub async fn user_id(&self) -> Result<String, DeltaError> {
        #[derive(serde::Deserialize)]
        struct User {
            #[serde(default, deserialize_with = "crate::lenient::id_opt")]
            id: Option<String>,
        }
        let env: Envelope<User> = self
            .get("/v2/profile", QueryString::default(), true)
            .await?;
        env.result
            .and_then(|u| u.id)
            .ok_or_else(|| DeltaError::Decode {
                method: "GET".into(),
                path: "/v2/profile".into(),
                message: "no user id in the answer".into(),
            })
    }

    /// The environment this client talks to.
    pub fn environment(&self) -> &Environment {
        self.rest.env()
    }

    /// Keeps the dead-man switch alive for `ttl` (zero disables it); Delta's acknowledgement
    /// says whether it is armed and until when.
    pub async fn heartbeat(
        &self,
        heartbeat_id: &str,
        ttl: Duration,
    ) -> Result<crate::wire::HeartbeatAck, DeltaError> {
        let payload =
            serde_json::json!({"heartbeat_id": heartbeat_id, "ttl": ttl.as_millis() as u64});
        let env: Envelope<crate::wire::HeartbeatAck> = self
            .rest
            .call(
                Method::POST,
                "/v2/heartbeat",
                &QueryString::default(),
                Some(&body(&payload)?),
                true,
                Retry::Safe,
            )
            .await?;
        Ok(env.result.unwrap_or_default())
    }

    /// The simpler dead-man timer: cancel all orders after `after` unless called again.
    pub async fn cancel_after(&self, after: Duration) -> Result<(), DeltaError> {
        let payload = serde_json::json!({"cancel_after": (after.as_millis() as u64).to_string()});
        self.send_json(Method::POST, "/v2/orders/cancel_after", &body(&payload)?)
            .await
    }
}

/// Delta's codes that mean "no such order", with HTTP 404 or 400. Anything else proves
/// nothing about the order: an HTML 404 page from a proxy, `api_key_not_found` (a wrong key),
/// a bare status.
const ORDER_ABSENT: [&str; 3] = ["not_found", "order_not_found", "open_order_not_found"];

/// Whether `e` says the order does not exist, in one of Delta's own words.
pub fn says_order_absent(e: &DeltaError) -> bool {
    matches!(e.status(), Some(400 | 404)) && e.code().is_some_and(|c| ORDER_ABSENT.contains(&c))
}

fn not_found_is_none<T>(r: Result<Envelope<T>, DeltaError>) -> Result<Option<T>, DeltaError> {
    match r {
        Ok(env) => Ok(env.result),
        Err(e) if says_order_absent(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The query of `GET /v2/tickers` for an underlying's options, optionally one expiry date.
fn tickers_query(underlying: &str, expiry: Option<NaiveDate>) -> QueryString {
    let date = expiry.map(|d| d.format("%d-%m-%Y").to_string());
    let mut pairs = vec![
        ("contract_types", "call_options,put_options"),
        ("underlying_asset_symbols", underlying),
    ];
    if let Some(d) = date.as_deref() {
        pairs.push(("expiry_date", d));
    }
    QueryString::new(pairs)
}

/// Ids as Delta's comma list (`1,2,3`).
fn comma_list(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order's own flag decides, not its JSON: the body carries it as the string
    /// `"true"`, which a reading of the JSON as a boolean would miss.
    #[test]
    fn a_reduce_only_order_is_protective_and_an_entry_is_not() {
        let mut order = CreateOrder {
            reduce_only: Some(true),
            ..CreateOrder::default()
        };
        assert!(body(&order)
            .expect("json")
            .contains(r#""reduce_only":"true""#));
        assert_eq!(order_priority(&order), Priority::Protective);
        for flag in [Some(false), None] {
            order.reduce_only = flag;
            assert_eq!(order_priority(&order), Priority::Routine);
        }
    }
}
