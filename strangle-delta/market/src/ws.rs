//! The local server's WebSocket endpoints: `/ws/public` (compact market channels) and `/ws`
//! (key-auth, private channels, heartbeat). Each connection polls the venue every 100 ms and
//! sends what changed since its last frame.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use strangle_core::model::{OptionContract, OrderState, Underlying};
use strangle_core::{Execution, MarketData};
use tokio::time::Instant;

use super::ServerState;
use strangle_delta::sign::verify;
use strangle_delta::wire::ws::{Channel, ObL1Frame, PriceFrame};

const PUBLIC: &[&str] = &["ticker", "ob_l1", "mark_price", "spot_price"];
const PRIVATE: &[&str] = &["orders", "positions", "v2/user_trades"];

pub(crate) async fn public(ws: WebSocketUpgrade, State(st): State<Arc<ServerState>>) -> Response {
    // The generation is read before the upgrade is answered, so a drop ordered after the
    // client saw its connection open always closes it.
    let generation = st.faults.ws_generation();
    ws.on_upgrade(move |s| session(s, st, false, generation))
}

pub(crate) async fn private(ws: WebSocketUpgrade, State(st): State<Arc<ServerState>>) -> Response {
    let generation = st.faults.ws_generation();
    ws.on_upgrade(move |s| session(s, st, true, generation))
}

fn chain_id(c: &OptionContract) -> String {
    format!("{}-{}", c.underlying, c.expiry.format("%d%m%y"))
}

fn matches(symbols: &[String], c: &OptionContract, prefix: &str) -> bool {
    symbols.iter().any(|s| {
        let s = s.strip_prefix(prefix).unwrap_or(s);
        s == "all"
            || c.symbol == s
            || s == chain_id(c)
            || (s == "call_options" && c.symbol.starts_with("C-"))
            || (s == "put_options" && c.symbol.starts_with("P-"))
    })
}

fn typed<T: serde::Serialize>(kind: &str, v: &T) -> String {
    let mut j = serde_json::to_value(v).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut j {
        m.insert("type".into(), Value::String(kind.into()));
    }
    j.to_string()
}

struct Conn {
    st: Arc<ServerState>,
    private: bool,
    authed: bool,
    heartbeat: bool,
    subs: Vec<Channel>,
    sent_ts: HashMap<(String, String), i64>,
    orders_seen: HashMap<strangle_core::ids::ClientOrderId, (OrderState, Decimal)>,
    fills_sent: usize,
    positions_seen: HashMap<String, Decimal>,
    /// Sequence number of the private frames sent on this connection.
    seq: u64,
}

