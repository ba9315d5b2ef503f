//! The `strangle` command line and its REST API as a library.
//!
//! The binary (`src/main.rs`) parses the command line and calls into these modules; tests
//! and embedders use them directly, e.g. [`serve::app`] builds the API's router so it can be
//! driven in process without a socket.

pub mod cmd;
pub mod error;
pub mod out;
pub mod profile_file;
pub mod serve;
pub mod signals;
