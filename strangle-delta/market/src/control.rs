//! The fault knobs as data: what `sim-server --fault`, a scenario file and the admin endpoint
//! send to the local market. Each [`FaultSpec`] names one knob of [`Faults`] in Delta-free
//! words (`{"fault": "rate_limit", "path": "/v2/orders", "reset_ms": 2000, "times": 3}`);
//! [`Scenario`] schedules them on the market clock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::faults::{ExistingHeartbeat, FaultKind, FaultRule, Faults, PositionRows};
use crate::MarketError;

/// One knob and its setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case", deny_unknown_fields)]
pub enum Knob {
    /// Matching requests get 429 with `X-RATE-LIMIT-RESET`.
    RateLimit {
        /// Milliseconds until the window resets.
        #[serde(default = "default_reset_ms")]
        reset_ms: u64,
    },
    /// Matching requests get this 5xx status, unprocessed.
    ServerError {
        /// 500–599.
        #[serde(default = "default_5xx")]
        status: u16,
    },
    /// Matching requests are processed, then their answer is held this long.
    SlowAnswer {
        /// Milliseconds.
        ms: u64,
    },
    /// Matching requests are held this long, then answered 503 unprocessed.
    DropRequest {
        /// Milliseconds.
        ms: u64,
    },
    /// Order placements are refused with this Delta error code (HTTP 400).
    RejectOrder {
        /// Delta's code, e.g. `insufficient_margin`.
        #[serde(default = "default_reject_code")]
        code: String,
    },
    /// Matching requests are processed, then answered 200 with an HTML page.
    GarbledAnswer,
    /// Matching requests get this status and raw body, unprocessed.
    Answer {
        /// HTTP status.
        status: u16,
        /// The body, as it is.
        body: String,
    },
    /// Every answer is delayed this long.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// The server's clock for signature checks runs this far ahead (negative: behind).
    ClockSkew {
        /// Seconds.
        secs: i64,
    },
    /// Market data stands still (tickers keep their timestamps and prices).
    StaleQuotes {
        /// On or off.
        #[serde(default = "yes")]
        on: bool,
    },
    /// Every open WebSocket connection is closed now.
    DropWebsockets,
    /// How `POST /v2/heartbeat/create` answers for an id that exists.
    ExistingHeartbeat {
        /// `replace` or `refuse`.
        answer: HeartbeatAnswer,
    },
    /// How position rows name their product.
    PositionRows {
        /// `full`, `id_only` or `size_only`.
        rows: Rows,
    },
    /// `GET /v2/positions/margined` lags behind fills (lists nothing while on).
    MarginedLagging {
        /// On or off.
        #[serde(default = "yes")]
        on: bool,
    },
    /// `GET /v2/products/{symbol}` answers 404 for an expired product.
    ExpiredBySymbolHidden {
        /// On or off.
        #[serde(default = "yes")]
        on: bool,
    },
    /// The dead-man switch cancels untriggered stop orders too (Delta does not say whether
    /// it does).
    DeadmanCancelsStops {
        /// On or off.
        #[serde(default = "yes")]
        on: bool,
    },
    /// The client-id lookup finds a new order only this long (market time) after the venue
    /// took it; the product's order lists show it at once (Delta does not say how soon its
    /// lookup does).
    LookupLag {
        /// Milliseconds.
        ms: u64,
    },
    /// A second order with a client id already used is accepted as a new order (by default
    /// it is refused, `duplicate_client_order_id`).
    DuplicateIdsAccepted {
        /// On or off.
        #[serde(default = "yes")]
        on: bool,
    },
    /// The tax on fees is booked as wallet rows of its own (`gst`) and left out of the fills'
    /// commissions (by default the commissions include it).
    TaxApart {
        /// On or off.
        #[serde(default = "yes")]
        on: bool,
    },
    /// Every rule removed, every knob back to normal.
    Clear,
}

fn default_reset_ms() -> u64 {
    1000
}
fn default_5xx() -> u16 {
    503
}
fn default_reject_code() -> String {
    "insufficient_margin".into()
}
fn yes() -> bool {
    true
}

/// [`ExistingHeartbeat`] in the knobs' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeartbeatAnswer {
    /// 200, the heartbeat takes the new scope.
    Replace,
    /// 400 `heartbeat_already_exists`.
    Refuse,
}

