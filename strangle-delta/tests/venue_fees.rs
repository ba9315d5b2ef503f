//! Issue 30 E: live and paper engines estimate costs at the fee rates Delta's products carry,
//! not the profile's constants (Delta's published rates have changed by date and site).

mod common;

use std::sync::Arc;

use rust_decimal_macros::dec;
use strangle_core::memory::MemoryLedger;
use strangle_core::model::FeeModel;
use strangle_core::profile::Profile;
use strangle_core::sim::synthetic::SyntheticMarket;
use strangle_delta_market::{LocalServer, MarketSource, ServerConfig};
use strangle_delta_runtime::{Market, RunSpec, RunningEngine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paper_engine_takes_the_fee_rates_from_the_products() {
    let clock = common::clock_from_t0();
    let chain =
        SyntheticMarket::btc().chain(common::t0(), rust_decimal::Decimal::from(82_000), 0.45);
    let venue_fees = FeeModel {
        taker_rate_pct: dec!(0.05),
        maker_rate_pct: dec!(0.04),
        premium_cap_pct: dec!(12.5),
        ..FeeModel::default()
    };
    let server = LocalServer::start(ServerConfig {
        market: MarketSource::Replay(vec![chain]),
        clock,
        fees: venue_fees.clone(),
        ..ServerConfig::default()
    })
    .await
    .expect("server starts");
    let mut profile = Profile::named("fees");
    profile.fees.tax_pct = dec!(5);
    assert_eq!(
        profile.fees.taker_rate_pct,
        dec!(0.03),
        "the profile says otherwise"
    );
    let ledger = Arc::new(MemoryLedger::new());
    let spec = RunSpec::new(
        profile,
        Market::Paper {
            env: server.environment(),
            cash: dec!(10000),
        },
    );
    let running = RunningEngine::start(spec, ledger.clone())
        .await
        .expect("engine starts");
    running.abort();
    let stored = ledger.contents().profiles;
    let fees = &stored.last().expect("the profile the engine ran with").fees;
    assert_eq!(fees.taker_rate_pct, dec!(0.05));
    assert_eq!(fees.maker_rate_pct, dec!(0.04));
    assert_eq!(fees.premium_cap_pct, dec!(12.5));
    assert_eq!(
        fees.tax_pct,
        dec!(5),
        "what the products do not carry stays the profile's"
    );
}
