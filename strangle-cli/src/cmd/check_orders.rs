//! `strangle check --orders`: one round trip through the order path before money moves.
//!
//! Arms a dead-man heartbeat of its own (so that Delta cancels the test order if this process
//! dies), reads what the client-id lookup answers for an id Delta never saw, places one
//! post-only limit buy of one contract at the lowest price Delta accepts (below the best ask,
//! so it cannot fill), measures how soon it is found by client id, tries a second order with
//! the same client id, cancels the test order by Delta's id, confirms it cancelled. Then the two questions Delta's docs leave open about stop orders:
//! whether an option takes one (a stop buy far above the market, which cannot trigger), and
//! whether the dead-man switch cancels it (a canary limit order and the stop rest while the
//! check's heartbeat lapses; the switch must cancel the canary, and the stop's fate is the
//! answer). It reads positions and recent fills and ties every row to a product, then disarms
//! the heartbeat. Whatever fails, and on Ctrl-C, the clean-up still runs: every order it
//! placed is cancelled (by id, else by client id) and looked for among the open orders, and
//! the heartbeat is disarmed.

use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use strangle_core::model::Underlying;
use strangle_core::Execution;
use strangle_delta::api::DeltaClient;
use strangle_delta::exchange::DeltaExchange;
use strangle_delta::wire::{CancelOrder, CreateOrder, Order, OrderType, Side};

use crate::cmd::check_report::{Outcome, Report};

/// The heartbeat id the check arms and disarms (its own: a profile's is never touched).
pub const HEARTBEAT_ID: &str = "strangle-check";

/// What the clean-up must undo.
#[derive(Debug, Default)]
struct Undo {
    /// The test order's client id, once a placement was attempted.
    client_order_id: Option<String>,
    /// Its product.
    product_id: Option<u64>,
    /// Delta's id of it, once known.
    order_id: Option<u64>,
    /// Confirmed cancelled (nothing left to do for it).
    order_done: bool,
    /// The heartbeat may be armed.
    heartbeat: bool,
    /// The stop probe's orders (the stop and its canary), with Delta's ids once known and
    /// whether each is known to be gone.
    probes: Vec<ProbeOrder>,
}

/// An order of the stop probe.
#[derive(Debug)]
struct ProbeOrder {
    client_order_id: String,
    product_id: u64,
    order_id: Option<u64>,
    done: bool,
}

/// How long past its TTL the check waits for the dead-man switch to fire.
const LAPSE_WAIT: Duration = Duration::from_secs(4);

/// The TTL the check's heartbeat is refreshed with before it is let lapse.
const LAPSE_TTL: Duration = Duration::from_secs(2);

/// The contract and price for the test order.
struct Pick {
    product_id: u64,
    symbol: String,
    price: Decimal,
    /// A trigger the contract cannot reach during the check: the price band's upper limit,
    /// else ten times the mark, and at least twice the mark (on the tick grid).
    unreachable: Decimal,
}

/// Runs the order round trip on `underlying`'s options and adds one line per step to `r`.
pub async fn run(client: &DeltaClient, underlying: Underlying, r: &mut Report) {
    let mut undo = Undo::default();
    let interrupted = {
        let steps = steps(client, underlying, &mut undo, r);
        tokio::select! {
            () = steps => false,
            _ = tokio::signal::ctrl_c() => true,
        }
    };
    if interrupted {
        r.add("interrupted", Outcome::Fail, "Ctrl-C: cleaning up");
    }
    clean_up(client, &undo, r).await;
}