/// [`PositionRows`] in the knobs' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rows {
    /// `product_id` and `product_symbol`.
    Full,
    /// `product_id` only.
    IdOnly,
    /// Size, entry price and timestamp only.
    SizeOnly,
}

impl Knob {
    /// Whether the knob is a rule matched per request (and so takes `method`, `path`,
    /// `times`).
    pub fn is_rule(&self) -> bool {
        matches!(
            self,
            Self::RateLimit { .. }
                | Self::ServerError { .. }
                | Self::SlowAnswer { .. }
                | Self::DropRequest { .. }
                | Self::RejectOrder { .. }
                | Self::GarbledAnswer
                | Self::Answer { .. }
        )
    }

    /// The knob's name, as written in specs (`rate_limit`, ...).
    pub fn name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("fault").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default()
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Self::ServerError { status } if !(500..=599).contains(status) => {
                Err(format!("server_error: status {status} is not a 5xx"))
            }
            Self::Answer { status, .. } if !(100..=599).contains(status) => {
                Err(format!("answer: status {status} is not an HTTP status"))
            }
            Self::RejectOrder { code } if code.trim().is_empty() => {
                Err("reject_order: code is empty".into())
            }
            _ => Ok(()),
        }
    }

    fn rule_kind(&self) -> Option<FaultKind> {
        Some(match self {
            Self::RateLimit { reset_ms } => FaultKind::RateLimit {
                reset_ms: *reset_ms,
            },
            Self::ServerError { status } => FaultKind::ServerError(*status),
            Self::SlowAnswer { ms } => FaultKind::SlowAnswer(Duration::from_millis(*ms)),
            Self::DropRequest { ms } => FaultKind::DropRequest(Duration::from_millis(*ms)),
            Self::RejectOrder { code } => FaultKind::RejectOrder(code.clone()),
            Self::GarbledAnswer => FaultKind::GarbledAnswer,
            Self::Answer { status, body } => FaultKind::Answer {
                status: *status,
                body: body.clone(),
            },
            _ => return None,
        })
    }

    fn of_rule(kind: &FaultKind) -> Self {
        match kind {
            FaultKind::RateLimit { reset_ms } => Self::RateLimit {
                reset_ms: *reset_ms,
            },
            FaultKind::ServerError(status) => Self::ServerError { status: *status },
            FaultKind::SlowAnswer(d) => Self::SlowAnswer { ms: millis(*d) },
            FaultKind::DropRequest(d) => Self::DropRequest { ms: millis(*d) },
            FaultKind::RejectOrder(code) => Self::RejectOrder { code: code.clone() },
            FaultKind::GarbledAnswer => Self::GarbledAnswer,
            FaultKind::Answer { status, body } => Self::Answer {
                status: *status,
                body: body.clone(),
            },
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A knob with, for rules, the requests it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    /// The knob.
    pub knob: Knob,
    /// Rules only: the HTTP method to match (`None`: any; `reject_order`: `POST`).
    pub method: Option<String>,
    /// Rules only: the path prefix to match (`None`: any; `reject_order`: `/v2/orders`).
    pub path: Option<String>,
    /// Rules only: how many requests it applies to (`None`: every one).
    pub times: Option<u32>,
}

impl FaultSpec {
    /// A knob that applies to every request.
    pub fn new(knob: Knob) -> Self {
        Self {
            knob,
            method: None,
            path: None,
            times: None,
        }
    }

    /// Reads a spec from its JSON-like fields (what TOML, JSON and the compact form give).
    pub fn from_map(mut map: Map<String, Value>) -> Result<Self, MarketError> {
        let text =
            |map: &mut Map<String, Value>, key: &str| -> Result<Option<String>, MarketError> {
                match map.remove(key) {
                    None => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s)),
                    Some(other) => Err(MarketError::Invalid(format!(
                        "fault field {key}: expected text, got {other}"
                    ))),
                }
            };
        let method = text(&mut map, "method")?.map(|m| m.to_ascii_uppercase());
        let path = text(&mut map, "path")?;
        let times = match map.remove("times") {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        MarketError::Invalid(format!(
                            "fault field times: expected a count from 1, got {v}"
                        ))
                    })?,
            ),
        };
        if !map.contains_key("fault") {
            return Err(MarketError::Invalid(
                "a fault needs `fault = NAME` (rate_limit, server_error, slow_answer, \
                 drop_request, reject_order, garbled_answer, answer, latency, clock_skew, \
                 stale_quotes, drop_websockets, existing_heartbeat, position_rows, \
                 margined_lagging, expired_by_symbol_hidden, deadman_cancels_stops, lookup_lag, \
                 duplicate_ids_accepted, tax_apart, clear)"
                    .into(),
            ));
        }
        let knob: Knob = serde_json::from_value(Value::Object(map))
            .map_err(|e| MarketError::Invalid(format!("fault: {e}")))?;
        knob.check().map_err(MarketError::Invalid)?;
        if !knob.is_rule() && (method.is_some() || path.is_some() || times.is_some()) {
            return Err(MarketError::Invalid(format!(
                "fault {}: method, path and times apply to request rules only",
                knob.name()
            )));
        }
        Ok(Self {
            knob,
            method,
            path,
            times,
        })
    }

    /// Reads the compact command-line form `NAME[:key=value,...]`
    /// (`rate_limit:path=/v2/orders,reset_ms=2000,times=3`), or a JSON object.
    pub fn parse(s: &str) -> Result<Self, MarketError> {
        let s = s.trim();
        if s.starts_with('{') {
            let v: Value = serde_json::from_str(s)
                .map_err(|e| MarketError::Invalid(format!("fault {s:?}: {e}")))?;
            return match v {
                Value::Object(map) => Self::from_map(map),
                _ => Err(MarketError::Invalid(format!("fault {s:?}: not an object"))),
            };
        }
        let (name, rest) = s.split_once(':').unwrap_or((s, ""));
        let mut map = Map::new();
        map.insert("fault".into(), Value::String(name.trim().replace('-', "_")));
        for pair in rest.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                MarketError::Invalid(format!("fault {s:?}: {pair:?} is not key=value"))
            })?;
            let v = v.trim();
            let value = if let Ok(n) = v.parse::<i64>() {
                Value::from(n)
            } else if let Ok(b) = v.parse::<bool>() {
                Value::Bool(b)
            } else {
                Value::String(v.replace('-', "_").to_string())
            };
            // Paths and bodies keep their dashes.
            let key = k.trim().replace('-', "_");
            let value = match (key.as_str(), value) {
                ("path" | "body" | "code" | "method", _) => Value::String(v.to_string()),
                (_, value) => value,
            };
            if map.insert(key.clone(), value).is_some() {
                return Err(MarketError::Invalid(format!(
                    "fault {s:?}: {key} given twice"
                )));
            }
        }
        Self::from_map(map)
    }

    /// The spec as JSON fields (what [`FaultSpec::from_map`] reads).
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = match serde_json::to_value(&self.knob) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if let Some(m) = &self.method {
            map.insert("method".into(), Value::String(m.clone()));
        }
        if let Some(p) = &self.path {
            map.insert("path".into(), Value::String(p.clone()));
        }
        if let Some(n) = self.times {
            map.insert("times".into(), Value::from(n));
        }
        map
    }
}

