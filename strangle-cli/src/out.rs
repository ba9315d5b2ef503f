//! Standard output that a closed pipe does not break. `println!` panics when stdout is a pipe
//! whose reader has gone (`strangle sessions list | head`), and a panic in `run` would end a
//! trading process because its status lines are no longer read. [`say!`](crate::say) and
//! [`put!`](crate::put) write to stdout and, once the reader has gone, drop what follows
//! quietly; any other write failure is said once on stderr.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout has failed: nothing more is written to it.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `args` (and a newline when `newline`) to stdout, unless it has failed before.
pub fn write(args: std::fmt::Arguments<'_>, newline: bool) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let res = out.write_fmt(args).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(e) = res {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: writing to standard output: {e}; nothing more is written there");
        }
    }
}

/// Whether stdout has failed (its reader gone): a listing may stop early.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// `println!` that a closed stdout does not panic (see [`crate::out`]).
#[macro_export]
macro_rules! say {
    () => {
        $crate::out::write(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*), true)
    };
}

/// `print!` that a closed stdout does not panic (see [`crate::out`]).
#[macro_export]
macro_rules! put {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*), false)
    };
}
