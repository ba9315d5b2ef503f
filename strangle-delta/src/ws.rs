//! The WebSocket client: public market channels and private account channels, with
//! heartbeats, silence detection, reconnection with backoff, re-authentication,
//! re-subscription, and a REST resync of orders and positions after every reconnect.
//!
//! ```no_run
//! # async fn demo() {
//! use strangle_delta::ws::{WsClient, WsConfig, WsEvent};
//! use strangle_delta::wire::ws::Channel;
//! let mut config = WsConfig::new(strangle_delta::Environment::IndiaProduction, None);
//! config.public.push(Channel { name: "ticker".into(), symbols: Some(vec!["BTC-130326".into()]), error: None });
//! let (mut events, _client) = WsClient::spawn(config, None);
//! while let Some(ev) = events.recv().await {
//!     if let WsEvent::Frame { frame, .. } = ev { println!("{frame:?}"); }
//! }
//! # }
//! ```

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::api::DeltaClient;
use crate::credentials::Credentials;
use crate::env::Environment;
use crate::sign::sign;
use crate::wire::ws::{Channel, Frame};
use crate::wire::{Order, Position};

/// Which socket an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Market data.
    Public,
    /// Account data.
    Private,
}

/// What the client reports.
#[derive(Debug, Clone, PartialEq)]
pub enum WsEvent {
    /// Connected (and authenticated, for the private socket) and subscribed.
    Connected {
        /// Which socket.
        endpoint: Endpoint,
        /// 0 for the first connection, then 1, 2, ...
        reconnects: u32,
    },
    /// The connection ended; a reconnect follows unless the client was stopped.
    Disconnected {
        /// Which socket.
        endpoint: Endpoint,
        /// Why.
        reason: String,
    },
    /// The credentials were refused; the private socket stops trying.
    AuthFailed {
        /// Delta's status, e.g. `invalid_signature`.
        status: String,
    },
    /// A frame from the server.
    Frame {
        /// Which socket.
        endpoint: Endpoint,
        /// The frame.
        frame: Box<Frame>,
        /// When it arrived (for quote age).
        received: Instant,
    },
    /// Orders and positions read over REST after a reconnect (frames may have been missed).
    Resync {
        /// Open orders.
        orders: Vec<Order>,
        /// Positions per underlying asked for.
        positions: Vec<Position>,
    },
}

/// Settings of the WebSocket client.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// Environment.
    pub env: Environment,
    /// Credentials, for the private socket.
    pub creds: Option<Credentials>,
    /// Public channels.
    pub public: Vec<Channel>,
    /// Private channels (need credentials).
    pub private: Vec<Channel>,
    /// Reconnect when nothing arrived for this long (Delta's heartbeat is every 30 s).
    pub silence_timeout: Duration,
    /// Send `ping` this often on the public socket.
    pub ping_every: Duration,
    /// First reconnect delay.
    pub reconnect_base: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// Underlyings whose positions are re-read after a reconnect.
    pub resync_underlyings: Vec<String>,
}

impl WsConfig {
    /// Defaults following Delta's liveness rules (heartbeat 30 s, reconnect after 35 s).
    pub fn new(env: Environment, creds: Option<Credentials>) -> Self {
        Self {
            env,
            creds,
            public: Vec::new(),
            private: Vec::new(),
            silence_timeout: Duration::from_secs(35),
            ping_every: Duration::from_secs(30),
            reconnect_base: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            resync_underlyings: vec!["BTC".into(), "ETH".into()],
        }
    }
}

/// Handle of the running client: stop it, or add subscriptions.
#[derive(Debug)]
pub struct WsClient {
    stop: watch::Sender<bool>,
    add_public: mpsc::UnboundedSender<Vec<Channel>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl WsClient {
    /// Starts the public socket (if it has channels or later gets some) and the private one
    /// (if credentials and private channels are given). `rest` enables the resync.
    pub fn spawn(
        config: WsConfig,
        rest: Option<DeltaClient>,
    ) -> (mpsc::UnboundedReceiver<WsEvent>, Self) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = watch::channel(false);
        let (add_tx, add_rx) = mpsc::unbounded_channel();
        let mut tasks = vec![tokio::spawn(run(
            Endpoint::Public,
            config.clone(),
            None,
            tx.clone(),
            stop_rx.clone(),
            Some(add_rx),
        ))];
        if config.creds.is_some() && !config.private.is_empty() {
            tasks.push(tokio::spawn(run(
                Endpoint::Private,
                config,
                rest,
                tx,
                stop_rx,
                None,
            )));
        }
        (
            rx,
            Self {
                stop: stop_tx,
                add_public: add_tx,
                tasks,
            },
        )
    }

    /// Subscribes the public socket to more channels (kept across reconnects).
    pub fn subscribe_public(&self, channels: Vec<Channel>) {
        let _ = self.add_public.send(channels);
    }

    /// Closes both sockets.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for WsClient {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn subscribe_msg(channels: &[Channel]) -> String {
    json!({"type": "subscribe", "payload": {"channels": channels}}).to_string()
}

fn merge(into: &mut Vec<Channel>, add: Vec<Channel>) {
    for ch in add {
        match into.iter_mut().find(|c| c.name == ch.name) {
            Some(c) => {
                let have = c.symbols.get_or_insert_with(Vec::new);
                for s in ch.symbols.unwrap_or_default() {
                    if !have.contains(&s) {
                        have.push(s);
                    }
                }
            }
            None => into.push(ch),
        }
    }
}

enum End {
    Stopped,
    Retry(String),
    Fatal(String),
}

