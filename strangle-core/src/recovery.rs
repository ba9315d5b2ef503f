//! Recovery: before an engine trades, its ledger is reconciled with what the exchange says
//! really happened to the profile's open session.
//!
//! Every order of a session has a deterministic client id, and the ledger keeps each leg's
//! attempt counters (written before the order is sent), so the orders that may exist are
//! known exactly. Reconciliation asks the exchange about each of them, cancels any that are
//! still working (the strategy will decide afresh), records the fills the ledger missed,
//! rebuilds each leg from the recorded fills and those it added, and then compares the legs
//! with the exchange's positions. If they agree (quantity exactly, entry price within
//! 0.01 %), the session is returned for the strategy to resume; if not, trading is refused
//! with a list of the differences, unless the operator chose to adopt the exchange's state.
//! Running it twice changes nothing the second time.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::audit::EventKind;
use crate::error::{Error, Result};
use crate::exchange::Exchange;
use crate::ids;
use crate::ids::SessionId;
use crate::ledger::{AuditEvent, Ledger, OrderPurpose, SessionRecord};
use crate::model::{Fill, OrderStatus, Side};
use crate::pnl::LegBook;

/// What reconciliation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// The session reconciled, if the profile had an active one.
    pub session_id: Option<SessionId>,
    /// Orders looked up at the exchange.
    pub orders_checked: usize,
    /// Working orders cancelled.
    pub orders_cancelled: usize,
    /// Fills the ledger did not have.
    pub fills_added: usize,
    /// Differences accepted because the operator chose to adopt the exchange's state.
    pub adopted: Vec<String>,
}

/// Largest accepted gap between the ledger's and the exchange's average entry price.
const PRICE_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 4); // 0.0001 = 0.01 %

fn apply(book: &mut LegBook, f: &Fill) {
    match f.side {
        Side::Sell => book.sell(f.size, f.price, f.fee),
        Side::Buy => book.buy(f.size, f.price, f.fee),
    }
}

async fn audit<L: Ledger>(
    ledger: &L,
    s: &SessionRecord,
    now: DateTime<Utc>,
    kind: EventKind,
    detail: String,
) -> Result<()> {
    ledger
        .record_event(&AuditEvent {
            at: now,
            profile: s.profile.clone(),
            session_id: Some(s.session_id.clone()),
            kind,
            detail,
        })
        .await
}

