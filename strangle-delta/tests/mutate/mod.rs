//! Mutations of a payload for the hostile-input and fast-path tests.
#![allow(dead_code, missing_docs)]

/// A mutation of `bytes` (not necessarily UTF-8 any more): a byte replaced, a slice cut
/// out, a slice duplicated, or the bytes cut short, at positions proptest picks.
pub fn mutate(bytes: &[u8], kind: u8, a: usize, b: usize, byte: u8) -> Vec<u8> {
    let mut v = bytes.to_vec();
    if v.is_empty() {
        return v;
    }
    let (i, j) = (a % v.len(), b % v.len());
    let (lo, hi) = (i.min(j), i.max(j));
    match kind % 4 {
        0 => v[i] = byte,
        1 => {
            v.drain(lo..hi);
        }
        2 => {
            let piece = v[lo..hi].to_vec();
            v.splice(lo..lo, piece);
        }
        _ => v.truncate(i),
    }
    v
}
