//! A position in a JSON document: whitespace, punctuation, strings borrowed from the input,
//! number tokens, and skipping any value while checking its syntax.

use super::{Fallback, Scan};

/// Deepest nesting a skipped value may have (serde_json refuses beyond 128 as well).
const MAX_DEPTH: usize = 128;

/// Bytes that end the plain run of a string: the quote, a backslash, a control character.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The index of the first byte of `s` that ends a string's plain run (quote, backslash,
/// control character), eight bytes at a time.
#[inline(always)]
fn string_stop(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // A byte below 0x20, or equal to `"` or `\` (zero after the xor), sets its high bit;
        // bytes of 0x80 and above are left out by `!x`.
        let hits =
            (x.wrapping_sub(ONES * 0x20) | quote.wrapping_sub(ONES) | backslash.wrapping_sub(ONES))
                & !x
                & HIGHS;
        if hits != 0 {
            // The first hit is exact; later ones may be borrows, which we never read.
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..]
        .iter()
        .position(|&b| STRING_STOP[b as usize])
        .map(|n| i + n)
}

/// An object's key: its text and, for keys of up to 15 bytes, the text and its length
/// packed in one integer ([`pack`]), so telling it from a known key is one comparison
/// rather than a call to `memcmp`.
#[derive(Clone, Copy)]
pub(crate) struct Name<'a> {
    /// The key's bytes (no escapes).
    pub(crate) text: &'a [u8],
    /// [`pack`] of `text`.
    pub(crate) word: u128,
}

/// A key of up to 15 bytes and its length in one integer; `u128::MAX` (which no short key
/// packs to) for longer ones, to be compared by text.
pub(crate) const fn pack(key: &[u8]) -> u128 {
    if key.len() > 15 {
        return u128::MAX;
    }
    let mut w = 0u128;
    let mut i = 0;
    while i < key.len() {
        w |= (key[i] as u128) << (8 * i);
        i += 1;
    }
    w | ((key.len() as u128) << 120)
}

/// A key as it was last seen at one place in an object: its [`Name`] and, for keys of up
/// to 14 bytes, its bytes with their quotes in one integer and the mask of their length.
#[derive(Clone, Copy)]
struct Known<'a> {
    name: Name<'a>,
    quoted: u128,
    mask: u128,
}

impl<'a> Known<'a> {
    fn of(name: Name<'a>) -> Self {
        let n = name.text.len() + 2;
        if n > 16 {
            return Self {
                name,
                quoted: 0,
                mask: 0,
            };
        }
        let mut quoted = u128::from(b'"');
        for (i, &b) in name.text.iter().enumerate() {
            quoted |= u128::from(b) << (8 * (i + 1));
        }
        quoted |= u128::from(b'"') << (8 * (n - 1));
        Self {
            name,
            quoted,
            mask: u128::MAX >> (128 - 8 * n),
        }
    }
}

/// The keys of the last object of one kind, in their order. Delta writes every ticker with
/// the same keys in the same order, so each key is first compared with the one at its place
/// in the previous ticker (for short keys one 16-byte load and one comparison), and read the
/// general way only when it differs. A match is exact: the comparison covers both quotes.
#[derive(Default)]
pub(crate) struct Shape<'a> {
    keys: Vec<Known<'a>>,
}

/// Keys a [`Shape`] remembers, at most (an object with more is read the general way past
/// them).
const SHAPE_KEYS: usize = 64;