/// Reconciles the profile's active session with the exchange. Returns what was done; the
/// ledger then holds the true state. Errors with [`Error::Engine`] listing every difference
/// when the two disagree and `adopt` is false.
pub async fn reconcile<E: Exchange, L: Ledger>(
    exchange: &E,
    ledger: &L,
    profile: &str,
    adopt: bool,
    now: DateTime<Utc>,
) -> Result<Reconciled> {
    let mut out = Reconciled::default();
    let Some(mut s) = ledger.active_sessions(profile).await?.into_iter().last() else {
        return Ok(out);
    };
    out.session_id = Some(s.session_id.clone());
    // The fills already recorded are money that happened: every leg starts from them, and
    // the exchange's answers only add what the ledger missed (by fill id). A venue that no
    // longer knows the orders (a simulated market that ended with its process, an order
    // history that aged out) never erases a recorded fill.
    let recorded = ledger.session_fills(&s.session_id).await?;
    let mut seen: std::collections::HashSet<String> =
        recorded.iter().map(|f| f.fill_id.clone()).collect();
    let mut books = Vec::with_capacity(s.legs.len());
    let mut venue_stopped = Vec::new();
    // Legs whose venue stop filled while nobody watched.
    let mut stopped_legs = Vec::new();
    // Orders the ledger meant to send that no read of the venue finds.
    let mut unseen = Vec::new();
    let mut settled_now = false;
    for (leg_index, g) in s.legs.iter().enumerate() {
        let mut statuses: Vec<OrderStatus> = Vec::new();
        for (purpose, n) in [
            (OrderPurpose::Entry, g.entry_attempts),
            (OrderPurpose::Exit, g.exit_attempts),
            (OrderPurpose::Stop, g.stop_attempts),
        ] {
            for attempt in 1..=n {
                let id = ids::client_order_id(&s.session_id, g.kind, purpose, attempt);
                out.orders_checked += 1;
                // Not found by client id: the product's other reads are asked before the
                // order is taken as never placed (a new order may not be visible yet).
                let found = match exchange.order(&id).await? {
                    Some(st) => Some(st),
                    None => exchange.find_order(&id, g.product_id).await?,
                };
                let Some(mut st) = found else {
                    unseen.push(id.clone());
                    continue;
                };
                if purpose == OrderPurpose::Stop {
                    // A venue stop keeps protecting its leg: it is left resting (the resumed
                    // strategy adopts or replaces it); one that filled closed the leg.
                    if !st.filled_size().is_zero() {
                        stopped_legs.push(leg_index);
                        venue_stopped.push(format!(
                            "{} bought back {} of {}",
                            st.client_order_id,
                            st.filled_size(),
                            g.symbol
                        ));
                    }
                    ledger.record_order_update(&s.session_id, &st).await?;
                    statuses.push(st);
                    continue;
                }
                if !st.state.is_terminal() {
                    st = match exchange.cancel_order(&id, g.product_id).await {
                        Ok(c) => c,
                        // Filled or cancelled meanwhile: read it again.
                        Err(_) => exchange.order(&id).await?.unwrap_or(st),
                    };
                    if st.state.is_terminal() {
                        out.orders_cancelled += 1;
                    } else {
                        return Err(Error::OrderStillWorking {
                            client_order_id: id.clone(),
                        });
                    }
                }
                ledger.record_order_update(&s.session_id, &st).await?;
                statuses.push(st);
            }
        }
        // The leg as its recorded fills tell it, plus what the exchange's fills and its
        // settlement at expiry add.
        let mut book = LegBook::default();
        for f in recorded.iter().filter(|f| f.symbol == g.symbol) {
            apply(&mut book, f);
        }
        let settled = exchange.settlement_fills(&[g.product()]).await?;
        let venue = statuses.iter().flat_map(|st| st.fills.iter());
        for f in venue.chain(settled.iter()) {
            if f.symbol != g.symbol || !seen.insert(f.fill_id.clone()) {
                continue;
            }
            apply(&mut book, f);
            ledger.record_fill(&s.session_id, f).await?;
            out.fills_added += 1;
            settled_now |= f.client_order_id.is_none();
        }
        books.push(book);
    }

    // Compare every leg with the exchange's position.
    let positions = exchange.positions(s.underlying).await?;
    let mut differences = Vec::new();
    for (g, book) in s.legs.iter().zip(&books) {
        let pos = positions.iter().find(|p| p.symbol == g.symbol);
        let at_exchange = pos.map_or(Decimal::ZERO, |p| -p.size);
        if book.open() != at_exchange {
            differences.push(format!(
                "{}: the fills say {} contracts short, the exchange holds {} short",
                g.symbol,
                book.open(),
                at_exchange
            ));
        } else if let (Some(ours), Some(theirs)) =
            (book.entry_price(), pos.and_then(|p| p.entry_price))
        {
            if book.bought.is_zero()
                && !theirs.is_zero()
                && ((ours - theirs) / theirs).abs() > PRICE_TOLERANCE
            {
                differences.push(format!(
                    "{}: average entry {} here, {} at the exchange",
                    g.symbol,
                    ours.round_dp(8),
                    theirs
                ));
            }
        }
    }
    if !differences.is_empty() && !adopt {
        let e = Error::Mismatch {
            session_id: s.session_id.clone(),
            differences,
            unseen_orders: unseen,
        };
        audit(ledger, &s, now, EventKind::ReconcileRefused, e.to_string()).await?;
        return Err(e);
    }
    // Adopt the exchange's positions where they differ from the fills.
    for (g, book) in s.legs.iter().zip(books.iter_mut()) {
        let pos = positions.iter().find(|p| p.symbol == g.symbol);
        let at_exchange = pos.map_or(Decimal::ZERO, |p| -p.size);
        let gap = at_exchange - book.open();
        if gap > Decimal::ZERO {
            let price = pos
                .and_then(|p| p.entry_price)
                .or(g.mark)
                .unwrap_or_default();
            book.sell(gap, price, Decimal::ZERO);
            out.adopted
                .push(format!("{}: adopted {gap} more short at {price}", g.symbol));
        } else if gap < Decimal::ZERO {
            let price = g.mark.unwrap_or_default();
            book.buy(-gap, price, Decimal::ZERO);
            out.adopted.push(format!(
                "{}: adopted {} fewer short at {price}",
                g.symbol, -gap
            ));
        }
    }
    let mut changed = s.legs.iter().zip(&books).any(|(g, b)| g.book != *b);
    for (g, b) in s.legs.iter_mut().zip(books) {
        g.book = b;
    }
    // Legs that expired while nobody watched were closed by their settlement.
    let active = matches!(
        s.state,
        crate::ledger::SessionState::Open | crate::ledger::SessionState::Exiting
    );
    if settled_now && active {
        s.exit_reason = Some(crate::risk::ExitReason::Settled);
        changed = true;
    }
    // An open strangle that a venue stop hit while nobody watched closes the rest.
    if !venue_stopped.is_empty()
        && s.state == crate::ledger::SessionState::Open
        && s.exit_reason.is_none()
    {
        s.exit_reason = Some(crate::risk::ExitReason::VenueStop);
        // Which legs it hit: a leg policy that keeps the other leg closes only these.
        for &i in &stopped_legs {
            if let Some(g) = s.legs.get_mut(i) {
                g.exit_reason
                    .get_or_insert(crate::risk::ExitReason::VenueStop);
            }
        }
        changed = true;
        let detail = format!(
            "a venue stop fired while strangle was down: {}",
            venue_stopped.join("; ")
        );
        audit(ledger, &s, now, EventKind::VenueStop, detail).await?;
    }
    s.pnl = s.pnl_at_marks();
    if changed {
        ledger.upsert_session(&s).await?;
        let detail = if out.adopted.is_empty() {
            format!(
                "recorded missed fills: {} orders checked",
                out.orders_checked
            )
        } else {
            format!("adopted the exchange's state: {}", out.adopted.join("; "))
        };
        audit(ledger, &s, now, EventKind::Reconciled, detail).await?;
    }
    Ok(out)
}
