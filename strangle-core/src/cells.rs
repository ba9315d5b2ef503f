//! Text cells of the CSV exports, made safe for the spreadsheet that opens them.
//!
//! A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula
//! by Excel, LibreOffice and Google Sheets (CSV injection). Text that came from outside (a
//! profile name, a symbol from a data file) is prefixed with `'` when it starts that way;
//! numbers are never text cells and are written as they are.

use std::borrow::Cow;

/// `text` with a leading `'` when a spreadsheet would take it for a formula.
///
/// ```
/// use strangle_core::cells::neutralise;
/// assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(neutralise("C-BTC-84500-110326"), "C-BTC-84500-110326");
/// ```
pub fn neutralise(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// A text cell for a hand-written CSV line: neutralised, then quoted when it holds a comma,
/// a quote or a line break.
///
/// ```
/// use strangle_core::cells::csv_text;
/// assert_eq!(csv_text("a,b"), "\"a,b\"");
/// assert_eq!(csv_text("-x"), "'-x");
/// ```
pub fn csv_text(text: &str) -> String {
    let safe = neutralise(text);
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe.into_owned()
    }
}
