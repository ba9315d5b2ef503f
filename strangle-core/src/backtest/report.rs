//! A backtest's report: KPIs, the exit-reason breakdown, daily PnL with Sharpe and Sortino,
//! and four renderings — a terminal table, JSON, CSV (one row per leg) and a standalone HTML
//! page with SVG equity and drawdown curves (no script, no network).
//!
//! Every rendering is a pure function of the result: the same backtest gives byte-identical
//! output.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::BacktestResult;
use crate::analytics::{analyze, Outcomes, Point, Totals};
use crate::audit::EventKind;
use crate::ledger::{SessionRecord, SessionState};
use crate::schedule::ist_date;

/// The headline figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Kpis {
    /// Sessions started.
    pub sessions: usize,
    /// Sessions closed (the KPIs below are over these).
    pub closed: usize,
    /// Sessions still open when the data ended.
    pub open_at_end: usize,
    /// Net, gross and fees of the closed sessions (written as top-level fields).
    #[serde(flatten)]
    pub totals: Totals,
    /// Premium received, USD.
    pub premium: Decimal,
    /// Wins, losses and their averages over the closed sessions (top-level fields).
    #[serde(flatten)]
    pub outcomes: Outcomes,
    /// Largest fall of cumulative net from a peak, USD.
    pub max_drawdown: Decimal,
    /// Mean / standard deviation of daily net PnL × √365 (every IST day of the data counts;
    /// days without a session are 0).
    pub sharpe: Option<f64>,
    /// Mean / downside deviation of daily net PnL × √365.
    pub sortino: Option<f64>,
    /// IST days covered by the data.
    pub days: usize,
}

/// KPIs and series of one backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// Headline figures.
    pub kpis: Kpis,
    /// Closed sessions by exit reason.
    pub exit_reasons: BTreeMap<String, usize>,
    /// Net PnL per IST day of the data (0 on days without a closed session).
    pub daily: Vec<(NaiveDate, Decimal)>,
    /// Cumulative net at each session close.
    pub equity: Vec<Point<Decimal>>,
    /// Cumulative net minus its running peak at each session close.
    pub drawdown: Vec<Point<Decimal>>,
    /// Positions cash-settled at expiry.
    pub settlements: usize,
    /// The oldest index a settlement used, in seconds before its expiry (the data had no
    /// snapshot closer to the settlement instant).
    pub max_settlement_index_age_secs: Option<i64>,
    /// Sessions whose exit had to wait for a fresh quote (an exit rule fired, or the exit
    /// time came, while the legs' quotes were older than the profile's limit).
    pub exits_waited: usize,
    /// The longest of those waits: from the first wait to flat, in seconds.
    pub longest_exit_wait_secs: Option<i64>,
    /// Orders that met only a stale quote at the venue (each counted once).
    pub orders_waited: usize,
    /// Exit fills priced by the model instead of a quote (opt-in).
    pub model_fills: usize,
    /// The entry windows the data covered, and why days without an entry had none.
    #[serde(default)]
    pub entry_days: super::EntryDays,
}

