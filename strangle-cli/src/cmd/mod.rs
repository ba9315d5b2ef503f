//! One module per command.

pub mod backtest;
pub mod check;
pub mod check_orders;
pub mod check_report;
pub mod configs;
pub mod record;
pub mod risk;
pub mod run;
pub mod sessions;
pub mod sim_keys;
pub mod sim_server;
pub mod values;
