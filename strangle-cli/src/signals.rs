//! Stopping on a signal: the first SIGINT (Ctrl-C) or SIGTERM (what `systemctl stop`,
//! `docker stop` and `kill` send) stops the engines, flattening open legs; a second signal,
//! or the stop deadline passing first, ends the process at once with every open leg named.

use std::time::Duration;

use strangle_core::strategy::Status;

use crate::error::CliError;

/// Seconds a stop may take after the first signal before the process ends anyway
/// (`--stop-deadline`).
pub const STOP_DEADLINE_SECS: u64 = 60;

/// SIGINT and SIGTERM, listened for from the moment this is created.
pub struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts listening (a signal before this ends the process the default way).
    pub fn listen() -> Result<Self, CliError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let e = |e: std::io::Error| CliError::Failed(format!("cannot listen for signals: {e}"));
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).map_err(e)?,
                terminate: signal(SignalKind::terminate()).map_err(e)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// The next SIGINT or SIGTERM, by name; `None` if none can come any more.
    pub async fn next(&mut self) -> Option<&'static str> {
        #[cfg(unix)]
        {
            tokio::select! {
                s = self.interrupt.recv() => s.map(|()| "SIGINT"),
                s = self.terminate.recv() => s.map(|()| "SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.ok().map(|()| "Ctrl-C")
        }
    }

    /// Waits for a second signal or the deadline, whichever comes first, and says which.
    pub async fn second_or(&mut self, deadline: Duration) -> String {
        tokio::select! {
            s = self.next() => match s {
                Some(name) => format!("a second {name}"),
                None => "the signals ending".into(),
            },
            () = tokio::time::sleep(deadline) => {
                format!("the {} s stop deadline", deadline.as_secs())
            }
        }
    }
}

/// The open legs of an engine's state, as `SYMBOL short N` (empty when flat).
pub fn open_legs(s: &Status) -> Vec<String> {
    s.legs
        .iter()
        .filter(|g| !g.open.is_zero())
        .map(|g| format!("{} short {}", g.symbol, g.open))
        .collect()
}

/// What to print when the process ends before its engines stopped: each profile's open legs
/// (or that none is open), prefixed by why.
pub fn abandoned(why: &str, engines: &[Status]) -> String {
    let mut lines = vec![format!("exiting NOW after {why}")];
    for s in engines {
        let open = open_legs(s);
        lines.push(if open.is_empty() {
            format!("  {}: no open legs ({})", s.profile, phase_name(s))
        } else {
            format!(
                "  {}: OPEN LEGS {} ({}; reconciled at the next start)",
                s.profile,
                open.join(", "),
                phase_name(s)
            )
        });
    }
    lines.join("\n")
}

fn phase_name(s: &Status) -> String {
    format!("{:?}", s.phase).to_lowercase()
}