async fn steps(client: &DeltaClient, u: Underlying, undo: &mut Undo, r: &mut Report) {
    // 1. The dead-man switch, armed first: it is the safety net for the test order, so
    //    without it nothing is placed.
    match arm(client, u, &mut undo.heartbeat).await {
        Ok(said) => r.add(
            "dead-man arm",
            Outcome::Pass,
            format!(
                "heartbeat {HEARTBEAT_ID} created for {u} options, refreshed (ttl 30 s) and \
                 listed by GET /v2/heartbeat; {said}"
            ),
        ),
        Err(e) => {
            r.add("dead-man arm", Outcome::Fail, e);
            for step in [
                "order place",
                "order lookup",
                "duplicate id",
                "order cancel",
                "order confirm",
            ] {
                r.add(
                    step,
                    Outcome::Skip,
                    "nothing placed: the dead-man switch that backs the test order is not armed",
                );
            }
            read_back(client, u, r).await;
            return;
        }
    }

    // 2. What the lookup answers for an order Delta never saw (a read: nothing is placed).
    unknown_lookup(client, r).await;

    // 3. The order round trip.
    let pick = match pick(client, u).await {
        Ok(p) => p,
        Err(e) => {
            r.add("order place", Outcome::Fail, e);
            for step in [
                "order lookup",
                "duplicate id",
                "order cancel",
                "order confirm",
            ] {
                r.add(step, Outcome::Skip, "no test order");
            }
            read_back(client, u, r).await;
            return;
        }
    };
    let coid = format!("strangle-check-{}", Utc::now().timestamp_millis());
    undo.client_order_id = Some(coid.clone());
    undo.product_id = Some(pick.product_id);
    let order = resting_buy(&pick, &coid);
    match client.place_order(&order).await {
        Ok(o) => {
            undo.order_id = Some(o.id);
            let outcome = if o.state == "open" || o.state == "pending" {
                Outcome::Pass
            } else {
                Outcome::Fail
            };
            r.add(
                "order place",
                outcome,
                format!(
                    "post-only buy 1 {} @ {} as {coid}: Delta id {}, state {}",
                    pick.symbol, pick.price, o.id, o.state
                ),
            );
        }
        Err(e) => {
            // A definite refusal leaves nothing to clean up; anything else might have placed it.
            undo.order_done = !e.outcome_unknown();
            r.add("order place", Outcome::Fail, e.to_string());
            for step in [
                "order lookup",
                "duplicate id",
                "order cancel",
                "order confirm",
            ] {
                r.add(step, Outcome::Skip, "the order was not placed");
            }
            read_back(client, u, r).await;
            return;
        }
    }
    visibility(client, &coid, undo.order_id, r).await;
    duplicate_id(client, &pick, &coid, undo, r).await;
    match cancel(client, undo).await {
        Ok(o) => r.add(
            "order cancel",
            if o.state == "cancelled" || o.state == "closed" {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            format!("cancelled by Delta id {}: state {}", o.id, o.state),
        ),
        Err(e) => r.add("order cancel", Outcome::Fail, e),
    }
    match client.order_by_client_id(&coid).await {
        Ok(Some(o)) if o.state == "cancelled" && unfilled(&o) => {
            undo.order_done = true;
            r.add("order confirm", Outcome::Pass, "cancelled, nothing filled");
        }
        Ok(Some(o)) => r.add(
            "order confirm",
            Outcome::Fail,
            format!(
                "state {}, {} of 1 unfilled",
                o.state,
                o.unfilled_size.unwrap_or_default()
            ),
        ),
        Ok(None) => r.add(
            "order confirm",
            Outcome::Fail,
            format!("Delta says it has no order {coid}"),
        ),
        Err(e) => r.add("order confirm", Outcome::Fail, e.to_string()),
    }
    if undo.order_done {
        stop_probe(client, &pick, undo, r).await;
    } else {
        for step in ["stop order", "dead-man stop"] {
            r.add(
                step,
                Outcome::Skip,
                "the order round trip did not end cleanly",
            );
        }
    }
    read_back(client, u, r).await;
}

/// Places one probe order; returns its state as Delta answered, or the error.
async fn place_probe(
    client: &DeltaClient,
    order: CreateOrder,
    undo: &mut Undo,
) -> Result<Order, String> {
    let client_order_id = order.client_order_id.clone().unwrap_or_default();
    let i = undo.probes.len();
    undo.probes.push(ProbeOrder {
        client_order_id,
        product_id: order.product_id.unwrap_or_default(),
        order_id: None,
        done: false,
    });
    match client.place_order(&order).await {
        Ok(o) => {
            undo.probes[i].order_id = Some(o.id);
            Ok(o)
        }
        Err(e) => {
            undo.probes[i].done = !e.outcome_unknown();
            Err(e.to_string())
        }
    }
}

/// Whether Delta takes a stop order on an option, and whether its dead-man switch cancels
/// one: a stop buy triggered only far above the market and a canary limit buy rest while the
/// check's heartbeat lapses; the canary must be cancelled (the switch fired), and the stop's
/// state answers. The heartbeat is armed again afterwards.
async fn stop_probe(client: &DeltaClient, pick: &Pick, undo: &mut Undo, r: &mut Report) {
    let stamp = Utc::now().timestamp_millis();
    let stop_id = format!("strangle-check-s{stamp}");
    let canary_id = format!("strangle-check-c{stamp}");
    let stop = CreateOrder {
        product_id: Some(pick.product_id),
        size: 1,
        side: Side::Buy,
        order_type: OrderType::LimitOrder,
        limit_price: Some(pick.unreachable),
        time_in_force: Some("gtc".into()),
        reduce_only: Some(false),
        client_order_id: Some(stop_id.clone()),
        stop_order_type: Some("stop_loss_order".into()),
        stop_price: Some(pick.unreachable),
        stop_trigger_method: Some("mark_price".into()),
        ..Default::default()
    };
    match place_probe(client, stop, undo).await {
        Ok(o) if o.state == "pending" => r.add(
            "stop order",
            Outcome::Pass,
            format!(
                "Delta takes a stop order on {}: stop buy 1 at {} (mark trigger) as {stop_id}, \
                 state pending",
                pick.symbol, pick.unreachable
            ),
        ),
        Ok(o) => r.add(
            "stop order",
            Outcome::Fail,
            format!(
                "stop buy 1 {} at {} as {stop_id}: state {}, not pending",
                pick.symbol, pick.unreachable, o.state
            ),
        ),
        Err(e) => {
            r.add(
                "stop order",
                Outcome::Fail,
                format!(
                    "Delta refused a stop order on {}: {e} (strangle's venue stops would be \
                     refused too; its engines then hold new entries)",
                    pick.symbol
                ),
            );
            r.add("dead-man stop", Outcome::Skip, "no stop order to watch");
            return;
        }
    }
    if let Err(e) = place_probe(client, resting_buy(pick, &canary_id), undo).await {
        r.add(
            "dead-man stop",
            Outcome::Fail,
            format!("the canary order was not placed: {e}"),
        );
        return;
    }
    if let Err(e) = client.heartbeat(HEARTBEAT_ID, LAPSE_TTL).await {
        r.add(
            "dead-man stop",
            Outcome::Fail,
            format!("the heartbeat could not be set to lapse: {e}"),
        );
        return;
    }
    tokio::time::sleep(LAPSE_TTL + LAPSE_WAIT).await;
    let state = |id: &str| {
        let id = id.to_string();
        async move {
            match find(client, &id, pick.product_id).await {
                Ok(Some(o)) => o.state,
                Ok(None) => "not found".to_string(),
                Err(e) => format!("unreadable ({e})"),
            }
        }
    };
    let (canary_state, stop_state) = (state(&canary_id).await, state(&stop_id).await);
    // Armed again for the rest of the check; the clean-up disarms it.
    let _ = client
        .heartbeat(HEARTBEAT_ID, Duration::from_secs(30))
        .await;
    for p in undo.probes.iter_mut() {
        let s = if p.client_order_id == canary_id {
            &canary_state
        } else {
            &stop_state
        };
        p.done |= s == "cancelled";
    }
    let configured = strangle_delta::deadman::cancels_stops_from_env().unwrap_or(false);
    let var = strangle_delta::deadman::CANCELS_STOPS_VAR;
    let waited = (LAPSE_TTL + LAPSE_WAIT).as_secs();
    let (outcome, detail) = match (canary_state.as_str(), stop_state.as_str()) {
        ("cancelled", "pending") => (
            Outcome::Pass,
            format!(
                "the switch fired (the canary limit order was cancelled) and spared the \
                 untriggered stop: venue stops survive a dead process{}",
                if configured {
                    format!("; {var}=yes is not needed (it arms no switch and sends IOC entries)")
                } else {
                    String::new()
                }
            ),
        ),
        ("cancelled", "cancelled") => (
            if configured {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            format!(
                "the switch fired and cancelled the untriggered stop too{}",
                if configured {
                    format!(": {var}=yes is set, so live engines arm no switch")
                } else {
                    format!(
                        ": set {var}=yes before going live, or a dead process loses its \
                         venue stops with its orders"
                    )
                }
            ),
        ),
        (canary, stop) => (
            Outcome::Fail,
            format!(
                "no answer: {waited} s after the heartbeat's {} s TTL the canary is {canary} \
                 and the stop {stop}",
                LAPSE_TTL.as_secs()
            ),
        ),
    };
    r.add("dead-man stop", outcome, detail);
}

/// How long the check looks for its new order by client id before it calls it lost.
const VISIBLE_WAIT: Duration = Duration::from_secs(10);

/// What the client-id lookup answers for an id Delta never saw: its status and body, and
/// whether strangle reads it as "no such order" (otherwise a lost placement could never be
/// proven absent, and its leg would wait on it).
async fn unknown_lookup(client: &DeltaClient, r: &mut Report) {
    let never = format!("strangle-check-never-{}", Utc::now().timestamp_millis());
    match client.order_lookup_answer(&never).await {
        Ok((status, body, true)) => r.add(
            "unknown lookup",
            Outcome::Pass,
            format!("{never}: HTTP {status} {}", one_line(&body)),
        ),
        Ok((status, body, false)) => r.add(
            "unknown lookup",
            Outcome::Fail,
            format!(
                "{never}: HTTP {status} {}: not Delta's \"not found\" as strangle reads it, so \
                 an order whose answer is lost stays unresolved until another read finds it",
                one_line(&body)
            ),
        ),
        Err(e) => r.add("unknown lookup", Outcome::Fail, e.to_string()),
    }
}

/// The time from the placement's answer until the client-id lookup finds the order (Delta
/// does not say how soon it does): strangle takes an unseen order as absent only after
/// `STRANGLE_VISIBILITY_LAG_SECS` (5 s by default) and its other reads agree.
async fn visibility(client: &DeltaClient, coid: &str, placed_id: Option<u64>, r: &mut Report) {
    let start = std::time::Instant::now();
    let mut lookups = 0;
    loop {
        lookups += 1;
        let answer = client.order_by_client_id(coid).await;
        let waited = start.elapsed();
        match answer {
            Ok(Some(o)) if Some(o.id) == placed_id => {
                let lag = strangle_core::engine::ABSENCE_CONFIRM_SECS;
                let var = strangle_delta_runtime::VISIBILITY_LAG_VAR;
                let slow = waited > Duration::from_secs(u64::try_from(lag).unwrap_or(5));
                r.add(
                    "order lookup",
                    if slow { Outcome::Warn } else { Outcome::Pass },
                    format!(
                        "found by client id after {} ms ({lookups} lookups): Delta id {}, \
                         state {}{}",
                        waited.as_millis(),
                        o.id,
                        o.state,
                        if slow {
                            format!(
                                "; longer than strangle's {lag} s visibility lag: set {var} to \
                                 {} or more",
                                waited.as_secs() + 1
                            )
                        } else {
                            String::new()
                        }
                    ),
                );
                return;
            }
            Ok(Some(o)) => {
                r.add(
                    "order lookup",
                    Outcome::Fail,
                    format!(
                        "client id {coid} names Delta id {}, the placement answered {placed_id:?}",
                        o.id
                    ),
                );
                return;
            }
            Ok(None) if waited < VISIBLE_WAIT => {}
            Ok(None) => {
                r.add(
                    "order lookup",
                    Outcome::Fail,
                    format!(
                        "Delta says it has no order {coid} ({lookups} lookups over {} s)",
                        waited.as_secs()
                    ),
                );
                return;
            }
            Err(e) => {
                r.add("order lookup", Outcome::Fail, e.to_string());
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a second order with the client id of one still open gets. strangle never reuses a
/// client id (each attempt has its own); the answer says whether the venue would stop a
/// program that did. An accepted duplicate is cancelled at once (and by the clean-up).
async fn duplicate_id(
    client: &DeltaClient,
    pick: &Pick,
    coid: &str,
    undo: &mut Undo,
    r: &mut Report,
) {
    match place_probe(client, resting_buy(pick, coid), undo).await {
        Err(e) => {
            let answered = undo.probes.last().is_some_and(|p| p.done);
            r.add(
                "duplicate id",
                if answered {
                    Outcome::Pass
                } else {
                    Outcome::Warn
                },
                if answered {
                    format!("a second order as {coid} is refused: {e}")
                } else {
                    format!(
                        "a second order as {coid}: no clear answer ({e}); the clean-up cancels \
                         whatever it left"
                    )
                },
            );
        }
        Ok(o) => {
            let c = CancelOrder {
                id: i64::try_from(o.id).ok(),
                client_order_id: None,
                product_id: Some(pick.product_id),
            };
            if let Ok(done) = client.cancel_order(&c).await {
                if let Some(p) = undo.probes.last_mut() {
                    p.done = done.state == "cancelled";
                }
            }
            r.add(
                "duplicate id",
                Outcome::Warn,
                format!(
                    "a second order as {coid} was accepted (Delta id {}, state {}): Delta does \
                     not refuse a reused client id; strangle never reuses one",
                    o.id, o.state
                ),
            );
        }
    }
}

/// An order by client id, else among its product's open orders and order history (a venue
/// whose lookup lags shows it there first).
async fn find(
    client: &DeltaClient,
    coid: &str,
    product_id: u64,
) -> Result<Option<Order>, strangle_delta::DeltaError> {
    if let Some(o) = client.order_by_client_id(coid).await? {
        return Ok(Some(o));
    }
    let ours = |o: &Order| o.client_order_id.as_deref() == Some(coid);
    if let Some(o) = client
        .open_orders(&[product_id])
        .await?
        .into_iter()
        .find(ours)
    {
        return Ok(Some(o));
    }
    Ok(client
        .order_history(&[product_id])
        .await?
        .into_iter()
        .find(ours))
}

/// A body on one line, at most 200 characters.
fn one_line(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// A post-only buy of one contract of `pick` at its resting price: it cannot fill.
fn resting_buy(pick: &Pick, client_order_id: &str) -> CreateOrder {
    CreateOrder {
        product_id: Some(pick.product_id),
        size: 1,
        side: Side::Buy,
        order_type: OrderType::LimitOrder,
        limit_price: Some(pick.price),
        time_in_force: Some("gtc".into()),
        post_only: Some(true),
        reduce_only: Some(false),
        client_order_id: Some(client_order_id.to_string()),
        ..Default::default()
    }
}

fn unfilled(o: &Order) -> bool {
    o.unfilled_size.is_none_or(|u| u == o.size.unwrap_or(u))
}

/// Creates the heartbeat (with the impact the engines use), refreshes it, reads the
/// acknowledgement and finds it listed; says what Delta acknowledged and echoed back.
/// `created` is set once it may exist (created, or an answer that does not prove it was not).
async fn arm(client: &DeltaClient, u: Underlying, created: &mut bool) -> Result<String, String> {
    let impact = strangle_delta::deadman::impact_from_env();
    let made = client
        .create_heartbeat_with(HEARTBEAT_ID, &[u.as_str()], &impact)
        .await;
    *created = made
        .as_ref()
        .map_or_else(|e| e.outcome_unknown(), |()| true);
    made.map_err(|e| format!("create (impact {impact:?}): {e}"))?;
    let ack = client
        .heartbeat(HEARTBEAT_ID, Duration::from_secs(30))
        .await
        .map_err(|e| format!("refresh: {e}"))?;
    strangle_delta::deadman::check_ack(HEARTBEAT_ID, &ack).map_err(|e| e.to_string())?;
    let listed = client
        .heartbeats()
        .await
        .map_err(|e| format!("list: {e}"))?;
    let Some(beat) = listed.iter().find(|h| h.heartbeat_id == HEARTBEAT_ID) else {
        return Err(format!("GET /v2/heartbeat does not list {HEARTBEAT_ID}"));
    };
    Ok(format!(
        "acknowledged process_enabled true, next expiry {}; sent impact {impact:?}, Delta \
         echoes {}",
        ack.heartbeat_timestamp
            .map_or_else(|| "not given".to_string(), |t| t.to_rfc3339()),
        beat.impact
            .as_deref()
            .map_or_else(|| "no impact".to_string(), |i| format!("{i:?}"))
    ))
}

/// The cheapest listed option of `u` with a price that rests: the lowest price Delta accepts
/// (one tick, or the price band's lower limit), below the best ask and the mark.
async fn pick(client: &DeltaClient, u: Underlying) -> Result<Pick, String> {
    let products = client
        .option_products()
        .await
        .map_err(|e| format!("no products: {e}"))?;
    let tickers = client
        .tickers(u.as_str(), None)
        .await
        .map_err(|e| format!("no tickers: {e}"))?;
    let mut best: Option<(Decimal, Pick)> = None;
    for t in &tickers {
        let Some(p) = products.iter().find(|p| p.symbol == t.symbol) else {
            continue;
        };
        let (Some(tick), Some(mark)) = (p.tick_size.filter(|t| *t > Decimal::ZERO), t.mark_price)
        else {
            continue;
        };
        let floor = t
            .price_band
            .as_ref()
            .and_then(|b| b.lower_limit)
            .unwrap_or(tick);
        let price = ((floor / tick).ceil() * tick).max(tick);
        let ask = t.quotes.as_ref().and_then(|q| q.best_ask);
        if price >= mark || ask.is_some_and(|a| price >= a) {
            continue;
        }
        let unreachable = t
            .price_band
            .as_ref()
            .and_then(|b| b.upper_limit)
            .map_or(mark * Decimal::TEN, |u| u)
            .max(mark * Decimal::TWO);
        let unreachable = ((unreachable / tick).floor() * tick).max(tick);
        if best.as_ref().is_none_or(|(m, _)| mark < *m) {
            best = Some((
                mark,
                Pick {
                    product_id: p.id,
                    symbol: p.symbol.clone(),
                    price,
                    unreachable,
                },
            ));
        }
    }
    best.map(|(_, p)| p)
        .ok_or_else(|| format!("no listed {u} option has a price that would rest unfilled"))
}

/// Cancels the test order by Delta's id when known, else by client id.
async fn cancel(client: &DeltaClient, undo: &Undo) -> Result<Order, String> {
    let c = CancelOrder {
        id: undo.order_id.and_then(|i| i64::try_from(i).ok()),
        client_order_id: match undo.order_id {
            Some(_) => None,
            None => undo.client_order_id.clone(),
        },
        product_id: undo.product_id,
    };
    client.cancel_order(&c).await.map_err(|e| e.to_string())
}

/// Positions and recent fills, each tied to a product.
async fn read_back(client: &DeltaClient, u: Underlying, r: &mut Report) {
    let ex = DeltaExchange::new(client.clone());
    match ex.positions(u).await {
        Ok(v) if v.is_empty() => r.add("positions", Outcome::Pass, format!("no open {u} option")),
        Ok(v) => {
            let rows: Vec<String> = v
                .iter()
                .map(|p| format!("{} {}", p.symbol, p.size))
                .collect();
            r.add(
                "positions",
                Outcome::Pass,
                format!("each row tied to a product: {}", rows.join(", ")),
            );
        }
        Err(e) => r.add("positions", Outcome::Fail, e.to_string()),
    }
    let since = Utc::now() - chrono::Duration::days(7);
    match client.fills(&[], Some(since)).await {
        Ok(fills) => {
            let nameless: Vec<String> = fills
                .iter()
                .filter(|f| f.product_symbol.is_none() && f.product_id.is_none())
                .filter_map(|f| f.id.clone())
                .collect();
            if nameless.is_empty() {
                r.add(
                    "fills",
                    Outcome::Pass,
                    format!("{} in the last 7 days, each names its product", fills.len()),
                );
            } else {
                r.add(
                    "fills",
                    Outcome::Fail,
                    format!("fills naming no product: {}", nameless.join(", ")),
                );
            }
        }
        Err(e) => r.add("fills", Outcome::Fail, e.to_string()),
    }
}

/// Leaves nothing behind: the test order cancelled and not among the open orders, the
/// heartbeat disarmed. One line each.
async fn clean_up(client: &DeltaClient, undo: &Undo, r: &mut Report) {
    // Whether the test order may still be open: then the heartbeat is left to fire.
    let mut left_open = false;
    let probes: Vec<&ProbeOrder> = undo.probes.iter().filter(|p| !p.done).collect();
    if !probes.is_empty() {
        for p in &probes {
            let c = CancelOrder {
                id: p.order_id.and_then(|i| i64::try_from(i).ok()),
                client_order_id: p.order_id.is_none().then(|| p.client_order_id.clone()),
                product_id: Some(p.product_id),
            };
            let _ = client.cancel_order(&c).await;
        }
        match client.open_orders(&[]).await {
            Ok(v) => {
                let open: Vec<&str> = probes
                    .iter()
                    .map(|p| p.client_order_id.as_str())
                    .filter(|id| v.iter().any(|o| o.client_order_id.as_deref() == Some(*id)))
                    .collect();
                if open.is_empty() {
                    r.add(
                        "clean-up probes",
                        Outcome::Pass,
                        "the stop probe's orders are not among the open orders",
                    );
                } else {
                    left_open = true;
                    r.add(
                        "clean-up probes",
                        Outcome::Fail,
                        format!("still open: {}: cancel them by hand", open.join(", ")),
                    );
                }
            }
            Err(e) => {
                left_open = true;
                r.add(
                    "clean-up probes",
                    Outcome::Fail,
                    format!("cannot list open orders to be sure the probes are gone: {e}"),
                );
            }
        }
    }
    if let (Some(coid), false) = (&undo.client_order_id, undo.order_done) {
        // Cancel again (it may never have been, or the answer was lost), then look.
        let _ = cancel(client, undo).await;
        let open = client.open_orders(&[]).await;
        match open {
            Ok(v) if v.iter().any(|o| o.client_order_id.as_deref() == Some(coid)) => {
                left_open = true;
                r.add(
                    "clean-up order",
                    Outcome::Fail,
                    format!(
                        "{coid} (Delta id {}) is still open: cancel it by hand",
                        undo.order_id
                            .map_or_else(|| "unknown".to_string(), |i| i.to_string())
                    ),
                );
            }
            Ok(_) => r.add(
                "clean-up order",
                Outcome::Pass,
                format!("{coid} is not among the open orders"),
            ),
            Err(e) => {
                left_open = true;
                r.add(
                    "clean-up order",
                    Outcome::Fail,
                    format!("cannot list open orders to be sure {coid} is gone: {e}"),
                );
            }
        }
    }
    if undo.heartbeat && left_open {
        r.add(
            "dead-man disarm",
            Outcome::Fail,
            format!(
                "{HEARTBEAT_ID} left armed on purpose: unless refreshed, Delta cancels the \
                 orders in its scope (the test order with them) 30 s after its last refresh"
            ),
        );
    } else if undo.heartbeat {
        match client.heartbeat(HEARTBEAT_ID, Duration::ZERO).await {
            Ok(_) => r.add(
                "dead-man disarm",
                Outcome::Pass,
                format!("{HEARTBEAT_ID} disarmed (ttl 0)"),
            ),
            Err(e) => r.add(
                "dead-man disarm",
                Outcome::Fail,
                format!(
                    "{HEARTBEAT_ID} may still be armed: {e} (if it is, Delta cancels the \
                     orders in its scope 30 s after its last refresh)"
                ),
            ),
        }
    }
}