async fn run(
    endpoint: Endpoint,
    config: WsConfig,
    rest: Option<DeltaClient>,
    tx: mpsc::UnboundedSender<WsEvent>,
    mut stop: watch::Receiver<bool>,
    mut add: Option<mpsc::UnboundedReceiver<Vec<Channel>>>,
) {
    let mut channels = match endpoint {
        Endpoint::Public => config.public.clone(),
        Endpoint::Private => config.private.clone(),
    };
    let mut reconnects = 0u32;
    let mut delay = config.reconnect_base;
    loop {
        if *stop.borrow() {
            return;
        }
        // The public socket waits until it has something to subscribe to.
        if channels.is_empty() {
            if let Some(rx) = add.as_mut() {
                tokio::select! {
                    more = rx.recv() => match more { Some(c) => merge(&mut channels, c), None => return },
                    _ = stop.changed() => return,
                }
                continue;
            }
            return;
        }
        let started = Instant::now();
        let end = connection(
            endpoint,
            &config,
            &mut channels,
            reconnects,
            &rest,
            &tx,
            &mut stop,
            &mut add,
        )
        .await;
        match end {
            End::Stopped => return,
            End::Fatal(status) => {
                let _ = tx.send(WsEvent::AuthFailed { status });
                return;
            }
            End::Retry(reason) => {
                let _ = tx.send(WsEvent::Disconnected { endpoint, reason });
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            delay = config.reconnect_base;
        }
        let jitter: f64 = rand::random_range(0.5..1.5);
        tokio::select! {
            _ = tokio::time::sleep(delay.mul_f64(jitter)) => {}
            _ = stop.changed() => return,
        }
        delay = (delay * 2).min(config.reconnect_max);
        reconnects += 1;
    }
}

#[allow(clippy::too_many_arguments)]
async fn connection(
    endpoint: Endpoint,
    config: &WsConfig,
    channels: &mut Vec<Channel>,
    reconnects: u32,
    rest: &Option<DeltaClient>,
    tx: &mpsc::UnboundedSender<WsEvent>,
    stop: &mut watch::Receiver<bool>,
    add: &mut Option<mpsc::UnboundedReceiver<Vec<Channel>>>,
) -> End {
    let url = match endpoint {
        Endpoint::Public => match config.env.ws_public_url() {
            Some(u) => u,
            None => {
                return End::Fatal(format!(
                    "{} has no documented public WebSocket host: quotes come from REST",
                    config.env
                ))
            }
        },
        Endpoint::Private => config.env.ws_private_url(),
    };
    let (mut ws, _) = match tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(url),
    )
    .await
    {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return End::Retry(format!("connect: {e}")),
        Err(_) => return End::Retry("connect: timed out".into()),
    };
    if endpoint == Endpoint::Private {
        let Some(creds) = &config.creds else {
            return End::Fatal("no credentials".into());
        };
        let ts = chrono::Utc::now().timestamp().to_string();
        let auth = json!({"type": "key-auth", "payload": {
            "api-key": creds.api_key, "signature": sign(&creds.secret, "GET", &ts, "/live", "", ""), "timestamp": ts}});
        if ws.send(Message::text(auth.to_string())).await.is_err() {
            return End::Retry("send failed".into());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let next = tokio::time::timeout_at(deadline, ws.next()).await;
            let Ok(Some(Ok(Message::Text(t)))) = next else {
                return End::Retry("no answer to key-auth".into());
            };
            if let Ok(Frame::KeyAuth(a)) = serde_json::from_str::<Frame>(&t) {
                if a.success {
                    break;
                }
                let status = a.status.unwrap_or_default();
                // An expired timestamp can succeed on the next try; a bad key or signature cannot.
                if a.status_code == Some(408) || a.status_code == Some(500) {
                    return End::Retry(format!("key-auth: {status}"));
                }
                return End::Fatal(status);
            }
        }
        let _ = ws
            .send(Message::text(
                json!({"type": "enable_heartbeat"}).to_string(),
            ))
            .await;
    }
    if ws
        .send(Message::text(subscribe_msg(channels)))
        .await
        .is_err()
    {
        return End::Retry("send failed".into());
    }
    let _ = tx.send(WsEvent::Connected {
        endpoint,
        reconnects,
    });
    if reconnects > 0 && endpoint == Endpoint::Private {
        if let Some(rest) = rest {
            let orders = rest.open_orders(&[]).await.unwrap_or_default();
            let mut positions = Vec::new();
            for u in &config.resync_underlyings {
                positions.extend(rest.positions(u).await.unwrap_or_default());
            }
            let _ = tx.send(WsEvent::Resync { orders, positions });
        }
    }
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval(config.ping_every);
    ping.tick().await;
    loop {
        let silence_at = last_heard + config.silence_timeout;
        let more = async {
            match add.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = ws.next() => {
                last_heard = Instant::now();
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        let frame = Frame::parse(&t).unwrap_or(Frame::Other);
                        let _ = tx.send(WsEvent::Frame { endpoint, frame: Box::new(frame), received: last_heard });
                    }
                    Some(Ok(Message::Close(_))) | None => return End::Retry("closed by the server".into()),
                    Some(Err(e)) => return End::Retry(format!("read: {e}")),
                    Some(Ok(_)) => {}
                }
            }
            _ = tokio::time::sleep_until(silence_at) => return End::Retry("silent for too long".into()),
            _ = ping.tick(), if endpoint == Endpoint::Public => {
                if ws.send(Message::text(json!({"type": "ping"}).to_string())).await.is_err() {
                    return End::Retry("send failed".into());
                }
            }
            c = more => {
                let Some(c) = c else { continue };
                merge(channels, c.clone());
                if ws.send(Message::text(subscribe_msg(&c))).await.is_err() {
                    return End::Retry("send failed".into());
                }
            }
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                return End::Stopped;
            }
        }
    }
}