impl Serialize for FaultSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

impl<'de> Deserialize<'de> for FaultSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        Self::from_map(map).map_err(serde::de::Error::custom)
    }
}

impl Faults {
    /// Sets the knob a spec names.
    pub fn apply(&self, spec: &FaultSpec) {
        if let Some(kind) = spec.knob.rule_kind() {
            let (method, path) = match (&spec.knob, &spec.method, &spec.path) {
                (Knob::RejectOrder { .. }, None, None) => {
                    (Some("POST".to_string()), Some("/v2/orders".to_string()))
                }
                (_, m, p) => (m.clone(), p.clone()),
            };
            self.add(FaultRule {
                method,
                path_prefix: path,
                kind,
                remaining: spec.times.unwrap_or(u32::MAX),
            });
            return;
        }
        match &spec.knob {
            Knob::Latency { ms } => self.set_latency(Duration::from_millis(*ms)),
            Knob::ClockSkew { secs } => self.set_clock_skew(*secs),
            Knob::StaleQuotes { on } => self.set_stale_quotes(*on),
            Knob::DropWebsockets => self.drop_websockets(),
            Knob::ExistingHeartbeat { answer } => self.set_existing_heartbeat(match answer {
                HeartbeatAnswer::Replace => ExistingHeartbeat::Replace,
                HeartbeatAnswer::Refuse => ExistingHeartbeat::Refuse,
            }),
            Knob::PositionRows { rows } => self.set_position_rows(match rows {
                Rows::Full => PositionRows::Full,
                Rows::IdOnly => PositionRows::IdOnly,
                Rows::SizeOnly => PositionRows::SizeOnly,
            }),
            Knob::MarginedLagging { on } => self.set_margined_lagging(*on),
            Knob::ExpiredBySymbolHidden { on } => self.set_expired_by_symbol_hidden(*on),
            Knob::DeadmanCancelsStops { on } => self.set_deadman_cancels_stops(*on),
            Knob::LookupLag { ms } => self.set_lookup_lag(Duration::from_millis(*ms)),
            Knob::DuplicateIdsAccepted { on } => self.set_duplicate_ids_accepted(*on),
            Knob::TaxApart { on } => self.set_tax_apart(*on),
            Knob::Clear => self.clear(),
            _ => {}
        }
    }