/// A read position in `bytes`.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// The next byte that is not whitespace, without taking it.
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Scan<u8> {
        while let Some(&b) = self.bytes.get(self.at) {
            if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.at += 1;
            } else {
                return Ok(b);
            }
        }
        Err(Fallback)
    }

    /// Takes `c` (after whitespace) or gives up.
    #[inline]
    pub(crate) fn eat(&mut self, c: u8) -> Scan<()> {
        if self.peek()? == c {
            self.at += 1;
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// The bytes from the read position on.
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    /// Moves the read position `n` bytes on (within [`Cursor::rest`]).
    #[inline]
    pub(crate) fn advance(&mut self, n: usize) {
        self.at = (self.at + n).min(self.bytes.len());
    }

    /// Whether only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_err()
    }

    /// A string without escapes, borrowed; an escape or a control character gives up.
    #[inline(always)]
    pub(crate) fn plain_string(&mut self) -> Scan<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.at;
        let rest = &self.bytes[start..];
        let n = string_stop(rest).ok_or(Fallback)?;
        if rest[n] != b'"' {
            return Err(Fallback);
        }
        self.at = start + n + 1;
        Ok(&rest[..n])
    }

    /// Skips a string, escapes included (checked the way a JSON parser checks them).
    fn skip_string(&mut self) -> Scan<()> {
        self.eat(b'"')?;
        loop {
            let rest = &self.bytes[self.at..];
            let n = string_stop(rest).ok_or(Fallback)?;
            self.at += n + 1;
            match rest[n] {
                b'"' => return Ok(()),
                b'\\' => {
                    let e = *self.bytes.get(self.at).ok_or(Fallback)?;
                    self.at += 1;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let hex = self.bytes.get(self.at..self.at + 4).ok_or(Fallback)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(Fallback);
                            }
                            self.at += 4;
                        }
                        _ => return Err(Fallback),
                    }
                }
                _ => return Err(Fallback),
            }
        }
    }

    /// A number token, checked against JSON's grammar: `-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?`.
    pub(crate) fn number(&mut self) -> Scan<&'a [u8]> {
        self.peek()?;
        let start = self.at;
        let b = self.bytes;
        let digits = |at: &mut usize| {
            let from = *at;
            while b.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at - from
        };
        let mut at = start;
        if b.get(at) == Some(&b'-') {
            at += 1;
        }
        match b.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                digits(&mut at);
            }
            _ => return Err(Fallback),
        }
        if b.get(at) == Some(&b'.') {
            at += 1;
            if digits(&mut at) == 0 {
                return Err(Fallback);
            }
        }
        if matches!(b.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(b.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if digits(&mut at) == 0 {
                return Err(Fallback);
            }
        }
        self.at = at;
        Ok(&b[start..at])
    }

    /// Takes `null` if it comes next.
    #[inline]
    pub(crate) fn null(&mut self) -> Scan<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        if self.bytes.get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// Skips any value, checking its syntax.
    pub(crate) fn skip_value(&mut self) -> Scan<()> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: usize) -> Scan<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' if depth < MAX_DEPTH => {
                self.members(Self::skip_string, |c, ()| c.skip_nested(depth + 1))
            }
            b'{' => Err(Fallback),
            b'[' if depth < MAX_DEPTH => self.array(|c| c.skip_nested(depth + 1)),
            b'[' => Err(Fallback),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    /// [`pack`] of the key `text` just read, from 16 bytes loaded at once where the input
    /// has them.
    #[inline(always)]
    fn name(&self, text: &'a [u8]) -> Name<'a> {
        let n = text.len();
        let start = self.at - n - 1;
        let word = match self.bytes.get(start..start + 16) {
            Some(chunk) if n <= 15 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(chunk);
                let mask = (1u128 << (8 * n)) - 1;
                (u128::from_le_bytes(b) & mask) | ((n as u128) << 120)
            }
            _ => pack(text),
        };
        Name { text, word }
    }

    /// Walks an object's members, calling `member` with each key (without escapes) with
    /// the cursor on its value; `member` must take the value.
    #[inline]
    pub(crate) fn object(
        &mut self,
        member: impl FnMut(&mut Self, Name<'a>) -> Scan<()>,
    ) -> Scan<()> {
        self.members(Self::key, member)
    }

    /// [`Cursor::object`], trying each key first as the one at its place in `shape` and
    /// remembering the keys read the general way.
    #[inline]
    pub(crate) fn object_shaped(
        &mut self,
        shape: &mut Shape<'a>,
        member: impl FnMut(&mut Self, Name<'a>) -> Scan<()>,
    ) -> Scan<()> {
        let mut i = 0;
        self.members(
            |c| {
                let place = i;
                i += 1;
                if let Some(k) = shape.keys.get(place) {
                    c.peek()?;
                    if c.is_next(k) {
                        c.at += k.name.text.len() + 2;
                        return Ok(k.name);
                    }
                }
                let name = c.key()?;
                if let Some(k) = shape.keys.get_mut(place) {
                    *k = Known::of(name);
                } else if place < SHAPE_KEYS {
                    shape.keys.push(Known::of(name));
                }
                Ok(name)
            },
            member,
        )
    }

    /// Whether the bytes at the read position are the key `k` with its quotes.
    #[inline(always)]
    fn is_next(&self, k: &Known<'a>) -> bool {
        let n = k.name.text.len() + 2;
        if k.mask != 0 {
            if let Some(chunk) = self.bytes.get(self.at..self.at + 16) {
                let mut b = [0u8; 16];
                b.copy_from_slice(chunk);
                return u128::from_le_bytes(b) & k.mask == k.quoted;
            }
        }
        self.bytes
            .get(self.at..self.at + n)
            .is_some_and(|b| b[0] == b'"' && b[n - 1] == b'"' && &b[1..n - 1] == k.name.text)
    }

    /// A key without escapes, read the general way.
    #[inline]
    fn key(&mut self) -> Scan<Name<'a>> {
        let key = self.plain_string()?;
        // serde reads keys as text: a key that is not UTF-8 is its error to report.
        if !key.is_ascii() && std::str::from_utf8(key).is_err() {
            return Err(Fallback);
        }
        Ok(self.name(key))
    }

    /// An object: `{`, then `key` reads each key and `member` takes its value, to `}`.
    #[inline(always)]
    fn members<K>(
        &mut self,
        mut key: impl FnMut(&mut Self) -> Scan<K>,
        mut member: impl FnMut(&mut Self, K) -> Scan<()>,
    ) -> Scan<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Ok(());
        }
        loop {
            let k = key(self)?;
            self.eat(b':')?;
            member(self, k)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Fallback),
            }
        }
    }

    /// Walks an array's items, calling `item` with the cursor on each; `item` must take it.
    #[inline]
    pub(crate) fn array(&mut self, mut item: impl FnMut(&mut Self) -> Scan<()>) -> Scan<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.at += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Fallback),
            }
        }
    }

    /// Takes `true` or `false`.
    pub(crate) fn boolean(&mut self) -> Scan<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|_| true),
            b'f' => self.literal(b"false").map(|_| false),
            _ => Err(Fallback),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(text: &str) -> bool {
        let mut c = Cursor::new(text.as_bytes());
        c.skip_value().is_ok() && c.at_end()
    }

    /// The skipper accepts exactly what serde_json accepts, on a set of tricky documents.
    #[test]
    fn skipping_agrees_with_serde_json() {
        for text in [
            r#"{"a": [1, -2.5e-3, "x\"y\\\u00e9", true, false, null, {}], "b": {}}"#,
            "[]",
            "  0 ",
            "-0.0E+1",
            r#""\ud83d\ude00""#,
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "[1 2]",
            "\"a\u{1}b\"",
            "\"\\x\"",
            "tru",
            "nulls",
            "[",
            "{\"a\":",
            "\"\\u12g4\"",
        ] {
            let serde = serde_json::from_str::<serde_json::Value>(text).is_ok();
            assert_eq!(skips(text), serde, "{text:?}");
        }
    }

    /// The eight-at-a-time scan finds the same first stop as a byte-by-byte one.
    #[test]
    fn string_stops_match_a_plain_scan() {
        let alphabet = [
            b'a',
            b'"',
            b'\\',
            0x1f,
            0x20,
            0x7f,
            0x80,
            0xff,
            b'0',
            0x00,
            0x22 ^ 0x80,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let len = (seed % 24) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let want = s.iter().position(|&b| STRING_STOP[b as usize]);
            assert_eq!(string_stop(&s), want, "{s:?}");
        }
    }

    #[test]
    fn nesting_beyond_the_limit_gives_up() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(!skips(&deep));
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(skips(&ok));
    }
}