impl Report {
    /// Computes the report of a result.
    pub fn new(r: &BacktestResult) -> Self {
        let a = analyze(&r.sessions, 10, 20);
        let closed: Vec<&SessionRecord> = r
            .sessions
            .iter()
            .filter(|s| s.state == SessionState::Closed)
            .collect();
        let mut exit_reasons = BTreeMap::new();
        for s in &closed {
            let k = s
                .exit_reason
                .map_or("unknown".to_string(), |x| x.to_string());
            *exit_reasons.entry(k).or_insert(0) += 1;
        }
        let waits = exit_waits(r);
        let daily = every_day(r.data.first, r.data.last, &a.daily);
        let (sharpe, sortino) = ratios(&daily);
        Self {
            kpis: Kpis {
                sessions: r.sessions.len(),
                closed: a.sessions,
                open_at_end: r.sessions.iter().filter(|s| s.state.is_active()).count(),
                totals: a.totals,
                premium: closed.iter().map(|s| s.pnl.premium).sum(),
                outcomes: a.outcomes,
                max_drawdown: a.max_drawdown,
                sharpe,
                sortino,
                days: daily.len(),
            },
            exit_reasons,
            daily,
            equity: a.cumulative,
            drawdown: a.drawdown,
            settlements: r.settlements.len(),
            max_settlement_index_age_secs: r
                .settlements
                .iter()
                .map(|s| (s.at - s.index_at).num_seconds())
                .max(),
            exits_waited: waits.len(),
            longest_exit_wait_secs: waits.iter().copied().max(),
            orders_waited: r.quote_stats.orders_waited,
            model_fills: r.quote_stats.model_fills.len(),
            entry_days: r.entry_days.clone(),
        }
    }
}

/// For each session whose exit waited for a fresh quote: seconds from the first wait to the
/// session's close (the end of the run for one still open).
fn exit_waits(r: &BacktestResult) -> Vec<i64> {
    let mut first: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    for e in r.events.iter().filter(|e| e.kind == EventKind::QuoteWait) {
        if let Some(id) = &e.session_id {
            first.entry(id.as_str()).or_insert(e.at);
        }
    }
    r.sessions
        .iter()
        .filter_map(|s| {
            let since = first.get(s.session_id.as_str())?;
            let until = s.closed_at.or(r.data.last)?;
            Some((until - *since).num_seconds().max(0))
        })
        .collect()
}