    /// Every knob's setting now.
    pub fn view(&self) -> FaultsView {
        let s = self.snapshot();
        FaultsView {
            rules: s
                .rules
                .iter()
                .map(|r| FaultSpec {
                    knob: Knob::of_rule(&r.kind),
                    method: r.method.clone(),
                    path: r.path_prefix.clone(),
                    times: (r.remaining != u32::MAX).then_some(r.remaining),
                })
                .collect(),
            latency_ms: millis(s.latency),
            clock_skew_secs: s.clock_skew_secs,
            stale_quotes: s.stale_quotes,
            existing_heartbeat: match s.existing_heartbeat {
                ExistingHeartbeat::Replace => HeartbeatAnswer::Replace,
                ExistingHeartbeat::Refuse => HeartbeatAnswer::Refuse,
            },
            position_rows: match s.position_rows {
                PositionRows::Full => Rows::Full,
                PositionRows::IdOnly => Rows::IdOnly,
                PositionRows::SizeOnly => Rows::SizeOnly,
            },
            margined_lagging: s.margined_lagging,
            expired_by_symbol_hidden: s.expired_by_symbol_hidden,
            deadman_cancels_stops: s.deadman_cancels_stops,
            lookup_lag_ms: millis(s.lookup_lag),
            duplicate_ids_accepted: s.duplicate_ids_accepted,
            tax_apart: s.tax_apart,
            hits: s.hits,
        }
    }
}

/// Every knob's setting, as the admin endpoint answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultsView {
    /// Request rules still in force (`times` left; absent: every request).
    pub rules: Vec<FaultSpec>,
    /// Added to every answer.
    pub latency_ms: u64,
    /// Signature clock skew.
    pub clock_skew_secs: i64,
    /// Market data stands still.
    pub stale_quotes: bool,
    /// Answer to creating an existing heartbeat.
    pub existing_heartbeat: HeartbeatAnswer,
    /// How position rows name their product.
    pub position_rows: Rows,
    /// The margined list lags.
    pub margined_lagging: bool,
    /// Expired products are not found by symbol.
    pub expired_by_symbol_hidden: bool,
    /// The dead-man switch cancels untriggered stops too.
    pub deadman_cancels_stops: bool,
    /// How long the client-id lookup takes to find a new order.
    pub lookup_lag_ms: u64,
    /// A reused client id is accepted as a new order.
    pub duplicate_ids_accepted: bool,
    /// The tax on fees is booked apart from the fills' commissions.
    pub tax_apart: bool,
    /// Requests a rule has hit so far.
    pub hits: u64,
}

/// When a scenario step applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// This many market seconds after the server started.
    After(u64),
    /// At this market instant.
    At(DateTime<Utc>),
}

/// One scheduled knob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When.
    pub when: When,
    /// What.
    pub fault: FaultSpec,
}

