//! The lines `strangle check` prints: each check's name, outcome and what was seen (shared by
//! `check` and its order round trip, `check_orders`).

/// One check's result.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It worked.
    Pass,
    /// It did not: the command fails.
    Fail,
    /// It could not be tried here.
    Skip,
    /// It works, but probably not as meant (the command still passes).
    Warn,
}

/// The lines printed: check name, outcome, what was seen.
#[derive(Debug, Default)]
pub struct Report(Vec<(&'static str, Outcome, String)>);

impl Report {
    /// Adds one line.
    pub fn add(&mut self, name: &'static str, o: Outcome, detail: impl Into<String>) {
        self.0.push((name, o, detail.into()));
    }

    /// Prints every line (`PASS`, `FAIL`, `SKIP`, `WARN`) and returns how many failed.
    pub fn print(&self) -> usize {
        let mut failed = 0;
        for (name, o, detail) in &self.0 {
            let tag = match o {
                Outcome::Pass => "PASS",
                Outcome::Fail => {
                    failed += 1;
                    "FAIL"
                }
                Outcome::Skip => "SKIP",
                Outcome::Warn => "WARN",
            };
            crate::say!("{tag}  {name:<15} {detail}");
        }
        failed
    }
}