/// Every IST day from the first to the last data time, with the closed sessions' net.
fn every_day(
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    nets: &[(NaiveDate, Decimal)],
) -> Vec<(NaiveDate, Decimal)> {
    let (Some(a), Some(b)) = (first, last) else {
        return nets.to_vec();
    };
    let by_day: BTreeMap<NaiveDate, Decimal> = nets.iter().copied().collect();
    let (mut d, end) = (ist_date(a), ist_date(b));
    let mut out = Vec::new();
    while d <= end {
        out.push((d, by_day.get(&d).copied().unwrap_or_default()));
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    // A session closed after the data's last day still counts.
    for (day, v) in nets {
        if !out.iter().any(|(d, _)| d == day) {
            out.push((*day, *v));
        }
    }
    out.sort();
    out
}

/// Annualised Sharpe and Sortino of daily PnL (365 days: crypto trades every day).
fn ratios(daily: &[(NaiveDate, Decimal)]) -> (Option<f64>, Option<f64>) {
    let x: Vec<f64> = daily.iter().filter_map(|(_, v)| v.to_f64()).collect();
    if x.len() < 2 {
        return (None, None);
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let down = (x.iter().map(|v| v.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
    let ann = 365f64.sqrt();
    let round = |v: f64| (v * 1e6).round() / 1e6;
    let sharpe = (var > 0.0).then(|| round(mean / var.sqrt() * ann));
    let sortino = (down > 0.0).then(|| round(mean / down * ann));
    (sharpe, sortino)
}

/// `2h 05m` (or `45 s` under a minute).
fn hours_minutes(secs: i64) -> String {
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{}h {:02}m", secs / 3600, secs % 3600 / 60)
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".to_string(), |v| v.to_string())
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

fn leg_cells(s: &SessionRecord, i: usize) -> (String, String, String) {
    match s.legs.get(i) {
        Some(g) => (
            g.strike.to_string(),
            g.entry_delta.map_or("-".into(), |d| format!("{d:.3}")),
            opt(g.book.entry_price().map(|p| p.round_dp(2))),
        ),
        None => ("-".into(), "-".into(), "-".into()),
    }
}

/// The JSON document: data, KPIs, breakdown, daily PnL, curves and every session.
#[derive(Serialize)]
struct JsonReport<'a> {
    profile: &'a crate::profile::Profile,
    data: &'a super::DataStats,
    initial_cash: Decimal,
    final_cash: Decimal,
    #[serde(flatten)]
    report: &'a Report,
    sessions: &'a [SessionRecord],
    settlement_list: &'a [crate::sim::Settlement],
    warnings: &'a [String],
}

impl Report {
    /// A terminal table: one row per session, then the KPIs and the exit reasons.
    pub fn to_table(&self, r: &BacktestResult) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{:<16} {:<16} {:<16} {:>8} {:>7} {:>9} {:>8} {:>7} {:>9} {:<14} {:>11}",
            "session",
            "opened (UTC)",
            "closed (UTC)",
            "call K",
            "call Δ",
            "call px",
            "put K",
            "put Δ",
            "put px",
            "exit",
            "net USD"
        );
        for s in &r.sessions {
            let (ck, cd, cp) = leg_cells(s, 0);
            let (pk, pd, pp) = leg_cells(s, 1);
            let _ = writeln!(
                o,
                "{:<16} {:<16} {:<16} {:>8} {:>7} {:>9} {:>8} {:>7} {:>9} {:<14} {:>11}",
                s.session_id,
                time(Some(s.opened_at)),
                time(s.closed_at),
                ck,
                cd,
                cp,
                pk,
                pd,
                pp,
                s.exit_reason.map_or_else(
                    || format!("{:?}", s.state).to_lowercase(),
                    |x| x.to_string()
                ),
                s.pnl.net.round_dp(4)
            );
        }
        let k = &self.kpis;
        let _ = writeln!(o);
        let rows = [
            (
                "data",
                format!(
                    "{} snapshots, {} quotes, {} to {}",
                    r.data.snapshots,
                    r.data.quotes,
                    time(r.data.first),
                    time(r.data.last)
                ),
            ),
            (
                "sessions",
                format!(
                    "{} ({} closed, {} open at the end)",
                    k.sessions, k.closed, k.open_at_end
                ),
            ),
            ("net", format!("{} USD", k.totals.net.round_dp(4))),
            ("gross", format!("{} USD", k.totals.gross.round_dp(4))),
            ("fees", format!("{} USD", k.totals.fees.round_dp(4))),
            ("premium", format!("{} USD", k.premium.round_dp(4))),
            (
                "win rate",
                format!(
                    "{} % ({} wins, {} losses)",
                    opt(k.outcomes.win_rate_pct.map(|v| v.round_dp(2))),
                    k.outcomes.wins,
                    k.outcomes.losses
                ),
            ),
            (
                "avg win / loss",
                format!(
                    "{} / {} USD",
                    opt(k.outcomes.avg_win.map(|v| v.round_dp(4))),
                    opt(k.outcomes.avg_loss.map(|v| v.round_dp(4)))
                ),
            ),
            (
                "profit factor",
                opt(k.outcomes.profit_factor.map(|v| v.round_dp(3))),
            ),
            (
                "max drawdown",
                format!("{} USD", k.max_drawdown.round_dp(4)),
            ),
            (
                "Sharpe / Sortino",
                format!(
                    "{} / {} (daily, ×√365, {} days)",
                    opt(k.sharpe.map(|v| format!("{v:.3}"))),
                    opt(k.sortino.map(|v| format!("{v:.3}"))),
                    k.days
                ),
            ),
        ];
        for (label, value) in rows {
            let _ = writeln!(o, "{label:<18} {value}");
        }
        let reasons: Vec<String> = self
            .exit_reasons
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(o, "{:<18} {}", "exit reasons", reasons.join(", "));
        let _ = writeln!(o, "{:<18} {}", "entry days", self.entry_days_line());
        if self.settlements > 0 {
            let age = self
                .max_settlement_index_age_secs
                .map_or("–".into(), |s| format!("{:.1} min", s as f64 / 60.0));
            let _ = writeln!(
                o,
                "{:<18} {} (the oldest index used was {age} before its expiry)",
                "settlements", self.settlements
            );
        }
        let _ = writeln!(o, "{:<18} {}", "stale quotes", self.stale_quotes());
        o
    }

    /// The entry windows and why days had no entry, in one line.
    fn entry_days_line(&self) -> String {
        let d = &self.entry_days;
        let mut line = format!(
            "{} windows in the data, entered on {}",
            d.windows, d.entered
        );
        if !d.missed.is_empty() {
            let mut missed: Vec<(&crate::select::NoEntryCause, &usize)> = d.missed.iter().collect();
            missed.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let why: Vec<String> = missed.iter().map(|(c, n)| format!("{n} {c}")).collect();
            line.push_str(&format!("; no entry: {}", why.join(", ")));
        }
        line
    }

    /// What the quote-age rule did, in one line.
    fn stale_quotes(&self) -> String {
        let longest = self
            .longest_exit_wait_secs
            .map_or(String::new(), |s| format!(", longest {}", hours_minutes(s)));
        format!(
            "{} exits waited for a fresh quote{longest}; {} orders waited at the venue; {} fills \
             priced by the model",
            self.exits_waited, self.orders_waited, self.model_fills
        )
    }

    /// The JSON document (pretty-printed).
    pub fn to_json(&self, r: &BacktestResult) -> String {
        serde_json::to_string_pretty(&JsonReport {
            profile: &r.profile,
            data: &r.data,
            initial_cash: r.initial_cash,
            final_cash: r.final_cash,
            report: self,
            sessions: &r.sessions,
            settlement_list: &r.settlements,
            warnings: &r.warnings,
        })
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// One CSV row per leg of every session.
    pub fn legs_csv(r: &BacktestResult) -> String {
        use crate::cells::csv_text;
        let mut o = String::from(
            "session_id,opened_at,closed_at,state,exit_reason,leg,symbol,strike,entry_delta,contracts,entry_price,exit_price,leg_premium,leg_gross,leg_fees,leg_net,session_net,leg_exit_reason\n",
        );
        for s in &r.sessions {
            for g in &s.legs {
                let mark = g.mark.or(g.book.exit_price()).unwrap_or_default();
                let p = g.book.pnl(mark, g.contract_size);
                let _ = writeln!(
                    o,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    csv_text(&s.session_id),
                    s.opened_at.to_rfc3339(),
                    s.closed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    format!("{:?}", s.state).to_lowercase(),
                    s.exit_reason.map(|x| x.to_string()).unwrap_or_default(),
                    g.kind,
                    csv_text(&g.symbol),
                    g.strike,
                    g.entry_delta.map(|d| d.to_string()).unwrap_or_default(),
                    g.book.sold,
                    g.book
                        .entry_price()
                        .map(|v| v.round_dp(8).to_string())
                        .unwrap_or_default(),
                    g.book
                        .exit_price()
                        .map(|v| v.round_dp(8).to_string())
                        .unwrap_or_default(),
                    p.premium,
                    p.gross,
                    p.fees,
                    p.net,
                    s.pnl.net,
                    g.exit_reason.map(|x| x.to_string()).unwrap_or_default()
                );
            }
        }
        o
    }

    /// A standalone HTML page: KPIs, equity and drawdown curves as inline SVG, exit reasons
    /// and sessions. Opens in any browser with no network.
    pub fn to_html(&self, r: &BacktestResult) -> String {
        let k = &self.kpis;
        let mut o = String::new();
        let title = format!("strangle backtest — {}", esc(&r.profile.name));
        let _ = write!(
            o,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>\n\
             :root{{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--mut:#667;--line:#2563eb;--dd:#dc2626;--grid:#ddd}}\n\
             @media (prefers-color-scheme:dark){{:root{{--fg:#e6e6e6;--bg:#14161a;--mut:#99a;--line:#60a5fa;--dd:#f87171;--grid:#333}}}}\n\
             body{{font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:2rem auto;max-width:72rem;padding:0 1rem}}\n\
             table{{border-collapse:collapse;margin:1rem 0}}td,th{{padding:.2rem .6rem;text-align:right;border-bottom:1px solid var(--grid)}}th:first-child,td:first-child{{text-align:left}}\n\
             .kpis{{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.6rem}}.kpi{{border:1px solid var(--grid);border-radius:.4rem;padding:.5rem}}.kpi b{{display:block;font-size:1.2rem}}\n\
             svg{{width:100%;height:auto}}.mut{{color:var(--mut)}}\n</style></head><body>\n<h1>{title}</h1>\n"
        );
        let _ = writeln!(
            o,
            "<p class=\"mut\">{} snapshots, {} contract quotes, {} to {} (UTC). Starting cash {} USD, final {} USD.</p>",
            r.data.snapshots,
            r.data.quotes,
            time(r.data.first),
            time(r.data.last),
            r.initial_cash,
            r.final_cash.round_dp(4)
        );
        o.push_str("<div class=\"kpis\">\n");
        let tiles = [
            ("Net", format!("{} USD", k.totals.net.round_dp(2))),
            ("Gross", format!("{} USD", k.totals.gross.round_dp(2))),
            ("Fees", format!("{} USD", k.totals.fees.round_dp(2))),
            (
                "Sessions",
                format!("{} ({} open)", k.sessions, k.open_at_end),
            ),
            (
                "Win rate",
                format!("{} %", opt(k.outcomes.win_rate_pct.map(|v| v.round_dp(1)))),
            ),
            (
                "Avg win / loss",
                format!(
                    "{} / {}",
                    opt(k.outcomes.avg_win.map(|v| v.round_dp(2))),
                    opt(k.outcomes.avg_loss.map(|v| v.round_dp(2)))
                ),
            ),
            (
                "Profit factor",
                opt(k.outcomes.profit_factor.map(|v| v.round_dp(2))),
            ),
            (
                "Max drawdown",
                format!("{} USD", k.max_drawdown.round_dp(2)),
            ),
            ("Sharpe", opt(k.sharpe.map(|v| format!("{v:.2}")))),
            ("Sortino", opt(k.sortino.map(|v| format!("{v:.2}")))),
        ];
        for (label, value) in tiles {
            let _ = writeln!(o, "<div class=\"kpi\">{label}<b>{}</b></div>", esc(&value));
        }
        o.push_str("</div>\n<h2>Equity (cumulative net, USD)</h2>\n");
        o.push_str(&svg_line(&self.equity, "var(--line)"));
        o.push_str("<h2>Drawdown (USD)</h2>\n");
        o.push_str(&svg_line(&self.drawdown, "var(--dd)"));
        o.push_str("<h2>Exit reasons</h2>\n<table><tr><th>reason</th><th>sessions</th></tr>\n");
        for (reason, n) in &self.exit_reasons {
            let _ = writeln!(o, "<tr><td>{}</td><td>{n}</td></tr>", esc(reason));
        }
        o.push_str("</table>\n");
        let _ = writeln!(o, "<p>Entry days: {}.</p>", esc(&self.entry_days_line()));
        let _ = writeln!(o, "<p>Stale quotes: {}.</p>", esc(&self.stale_quotes()));
        if self.settlements > 0 {
            let _ = writeln!(
                o,
                "<p>Settlements: {}; the oldest index used was {} before its expiry.</p>",
                self.settlements,
                self.max_settlement_index_age_secs
                    .map_or("–".into(), hours_minutes)
            );
        }
        for w in &r.warnings {
            let _ = writeln!(o, "<p class=\"mut\">Warning: {}</p>", esc(w));
        }
        o.push_str("<h2>Sessions</h2>\n<table><tr><th>session</th><th>opened (UTC)</th><th>closed (UTC)</th><th>call K</th><th>call Δ</th><th>put K</th><th>put Δ</th><th>premium</th><th>exit</th><th>net USD</th></tr>\n");
        for s in &r.sessions {
            let (ck, cd, _) = leg_cells(s, 0);
            let (pk, pd, _) = leg_cells(s, 1);
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{ck}</td><td>{cd}</td><td>{pk}</td><td>{pd}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.session_id),
                time(Some(s.opened_at)),
                time(s.closed_at),
                s.pnl.premium.round_dp(4),
                esc(&s.exit_reason.map_or_else(|| format!("{:?}", s.state).to_lowercase(), |x| x.to_string())),
                s.pnl.net.round_dp(4)
            );
        }
        o.push_str("</table>\n</body></html>\n");
        o
    }
}

/// A line chart of `points` as an inline SVG (a flat line when there is one point or none).
fn svg_line(points: &[Point<Decimal>], color: &str) -> String {
    let (w, h, pad) = (800.0, 220.0, 40.0);
    if points.is_empty() {
        return "<p class=\"mut\">no closed session</p>\n".into();
    }
    let xs: Vec<f64> = points.iter().map(|p| p.at.timestamp() as f64).collect();
    let ys: Vec<f64> = points
        .iter()
        .map(|p| p.value.to_f64().unwrap_or(0.0))
        .collect();
    let (x0, x1) = (xs[0], xs[xs.len() - 1]);
    let y0 = ys.iter().copied().fold(0.0f64, f64::min);
    let y1 = ys.iter().copied().fold(0.0f64, f64::max);
    let sx = |x: f64| {
        pad + if x1 > x0 {
            (x - x0) / (x1 - x0) * (w - 2.0 * pad)
        } else {
            0.0
        }
    };
    let sy = |y: f64| {
        h - pad
            - if y1 > y0 {
                (y - y0) / (y1 - y0) * (h - 2.0 * pad)
            } else {
                0.0
            }
    };
    let mut path = String::new();
    for (i, (x, y)) in xs.iter().zip(&ys).enumerate() {
        let _ = write!(
            path,
            "{}{:.1},{:.1}",
            if i == 0 { "M" } else { " L" },
            sx(*x),
            sy(*y)
        );
    }
    format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"chart\">\
         <line x1=\"{pad}\" x2=\"{}\" y1=\"{zero:.1}\" y2=\"{zero:.1}\" stroke=\"var(--grid)\"/>\
         <text x=\"2\" y=\"{:.1}\" fill=\"currentColor\" font-size=\"11\">{:.2}</text>\
         <text x=\"2\" y=\"{:.1}\" fill=\"currentColor\" font-size=\"11\">{:.2}</text>\
         <path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/></svg>\n",
        w - pad,
        sy(y1) + 4.0,
        y1,
        sy(y0) + 4.0,
        y0,
        zero = sy(0.0),
    )
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kpis_are_written_with_the_same_keys_in_the_same_order() {
        let k = Kpis {
            premium: Decimal::ONE,
            totals: Totals {
                net: Decimal::TWO,
                ..Totals::default()
            },
            outcomes: Outcomes {
                wins: 3,
                avg_win: Some(Decimal::TEN),
                ..Outcomes::default()
            },
            sharpe: Some(1.5),
            ..Kpis::default()
        };
        let json = serde_json::to_string(&k).expect("serializes");
        let want = [
            "sessions",
            "closed",
            "open_at_end",
            "net",
            "gross",
            "fees",
            "premium",
            "wins",
            "losses",
            "win_rate_pct",
            "avg_win",
            "avg_loss",
            "profit_factor",
            "max_drawdown",
            "sharpe",
            "sortino",
            "days",
        ];
        assert_eq!(crate::analytics::object_keys(&json), want, "{json}");
        let back: Kpis = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, k);
    }
}
