//! The web dashboard in a real headless browser (Debian's Chromium driven over WebDriver by
//! chromedriver): create a profile with a mistake and see the field error, fix it, activate
//! it, start it on the simulated market, watch it open a strangle, stop it, find the session in
//! history and in analytics. Screenshots of each panel go to `target/screenshots/`.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs them). Override the paths with `STRANGLE_CHROME` and
//! `STRANGLE_CHROMEDRIVER`.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn which(var: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    candidates.iter().find_map(|c| {
        std::env::split_paths(&path)
            .map(|d| d.join(c))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Waits (up to two minutes: the simulated market runs 60× faster than real time) until
/// the element's text satisfies `ok`; returns the text.
async fn wait_text(c: &Client, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    for _ in 0..600 {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if ok(&t) {
                    return t;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{css}: never showed {what}");
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn fill(c: &Client, css: &str, text: &str) {
    let e = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    e.clear().await.expect("clear");
    e.send_keys(text).await.expect("type");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(strangle_browser),
    ignore = "needs Chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn the_dashboard_takes_a_profile_from_a_mistake_to_a_traded_session() {
    let (Some(chrome), Some(driver)) = (
        which(
            "STRANGLE_CHROME",
            &["chromium", "chromium-browser", "google-chrome"],
        ),
        which("STRANGLE_CHROMEDRIVER", &["chromedriver"]),
    ) else {
        panic!(
            "this test needs Chromium and chromedriver: `apt-get install chromium chromium-driver` \
             (Debian; .ci/run does it), or set STRANGLE_CHROME and STRANGLE_CHROMEDRIVER"
        );
    };
    let dir = std::env::temp_dir().join(format!("strangle_browser_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");

    // The server: a token, and a simulated market at 09:29 IST running 60× faster.
    let mut serve = Command::new(assert_cmd::cargo::cargo_bin("strangle"))
        .arg("--ledger")
        .arg(dir.join("ui.db"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sim-start",
            "2026-03-10T03:59:00Z",
            "--sim-speed",
            "60",
        ])
        .env("STRANGLE_API_TOKEN", "ui-token")
        .env_remove("STRANGLE_WEBHOOK_URL")
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(serve.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("text");
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let _serve = Kill(serve);
    let url = first.rsplit(' ').next().expect("url").to_string();

    let port = free_port();
    let _driver = Kill(
        Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chrome,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"],
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver answers");

    // The page asks for the token, then lists no profile.
    c.goto(&format!("{url}/#config"))
        .await
        .expect("open the page");
    fill(&c, "#token-input", "ui-token").await;
    click(&c, "#token-form button[type=submit]").await;
    wait_text(&c, "#profiles tbody", "the empty list", |t| {
        t.contains("No profile yet")
    })
    .await;

    // A profile with a mistake: the band's low end above its high end.
    click(&c, "#new-profile").await;
    fill(&c, "#f-name", "btc-ui").await;
    fill(&c, "#f-contracts_per_leg", "1").await;
    fill(&c, "#f-delta_band-low", "0.3").await;
    fill(&c, "#f-delta_band-high", "0.15").await;
    fill(&c, "#f-liquidity-max_quote_age_secs", "900").await;
    // And an entry gate listing a weekday twice.
    fill(&c, "#f-gates-weekdays", "mon, mon").await;
    click(&c, "#save-profile").await;
    let err = wait_text(
        &c,
        "[data-field='delta_band.low'] .error",
        "a field error",
        |t| !t.is_empty(),
    )
    .await;
    assert!(err.contains("low"), "{err}");
    let err = wait_text(
        &c,
        "[data-field='gates.weekdays'] .error",
        "the gate's error on its field",
        |t| !t.is_empty(),
    )
    .await;
    assert!(err.contains("mon is listed twice"), "{err}");
    shot(&c, "config-field-error").await;
    c.execute(
        "document.querySelector('#f-gates-weekdays').scrollIntoView({block: 'center'})",
        vec![],
    )
    .await
    .expect("scrolled to the gates");
    shot(&c, "config-gates-error").await;

    // Fixed, saved, activated; the gates let every day in but one long past. Late entry on:
    // the server's market runs from 09:29 IST at 60×, so however long the page steps take
    // (a loaded machine), a start before the 15:20 exit still enters.
    fill(&c, "#f-delta_band-low", "0.10").await;
    click(&c, "#f-late_entry").await;
    fill(&c, "#f-gates-weekdays", "mon, tue, wed, thu, fri, sat, sun").await;
    fill(&c, "#f-gates-skip_dates", "2020-01-01 an old event").await;
    click(&c, "#save-profile").await;
    wait_text(&c, "#profiles tbody", "the saved profile", |t| {
        t.contains("btc-ui")
    })
    .await;
    click(&c, "#profiles tbody button:not(.quiet):not(.danger)").await;
    wait_text(&c, "#profiles tbody", "the active tag", |t| {
        t.contains("active")
    })
    .await;
    shot(&c, "config").await;

    // An edit from the form changes what the form shows and keeps what it does not: the exit
    // basis, set through the API, survives a change of contracts made on the page.
    let http = reqwest::Client::new();
    let profiles: serde_json::Value = http
        .get(format!("{url}/api/configs"))
        .bearer_auth("ui-token")
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let id = profiles[0]["id"].as_i64().expect("an id");
    let patched = http
        .patch(format!("{url}/api/configs/{id}"))
        .bearer_auth("ui-token")
        .json(&json!({"exit_basis": {"max_loss": "close_now"}}))
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), 200);
    click(&c, "#profiles tbody button[data-edit]").await;
    wait_text(&c, "#form-title", "the edit form", |t| {
        t.starts_with("Edit")
    })
    .await;
    fill(&c, "#f-contracts_per_leg", "2").await;
    click(&c, "#save-profile").await;
    let mut stored = serde_json::Value::Null;
    for _ in 0..100 {
        stored = http
            .get(format!("{url}/api/configs/{id}"))
            .bearer_auth("ui-token")
            .send()
            .await
            .expect("read")
            .json()
            .await
            .expect("json");
        if stored["profile"]["contracts_per_leg"] == "2" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored["profile"]["contracts_per_leg"], "2", "{stored}");
    assert_eq!(
        stored["profile"]["exit_basis"]["max_loss"], "close_now",
        "{stored}"
    );
    assert_eq!(stored["profile"]["liquidity"]["max_quote_age_secs"], 900);
    assert_eq!(
        stored["profile"]["gates"]["skip_dates"],
        json!([{"date": "2020-01-01", "reason": "an old event"}]),
        "{stored}"
    );
    assert_eq!(stored["profile"]["gates"]["weekdays"][6], "sun", "{stored}");
    assert_eq!(stored["profile"]["late_entry"], true, "{stored}");
    assert_eq!(stored["active"], true);

    // Started on the simulated market; the 09:30 IST window (or, started after it, the late
    // start) opens a strangle.
    click(&c, "#tab-live").await;
    wait_text(&c, "#live-profile", "the profile", |t| t.contains("btc-ui")).await;
    click(&c, "#act-start").await;
    wait_text(&c, "#live-phase", "an open strangle", |t| t == "open").await;
    wait_text(&c, "#legs tbody", "two legs", |t| {
        t.contains("C-BTC") && t.contains("P-BTC")
    })
    .await;
    // Each leg's stop resting at the venue has a column (a price once the venue shows it).
    wait_text(&c, "#legs", "the venue stops", |t| {
        t.contains("Venue stop") && t.lines().filter(|l| l.contains("-BTC-")).count() == 2
    })
    .await;
    c.execute("document.getElementById('legs').scrollIntoView()", vec![])
        .await
        .expect("scroll to the legs");
    shot(&c, "live-legs").await;
    c.execute("window.scrollTo(0, 0)", vec![])
        .await
        .expect("scroll back");
    // The simulated market is read over its REST API: the page says where quotes come from.
    wait_text(&c, "#quote-source", "the quote source", |t| {
        t == "Quotes from rest"
    })
    .await;
    // The header shows the simulated market's time and speed beside the wall clock.
    wait_text(&c, "#sim-clock", "the market clock badge", |t| {
        t.starts_with("Market 10 Mar") && t.ends_with("60×")
    })
    .await;
    // The running session's PnL over time, with its exit levels drawn.
    wait_text(&c, "#pnl-chart .legend", "the PnL chart", |t| {
        t.contains("max loss") && t.contains("max profit")
    })
    .await;
    shot(&c, "live").await;

    // The account risk governor (set through the API, as a script would): a daily loss cap
    // the open strangle's close-now PnL passes at once halts the account. Every panel shows
    // the banner; the strangle is flattened; the operator resets from the page.
    let limits = reqwest::Client::new()
        .put(format!("{url}/api/risk/limits"))
        .bearer_auth("ui-token")
        .json(&json!({"daily_loss_usd": "0.0001"}))
        .send()
        .await
        .expect("limits");
    assert_eq!(limits.status(), 200);
    let text = wait_text(&c, "#risk-text", "the account risk banner", |t| {
        t.contains("HALTED")
    })
    .await;
    assert!(text.contains("daily loss cap"), "{text}");
    wait_text(&c, "#live-phase", "flattened by the governor", |t| {
        t == "waiting"
    })
    .await;
    wait_text(&c, "#entry-hold", "entries held", |t| t.contains("halted")).await;
    shot(&c, "risk-halted").await;
    click(&c, "#risk-reset").await;
    click(&c, "#confirm-yes").await;
    let hidden = async {
        for _ in 0..100 {
            let b = c
                .find(Locator::Css("#risk-banner"))
                .await
                .expect("the banner element");
            if b.attr("hidden").await.expect("attr").is_some() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    };
    assert!(hidden.await, "the reset hides the banner");

    // The profile list says which profile runs, in which mode and phase; its form has a field
    // for every setting, the exit bases and the venue stop included.
    click(&c, "#tab-config").await;
    wait_text(&c, "#profiles [data-running]", "the running tag", |t| {
        t.starts_with("running · sim")
    })
    .await;
    shot(&c, "config-running").await;
    click(&c, "#profiles tbody button[data-edit]").await;
    for path in [
        "exit_basis.max_loss",
        "venue_stop.trigger",
        "fees.settlement_rate_pct",
    ] {
        let id = format!("#f-{}", path.replace('.', "-"));
        c.find(Locator::Css(&id))
            .await
            .unwrap_or_else(|e| panic!("no form field {id}: {e}"));
    }
    click(&c, "#tab-live").await;

    // Stopped: legs flattened, engine stopped.
    click(&c, "#act-stop").await;
    wait_text(&c, "[data-status]", "stopped", |t| t == "stopped").await;

    // History: the session, its legs, orders and fills.
    click(&c, "#tab-history").await;
    click(&c, "#sessions tbody tr[data-session]").await;
    let detail = wait_text(&c, "#session-detail", "the session detail", |t| {
        t.contains("Fills")
    })
    .await;
    assert!(detail.contains("account_risk"), "{detail}");
    assert!(detail.contains("-CE1"), "client order ids shown: {detail}");
    wait_text(
        &c,
        "#session-detail #pnl-chart svg",
        "the session's PnL chart",
        |t| t.contains("IST"),
    )
    .await;
    shot(&c, "history").await;

    // Analytics: one closed session.
    click(&c, "#tab-analytics").await;
    wait_text(&c, "#kpis", "one session", |t| t.contains("Sessions\n1")).await;
    // The figures say which mode they count, and the chart's axis is dated.
    wait_text(&c, "#range-note", "the mode", |t| {
        t.starts_with("Sim sessions")
    })
    .await;
    wait_text(&c, "#charts svg", "a dated axis", |t| t.contains("Mar")).await;
    shot(&c, "analytics").await;
    // Another mode counts nothing (never a mix), and "All" brings the range back.
    c.find(Locator::Css("#range-mode option[value=paper]"))
        .await
        .expect("the paper option")
        .click()
        .await
        .expect("choose paper");
    wait_text(&c, "#kpis", "no paper session", |t| {
        t.contains("Sessions\n0")
    })
    .await;
    wait_text(&c, "#range-note", "the mode", |t| {
        t.starts_with("Paper sessions")
    })
    .await;
    c.find(Locator::Css("#range-mode option[value='']"))
        .await
        .expect("the default option")
        .click()
        .await
        .expect("choose the default");
    click(&c, ".presets button[data-days='']").await;
    wait_text(&c, "#kpis", "one session", |t| t.contains("Sessions\n1")).await;
    shot(&c, "analytics-modes").await;

    // A profile whose band no contract reaches: the live panel says why it does not enter,
    // naming the nearest contracts.
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/api/configs"))
        .bearer_auth("ui-token")
        .json(
            &json!({"name": "narrow-ui", "delta_band": {"low": 0.01, "high": 0.011},
                      "entry_window_minutes": 300, "contracts_per_leg": "1",
                      "liquidity": {"max_quote_age_secs": 900}}),
        )
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("a profile");
    let id = created["id"].as_i64().expect("profile id");
    click(&c, "#tab-live").await;
    wait_text(&c, "#live-profile", "the new profile", |t| {
        t.contains("narrow-ui")
    })
    .await;
    c.execute(
        "const s = document.querySelector('#live-profile'); s.value = String(arguments[0]); \
         s.dispatchEvent(new Event('change'));",
        vec![json!(id)],
    )
    .await
    .expect("select the profile");
    click(&c, "#act-start").await;
    let why = wait_text(&c, "#no-entry", "why it does not enter", |t| {
        t.contains("nearest:")
    })
    .await;
    assert!(why.contains("no |delta| in 0.01–0.011"), "{why}");
    shot(&c, "live-no-entry").await;
    click(&c, "#act-stop").await;
    wait_text(&c, "[data-status]", "stopped", |t| t == "stopped").await;

    // A phone-sized window still shows the live panel.
    c.set_window_size(390, 844).await.expect("resize");
    click(&c, "#tab-live").await;
    wait_text(&c, "[data-status]", "the status", |t| t == "stopped").await;
    shot(&c, "live-phone").await;

    c.close().await.expect("close the browser");
    let _ = std::fs::remove_dir_all(&dir);
}