/// Knobs scheduled on the market clock: a TOML (or JSON) file of `[[step]]` tables, each
/// with `after_secs = N` (market seconds after start) or `at = RFC 3339`, and a fault spec.
///
/// ```
/// use strangle_delta_market::control::Scenario;
/// let s = Scenario::from_value(serde_json::json!({"step": [
///     {"after_secs": 0, "fault": "latency", "ms": 200},
///     {"after_secs": 60, "fault": "rate_limit", "path": "/v2/orders", "times": 3},
/// ]})).unwrap();
/// assert_eq!(s.steps.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scenario {
    /// Steps, in the order they apply.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Reads `{"step": [...]}` (the shape of the TOML file, or JSON).
    pub fn from_value(v: Value) -> Result<Self, MarketError> {
        let Value::Object(mut top) = v else {
            return Err(MarketError::Invalid("scenario: expected a table".into()));
        };
        let steps = match top.remove("step") {
            Some(Value::Array(a)) => a,
            Some(_) => return Err(MarketError::Invalid("scenario: step must be a list".into())),
            None => Vec::new(),
        };
        if let Some(k) = top.keys().next() {
            return Err(MarketError::Invalid(format!(
                "scenario: unknown key {k:?} (only [[step]] tables)"
            )));
        }
        let mut out = Vec::with_capacity(steps.len());
        for (i, s) in steps.into_iter().enumerate() {
            let n = i + 1;
            let Value::Object(mut map) = s else {
                return Err(MarketError::Invalid(format!(
                    "scenario step {n}: not a table"
                )));
            };
            let after = map.remove("after_secs");
            let at = map.remove("at");
            let when = match (after, at) {
                (Some(a), None) => When::After(a.as_u64().ok_or_else(|| {
                    MarketError::Invalid(format!(
                        "scenario step {n}: after_secs must be whole seconds from 0, got {a}"
                    ))
                })?),
                (None, Some(t)) => {
                    let text = t
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| t.to_string());
                    When::At(
                        DateTime::parse_from_rfc3339(&text)
                            .map_err(|e| {
                                MarketError::Invalid(format!(
                                    "scenario step {n}: at {text:?} is not RFC 3339: {e}"
                                ))
                            })?
                            .with_timezone(&Utc),
                    )
                }
                (None, None) => {
                    return Err(MarketError::Invalid(format!(
                        "scenario step {n}: needs after_secs or at"
                    )))
                }
                (Some(_), Some(_)) => {
                    return Err(MarketError::Invalid(format!(
                        "scenario step {n}: after_secs and at are both given"
                    )))
                }
            };
            let fault = FaultSpec::from_map(map)
                .map_err(|e| MarketError::Invalid(format!("scenario step {n}: {e}")))?;
            out.push(Step { when, fault });
        }
        Ok(Self { steps: out })
    }

    /// The steps' market instants for a server started at `start`, in time order (steps at
    /// the same instant keep the file's order).
    pub fn timeline(&self, start: DateTime<Utc>) -> Vec<(DateTime<Utc>, FaultSpec)> {
        let mut t: Vec<_> = self
            .steps
            .iter()
            .map(|s| {
                let at = match s.when {
                    // A step beyond any representable time never comes.
                    When::After(secs) => i64::try_from(secs)
                        .ok()
                        .and_then(chrono::Duration::try_seconds)
                        .and_then(|d| start.checked_add_signed(d))
                        .unwrap_or(DateTime::<Utc>::MAX_UTC),
                    When::At(at) => at,
                };
                (at, s.fault.clone())
            })
            .collect();
        t.sort_by_key(|(at, _)| *at);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compact_form_reads_like_the_json_one() {
        let a = FaultSpec::parse("rate-limit:path=/v2/orders,method=post,reset_ms=2000,times=3")
            .expect("valid");
        let b = FaultSpec::parse(
            r#"{"fault":"rate_limit","path":"/v2/orders","method":"POST","reset_ms":2000,"times":3}"#,
        )
        .expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.knob, Knob::RateLimit { reset_ms: 2000 });
        assert_eq!(a.times, Some(3));
        assert_eq!(
            FaultSpec::parse(&serde_json::to_string(&a).expect("valid")).expect("valid"),
            a
        );
        assert_eq!(
            FaultSpec::parse("stale_quotes").expect("valid").knob,
            Knob::StaleQuotes { on: true }
        );
        assert_eq!(
            FaultSpec::parse("position_rows:rows=size-only")
                .expect("valid")
                .knob,
            Knob::PositionRows {
                rows: Rows::SizeOnly
            }
        );
    }

    #[test]
    fn bad_specs_name_their_problem() {
        for (spec, says) in [
            ("warp_drive", "unknown variant"),
            ("latency", "missing field `ms`"),
            ("latency:ms=5,path=/v2", "request rules only"),
            ("server_error:status=404", "not a 5xx"),
            ("rate_limit:times=0", "times"),
            ("rate_limit:speed=3", "unknown field `speed`"),
            ("slow_answer:ms", "not key=value"),
            ("latency:ms=1,ms=2", "given twice"),
        ] {
            let e = FaultSpec::parse(spec).expect_err("refused").to_string();
            assert!(e.contains(says), "{spec}: {e}");
        }
    }

    #[test]
    fn a_scenario_orders_its_steps_on_the_market_clock() {
        let s = Scenario::from_value(serde_json::json!({"step": [
            {"after_secs": 60, "fault": "clear"},
            {"at": "2026-01-05T04:00:30Z", "fault": "stale_quotes"},
            {"after_secs": 0, "fault": "latency", "ms": 200},
        ]}))
        .expect("valid");
        let start = DateTime::parse_from_rfc3339("2026-01-05T04:00:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        let names: Vec<String> = s
            .timeline(start)
            .iter()
            .map(|(_, f)| f.knob.name())
            .collect();
        assert_eq!(names, ["latency", "stale_quotes", "clear"]);
        // A step too far to represent is scheduled never, not a panic.
        let far = Scenario::from_value(serde_json::json!({"step": [
            {"after_secs": u64::MAX, "fault": "clear"},
        ]}))
        .expect("valid");
        assert_eq!(far.timeline(start)[0].0, DateTime::<Utc>::MAX_UTC);
        for (v, says) in [
            (
                serde_json::json!({"step": [{"fault": "clear"}]}),
                "needs after_secs or at",
            ),
            (serde_json::json!({"stpe": []}), "unknown key"),
            (
                serde_json::json!({"step": [{"at": "soon", "fault": "clear"}]}),
                "not RFC 3339",
            ),
            (
                serde_json::json!({"step": [{"after_secs": -1, "fault": "clear"}]}),
                "whole seconds",
            ),
        ] {
            let e = Scenario::from_value(v).expect_err("refused").to_string();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn applying_a_spec_sets_its_knob_and_the_view_shows_it() {
        let f = Faults::default();
        for s in [
            "rate_limit:path=/v2/orders,times=2",
            "reject_order",
            "latency:ms=150",
            "clock_skew:secs=-30",
            "stale_quotes",
            "existing_heartbeat:answer=refuse",
            "position_rows:rows=id_only",
            "margined_lagging",
            "expired_by_symbol_hidden",
            "deadman_cancels_stops",
            "lookup_lag:ms=3000",
            "duplicate_ids_accepted",
            "tax_apart",
        ] {
            f.apply(&FaultSpec::parse(s).expect("valid"));
        }
        let v = f.view();
        assert_eq!(v.rules.len(), 2);
        assert_eq!(v.rules[0].times, Some(2));
        assert_eq!(v.rules[1].method.as_deref(), Some("POST"));
        assert_eq!(v.rules[1].path.as_deref(), Some("/v2/orders"));
        assert_eq!(v.rules[1].times, None);
        assert_eq!(v.latency_ms, 150);
        assert_eq!(v.clock_skew_secs, -30);
        assert!(v.stale_quotes && v.margined_lagging && v.expired_by_symbol_hidden);
        assert!(v.deadman_cancels_stops);
        assert_eq!(v.lookup_lag_ms, 3000);
        assert!(v.duplicate_ids_accepted);
        assert!(v.tax_apart);
        assert_eq!(v.existing_heartbeat, HeartbeatAnswer::Refuse);
        assert_eq!(v.position_rows, Rows::IdOnly);
        f.apply(&FaultSpec::parse("clear").expect("valid"));
        let v = f.view();
        assert!(v.rules.is_empty() && v.latency_ms == 0 && !v.stale_quotes);
    }
}
