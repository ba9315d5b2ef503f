//! Helpers shared by the binary's process tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Child;

use chrono::{DateTime, TimeZone, Utc};

/// Tuesday 10 March 2026, 09:30 IST (04:00 UTC): the default profile's entry time. Tests that
/// run an engine fix the market's clock here (or at a chosen offset from it), never at "now",
/// so they decide the same way whatever the hour they run at.
pub fn entry_0930_ist() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 4, 0, 0)
        .single()
        .expect("a valid instant")
}

/// A child process that is killed and reaped when dropped, so a failing test (a panic or an
/// early return included) leaves nothing running.
pub struct Proc(pub Child);

impl Proc {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn interrupt(&self) {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
    }

    /// Kills the process and waits for it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Proc {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Proc {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct Dir(PathBuf);

impl Dir {
    pub fn new(tag: &str) -> Self {
        let d = std::env::temp_dir().join(format!("strangle_cli_{tag}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        Self(d)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn ledger(&self) -> String {
        self.path("ledger.db").display().to_string()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `strangle sim-server` on a free loopback port with its market clock at 09:30 IST on 10
/// March 2026 ([`entry_0930_ist`]) and the demo credentials. Returns the process, its base URL
/// and the rest of its banner (its output is drained after that).
pub fn sim_server() -> (Proc, String, Vec<String>) {
    sim_server_with(&[])
}

/// [`sim_server`] with more arguments (`--misbehave reject-orders`, ...).
pub fn sim_server_with(args: &[&str]) -> (Proc, String, Vec<String>) {
    sim_server_env(args, &[])
}

/// [`sim_server_with`] with environment variables set (`STRANGLE_SIM_ADMIN_TOKEN`, ...).
/// The market starts at 09:30 IST unless `args` give `--start` or `--replay`.
pub fn sim_server_env(args: &[&str], env: &[(&str, &str)]) -> (Proc, String, Vec<String>) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let start = entry_0930_ist().to_rfc3339();
    let own_start = args.iter().any(|a| *a == "--start" || *a == "--replay");
    let mut p = Proc(
        Command::new(env!("CARGO_BIN_EXE_strangle"))
            .args(["sim-server", "--port", "0"])
            .args(if own_start {
                vec![]
            } else {
                vec!["--start", &start]
            })
            .args(args)
            .env_remove("STRANGLE_SIM_API_KEY")
            .env_remove("STRANGLE_SIM_API_SECRET")
            .env_remove("STRANGLE_SIM_ADMIN_TOKEN")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sim-server starts"),
    );
    let mut lines = BufReader::new(p.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("text");
    let url = first.rsplit(' ').next().expect("url").to_string();
    // The banner is written at once and ends with "Ctrl-C stops it.".
    let mut banner = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let last = line.starts_with("Ctrl-C");
        banner.push(line);
        if last {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (p, url, banner)
}

/// `strangle serve` on a free loopback port with its ledger in `dir`, the API token set and
/// notifications off (stdout drained, stderr dropped). Returns the process and its base URL.
pub fn serve(dir: &Dir, token: &str, args: &[&str]) -> (Proc, String) {
    serve_on(&dir.ledger(), token, args)
}

/// [`serve`] on any ledger location (a SQLite file or a `postgres://` URL).
pub fn serve_on(ledger: &str, token: &str, args: &[&str]) -> (Proc, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Proc(
        Command::new(env!("CARGO_BIN_EXE_strangle"))
            .arg("--ledger")
            .arg(ledger)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("STRANGLE_API_TOKEN", token)
            .env_remove("STRANGLE_WEBHOOK_URL")
            .env_remove("STRANGLE_TELEGRAM_BOT_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts"),
    );
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("text");
    // Keep reading, so the server never writes into a closed pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let url = first.rsplit(' ').next().expect("url").to_string();
    (child, url)
}
