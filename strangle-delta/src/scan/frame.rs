//! The `type` of a WebSocket frame, found without decoding the rest, so a frame can be
//! decoded straight into its variant's struct instead of through serde's buffered
//! internally tagged enum (see [`crate::wire::ws::Frame::parse`]).

use super::cursor::{pack, Cursor};
use super::{Fallback, Scan};

/// The top-level `type` of a JSON object, borrowed. [`Fallback`] when the text is not one
/// well-formed object, has no `type`, has it twice, or it is not a plain string.
pub(crate) fn frame_type(bytes: &[u8]) -> Scan<&[u8]> {
    let mut c = Cursor::new(bytes);
    let mut found = None;
    c.object(|c, key| {
        if key.word == pack(b"type") {
            if found.is_some() {
                return Err(Fallback);
            }
            found = Some(c.plain_string()?);
            Ok(())
        } else {
            c.skip_value()
        }
    })?;
    if !c.at_end() {
        return Err(Fallback);
    }
    found.ok_or(Fallback)
}