/// One connection, closed when the drop generation moves past `generation`.
async fn session(mut socket: WebSocket, st: Arc<ServerState>, private: bool, generation: u64) {
    let mut c = Conn {
        st: st.clone(),
        private,
        authed: false,
        heartbeat: false,
        subs: Vec::new(),
        sent_ts: HashMap::new(),
        orders_seen: HashMap::new(),
        fills_sent: st.venue.fills().len(),
        positions_seen: HashMap::new(),
        seq: 0,
    };
    let opened = Instant::now();
    let mut heard = false;
    let mut last_hb = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                heard = true;
                for reply in c.on_message(&text).await {
                    if socket.send(Message::Text(reply.into())).await.is_err() {
                        return;
                    }
                }
            }
            _ = tick.tick() => {
                if st.faults.ws_generation() != generation {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                // Delta drops connections that say nothing within 60 s.
                if !heard && opened.elapsed() > Duration::from_secs(60) {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                let mut out = Vec::new();
                if c.heartbeat && last_hb.elapsed() >= st.ws_heartbeat {
                    last_hb = Instant::now();
                    out.push(json!({"type": "heartbeat"}).to_string());
                }
                out.extend(c.market_frames().await);
                if c.authed {
                    out.extend(c.private_frames().await);
                }
                for f in out {
                    if socket.send(Message::Text(f.into())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

impl Conn {
    async fn on_message(&mut self, text: &str) -> Vec<String> {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return vec![json!({"type": "error", "message": "invalid JSON"}).to_string()];
        };
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "ping" => vec![json!({"type": "pong"}).to_string()],
            "enable_heartbeat" => {
                self.heartbeat = true;
                vec![]
            }
            "disable_heartbeat" => {
                self.heartbeat = false;
                vec![]
            }
            "key-auth" => vec![self.auth(v.get("payload").unwrap_or(&Value::Null))],
            "unauth" => {
                self.authed = false;
                self.subs.retain(|c| !PRIVATE.contains(&c.name.as_str()));
                vec![]
            }
            "subscribe" => {
                self.subscribe(v.get("payload").unwrap_or(&Value::Null))
                    .await
            }
            "unsubscribe" => {
                let chans: Vec<Channel> = v
                    .pointer("/payload/channels")
                    .and_then(|c| serde_json::from_value(c.clone()).ok())
                    .unwrap_or_default();
                for ch in chans {
                    match &ch.symbols {
                        None => self.subs.retain(|s| s.name != ch.name),
                        Some(syms) => {
                            for s in self.subs.iter_mut().filter(|s| s.name == ch.name) {
                                if let Some(have) = &mut s.symbols {
                                    have.retain(|x| !syms.contains(x));
                                }
                            }
                        }
                    }
                }
                vec![self.ack(Vec::new())]
            }
            other => vec![
                json!({"type": "error", "message": format!("unknown message type {other:?}")})
                    .to_string(),
            ],
        }
    }

    fn auth(&mut self, p: &Value) -> String {
        let fail = |code: u16, status: &str, msg: &str| {
            json!({"type": "key-auth", "success": false, "status_code": code, "status": status, "message": msg}).to_string()
        };
        if !self.private {
            return fail(400, "not_supported", "authenticate on the private endpoint");
        }
        let (Some(key), Some(sig), Some(ts)) = (
            p.get("api-key").and_then(Value::as_str),
            p.get("signature").and_then(Value::as_str),
            p.get("timestamp").and_then(|t| {
                t.as_str()
                    .map(str::to_string)
                    .or_else(|| t.as_i64().map(|n| n.to_string()))
            }),
        ) else {
            return fail(
                400,
                "incomplete_payload",
                "api-key, signature and timestamp are required",
            );
        };
        let Some(secret) = self.st.accounts.get(key) else {
            return fail(404, "api_key_not_found", "API key not found");
        };
        let now = chrono::Utc::now().timestamp() + self.st.faults.clock_skew();
        if ts.parse::<i64>().map_or(true, |t| (now - t).abs() > 5) {
            return fail(
                408,
                "request_expired",
                "Timestamp header outside of allowed time window",
            );
        }
        if !verify(secret, sig, "GET", &ts, "/live", "", "") {
            return fail(401, "invalid_signature", "Invalid Signature");
        }
        self.authed = true;
        json!({"type": "key-auth", "success": true, "status_code": 200, "status": "authenticated"})
            .to_string()
    }

    fn ack(&self, failed: Vec<Channel>) -> String {
        let mut channels = self.subs.clone();
        channels.extend(failed);
        json!({"type": "subscriptions", "channels": channels}).to_string()
    }

    async fn subscribe(&mut self, p: &Value) -> Vec<String> {
        let chans: Vec<Channel> = p
            .get("channels")
            .and_then(|c| serde_json::from_value(c.clone()).ok())
            .unwrap_or_default();
        let mut failed = Vec::new();
        let mut snapshots = Vec::new();
        for ch in chans {
            let name = ch.name.as_str();
            let err = if PUBLIC.contains(&name) {
                (self.private).then(|| format!("{name} is served on the public endpoint"))
            } else if PRIVATE.contains(&name) {
                if !self.private {
                    Some(format!("{name} is served on the private endpoint"))
                } else if !self.authed {
                    Some(format!(
                        "subscription forbidden on {name}. Unauthorized user"
                    ))
                } else {
                    None
                }
            } else {
                Some(format!("unknown channel {name}"))
            };
            if let Some(e) = err {
                failed.push(Channel {
                    name: ch.name.clone(),
                    symbols: None,
                    error: Some(e),
                });
                continue;
            }
            match name {
                "orders" => snapshots.push(self.orders_snapshot().await),
                "positions" => snapshots.push(self.positions_snapshot().await),
                _ => {}
            }
            match self.subs.iter_mut().find(|s| s.name == ch.name) {
                Some(s) => {
                    let have = s.symbols.get_or_insert_with(Vec::new);
                    for x in ch.symbols.unwrap_or_default() {
                        if !have.contains(&x) {
                            have.push(x);
                        }
                    }
                }
                None => self.subs.push(Channel {
                    name: ch.name,
                    symbols: ch.symbols,
                    error: None,
                }),
            }
        }
        let mut out = vec![self.ack(failed)];
        out.extend(snapshots);
        out
    }

    fn symbols(&self, name: &str) -> Option<&[String]> {
        self.subs
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.symbols.as_deref())
    }

    async fn market_frames(&mut self) -> Vec<String> {
        if self.private || self.st.faults.stale_quotes() && !self.sent_ts.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for u in [Underlying::Btc, Underlying::Eth] {
            let Ok(chain) = self.st.venue.chain(u).await else {
                continue;
            };
            let ts = chain.timestamp.timestamp_micros();
            if let Some(syms) = self.symbols("spot_price") {
                let index = match u {
                    Underlying::Btc => ".DEXBTUSD",
                    Underlying::Eth => ".DEXETHUSD",
                }
                .to_string();
                if syms.iter().any(|s| *s == index || s == "all") && self.newer("spot", &index, ts)
                {
                    out.push(typed(
                        "spot_price",
                        &PriceFrame {
                            sy: index,
                            p: Some(chain.spot),
                            ts: Some(ts),
                        },
                    ));
                }
            }
            for e in &chain.entries {
                let qts = e.quote.timestamp.timestamp_micros();
                let c = &e.contract;
                if self.symbols("ticker").is_some_and(|s| matches(s, c, ""))
                    && self.newer("ticker", &c.symbol, qts)
                {
                    let ivs = super::full::quote_ivs(c, &e.quote);
                    out.push(super::full::ws_ticker(c, &e.quote, ivs));
                }
                if self.symbols("ob_l1").is_some_and(|s| matches(s, c, ""))
                    && self.newer("ob_l1", &c.symbol, qts)
                {
                    let q = &e.quote;
                    let f = ObL1Frame {
                        sy: c.symbol.to_string(),
                        ap: q.ask,
                        ask_size: q.ask.map(|_| q.ask_size),
                        bp: q.bid,
                        bs: q.bid.map(|_| q.bid_size),
                        lts: Some(qts),
                        ts: Some(qts),
                    };
                    out.push(typed("ob_l1", &f));
                }
                if self
                    .symbols("mark_price")
                    .is_some_and(|s| matches(s, c, "MARK:"))
                    && self.newer("mark", &c.symbol, qts)
                {
                    let f = PriceFrame {
                        sy: format!("MARK:{}", c.symbol),
                        p: Some(e.quote.mark),
                        ts: Some(qts),
                    };
                    out.push(typed("mark_price", &f));
                }
            }
        }
        out
    }

    fn newer(&mut self, channel: &str, symbol: &str, ts: i64) -> bool {
        let key = (channel.to_string(), symbol.to_string());
        if self.sent_ts.get(&key).is_some_and(|t| *t >= ts) {
            return false;
        }
        self.sent_ts.insert(key, ts);
        true
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn order_frame(
        &mut self,
        s: &strangle_core::model::OrderStatus,
        action: &str,
        reason: Option<&str>,
    ) -> Option<String> {
        let meta = self.st.orders().by_coid.get(&s.client_order_id).cloned()?;
        let seq = self.next_seq();
        let now = chrono::Utc::now().timestamp_micros();
        Some(super::full::ws_order_update(
            s, &meta, action, reason, seq, now,
        ))
    }

    async fn orders_snapshot(&mut self) -> String {
        // Orders that ended before the subscription are history, not news.
        for s in self.st.venue.all_orders() {
            self.orders_seen
                .insert(s.client_order_id.clone(), (s.state, s.filled_size()));
        }
        let open = self.st.venue.open_orders();
        let mut result = Vec::new();
        for s in &open {
            self.orders_seen
                .insert(s.client_order_id.clone(), (s.state, s.filled_size()));
            if let Some(meta) = self.st.orders().by_coid.get(&s.client_order_id) {
                result.push(super::full::ws_order(s, meta));
            }
        }
        let seq = self.next_seq();
        super::full::ws_orders_snapshot(result, seq, chrono::Utc::now().timestamp_micros())
    }

    /// The contracts by symbol and each underlying's spot (for the positions' margins).
    async fn contracts_and_spots(
        &self,
    ) -> (
        HashMap<strangle_core::ids::Symbol, OptionContract>,
        HashMap<Underlying, Decimal>,
    ) {
        (self.st.contracts_by_symbol(), self.st.spots().await)
    }

    async fn all_positions(&self) -> Vec<strangle_core::model::Position> {
        let mut v = self
            .st
            .venue
            .positions(Underlying::Btc)
            .await
            .unwrap_or_default();
        v.extend(
            self.st
                .venue
                .positions(Underlying::Eth)
                .await
                .unwrap_or_default(),
        );
        v
    }

    async fn positions_snapshot(&mut self) -> String {
        let (contracts, spots) = self.contracts_and_spots().await;
        let now = self.st.clock.now();
        let mut result = Vec::new();
        for p in self.all_positions().await {
            self.positions_seen.insert(p.symbol.to_string(), p.size);
            if let Some(c) = contracts.get(p.symbol.as_str()) {
                let spot = spots.get(&c.underlying).copied().unwrap_or_default();
                result.push(super::full::ws_position(&p, c, spot, now));
            }
        }
        json!({"type": "positions", "action": "snapshot", "success": true, "result": result})
            .to_string()
    }

    async fn private_frames(&mut self) -> Vec<String> {
        // No order entry is half recorded while this looks (see `ServerState::order_entry`).
        let st = self.st.clone();
        let _entry = st.order_entry.lock().await;
        let mut out = Vec::new();
        if self.symbols("orders").is_some() {
            for s in self.st.venue.all_orders() {
                let now = (s.state, s.filled_size());
                let before = self.orders_seen.insert(s.client_order_id.clone(), now);
                if before == Some(now) {
                    continue;
                }
                // A new order is announced (`create`); any fill since the last look is an
                // `update` with reason `fill` (an order filled on arrival gets both).
                let filled_since = now.1 != before.map_or(Decimal::ZERO, |b| b.1);
                let mut events = Vec::new();
                if before.is_none() {
                    events.push(("create", None));
                }
                if filled_since {
                    events.push(("update", Some("fill")));
                } else if before.is_some() {
                    events.push(("update", None));
                }
                for (action, reason) in events {
                    if let Some(f) = self.order_frame(&s, action, reason) {
                        out.push(f);
                    }
                }
            }
        }
        let fills = self.st.venue.fills();
        if self.symbols("v2/user_trades").is_some() {
            // The position after each fill, counted from the fills before it.
            let mut held: HashMap<&str, Decimal> = HashMap::new();
            for (i, f) in fills.iter().enumerate() {
                let signed = match f.side {
                    strangle_core::model::Side::Buy => f.size,
                    strangle_core::model::Side::Sell => -f.size,
                };
                let after = {
                    let h = held.entry(f.symbol.as_str()).or_default();
                    *h += signed;
                    *h
                };
                if i < self.fills_sent {
                    continue;
                }
                let Some(meta) = f
                    .client_order_id
                    .as_ref()
                    .and_then(|c| self.st.orders().by_coid.get(c).cloned())
                else {
                    continue;
                };
                let seq = self.next_seq();
                out.push(super::full::ws_user_trade(f, &meta, after, seq));
            }
        }
        self.fills_sent = fills.len();
        if self.symbols("positions").is_some() {
            let (contracts, spots) = self.contracts_and_spots().await;
            let now: HashMap<String, strangle_core::model::Position> = self
                .all_positions()
                .await
                .into_iter()
                .map(|p| (p.symbol.to_string(), p))
                .collect();
            let mut symbols: Vec<String> = now
                .keys()
                .chain(self.positions_seen.keys())
                .cloned()
                .collect();
            symbols.sort();
            symbols.dedup();
            for sym in symbols {
                let p = now.get(&sym);
                let size = p.map_or(Decimal::ZERO, |p| p.size);
                let before = self.positions_seen.get(&sym).copied();
                if before == Some(size) || (before.is_none() && size.is_zero()) {
                    continue;
                }
                self.positions_seen.insert(sym.clone(), size);
                let action = match (before, size.is_zero()) {
                    (None, _) => "create",
                    (_, true) => "delete",
                    _ => "update",
                };
                let Some(c) = contracts.get(sym.as_str()) else {
                    continue;
                };
                let spot = spots.get(&c.underlying).copied().unwrap_or_default();
                let held = p.filter(|p| !p.size.is_zero()).map(|p| (p, c));
                out.push(super::full::ws_position_update(
                    action,
                    &sym,
                    c.product_id.get(),
                    held,
                    spot,
                ));
            }
        }
        out
    }
}
