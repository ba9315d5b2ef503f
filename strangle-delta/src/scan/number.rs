//! Decimals and integers from their digits, the way [`crate::lenient`] reads them, for the
//! common forms only: `-?d+(.d+)?` with at most 19 digits in a string, integers of at most
//! 18. Anything else gives up.

use rust_decimal::Decimal;

use super::cursor::Cursor;
use super::{Fallback, Scan};

/// An integer token or text, `-?d{1,18}` (18 digits always fit an `i64`); anything else
/// gives up.
#[inline]
fn integer(token: &[u8]) -> Scan<i64> {
    let (negative, digits) = match token.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, token),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Fallback);
    }
    let n = digits
        .iter()
        .fold(0i64, |n, &b| n * 10 + i64::from(b - b'0'));
    Ok(if negative { -n } else { n })
}

/// The value of the eight ASCII digits at `b[i..i + 8]`, if they all are digits.
#[inline(always)]
fn eight_digits(b: &[u8], i: usize) -> Option<u64> {
    let chunk: [u8; 8] = b.get(i..i + 8)?.try_into().ok()?;
    let x = u64::from_le_bytes(chunk);
    // Every byte is 0x30..=0x39: its high nibble is 3, and adding 6 keeps it 3.
    let high = 0xF0F0_F0F0_F0F0_F0F0u64;
    let threes = 0x3030_3030_3030_3030u64;
    if x & high != threes || x.wrapping_add(0x0606_0606_0606_0606) & high != threes {
        return None;
    }
    // Digits to their value, pairwise: 8 × 1 → 4 × 2 → 2 × 4 → 1 × 8 digits.
    let d = x - threes;
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF)
}

/// A decimal string read in one pass over its digits up to the closing quote; `""` is
/// none. Anything but `-?d+(.d+)?` with at most 19 digits gives up.
#[inline]
fn decimal_string(c: &mut Cursor<'_>) -> Scan<Option<Decimal>> {
    let b = c.rest();
    // b[0] is the opening quote (the caller peeked it).
    let mut i = 1;
    let negative = b.get(i) == Some(&b'-');
    if negative {
        i += 1;
    }
    let first = i;
    let mut mantissa: u64 = 0;
    let mut point: Option<usize> = None;
    loop {
        match b.get(i) {
            Some(&d @ b'0'..=b'9') => {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            }
            Some(b'.') if point.is_none() && i > first => {
                point = Some(i);
                // Eight decimals at once where they come in a run (Delta's prices have 8).
                if let Some(n) = eight_digits(b, i + 1) {
                    mantissa = mantissa.wrapping_mul(100_000_000).wrapping_add(n);
                    i += 8;
                }
            }
            Some(b'"') => break,
            _ => return Err(Fallback),
        }
        i += 1;
    }
    let digits = i - first - usize::from(point.is_some());
    if digits == 0 {
        // `""` is no value; `"-"` is an error for the reference to name.
        return if negative {
            Err(Fallback)
        } else {
            c.advance(i + 1);
            Ok(None)
        };
    }
    // 19 digits always fit a u64 (the wrapping above never wraps then); more are the
    // reference's to round. A point must have digits after it.
    if digits > 19 || point == Some(i - 1) {
        return Err(Fallback);
    }
    let scale = point.map_or(0, |p| (i - p - 1) as u32);
    c.advance(i + 1);
    Ok(Some(Decimal::from_parts(
        mantissa as u32,
        (mantissa >> 32) as u32,
        0,
        negative,
        scale,
    )))
}

/// An optional decimal as [`crate::lenient::decimal_opt`] reads it: a numeric string, `""`,
/// `null`, or an integer number.
#[inline]
pub(crate) fn decimal_opt(c: &mut Cursor<'_>) -> Scan<Option<Decimal>> {
    match c.peek()? {
        b'"' => decimal_string(c),
        b'n' => c.null().map(|_| None),
        _ => {
            let token = c.number()?;
            // Integers only: serde_json reads fractions (and `-0`) as binary floats first.
            if token == b"-0" {
                return Err(Fallback);
            }
            integer(token).map(|n| Some(Decimal::from(n)))
        }
    }
}

/// Whether the reference accepts a number token as a decimal (`turnover_usd` and `size`
/// come as binary floats): without an exponent and with at most 28 integer digits, serde
/// reads it as a finite float that `Decimal::from_f64` takes. Anything else gives up.
pub(crate) fn number_fits_a_decimal(token: &[u8]) -> Scan<()> {
    let unsigned = token.strip_prefix(b"-").unwrap_or(token);
    let integer = unsigned.iter().take_while(|b| b.is_ascii_digit()).count();
    if integer <= 28 && !unsigned.iter().any(|b| matches!(b, b'e' | b'E')) {
        Ok(())
    } else {
        Err(Fallback)
    }
}

/// An optional integer as [`crate::lenient::int_opt`] reads it: an integer number, an
/// integer string, or `null`.
#[inline]
pub(crate) fn int_opt(c: &mut Cursor<'_>) -> Scan<Option<i64>> {
    let token = match c.peek()? {
        b'"' => {
            let s = c.plain_string()?;
            if s.is_empty() {
                return Ok(None);
            }
            s
        }
        b'n' => return c.null().map(|_| None),
        _ => c.number()?,
    };
    integer(token).map(Some)
}

/// An optional unsigned integer as serde reads `Option<u64>`: a non-negative integer
/// number or `null`.
pub(crate) fn u64_opt(c: &mut Cursor<'_>) -> Scan<Option<u64>> {
    if c.null()? {
        return Ok(None);
    }
    let token = c.number()?;
    if token.first() == Some(&b'-') {
        return Err(Fallback);
    }
    integer(token).map(|n| Some(n.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(text: &str) -> Scan<Option<Decimal>> {
        decimal_opt(&mut Cursor::new(text.as_bytes()))
    }

    /// Every form the fast path takes gives the same decimal as `Decimal::from_str`, down to
    /// the scale and the sign of zero; the rest gives up.
    #[test]
    fn decimals_match_the_reference_parser() {
        for s in [
            "0",
            "7",
            "-0.00000000",
            "24957.30000000",
            "0.00120000",
            "82457.3",
            "1844674407370955161",
            "9999999999999999999",
            "-194.83141094",
            "007",
            "0.000000000000000001",
        ] {
            let fast = dec(&format!("\"{s}\"")).expect(s).expect(s);
            let reference = Decimal::from_str(s).expect(s);
            assert_eq!(fast, reference, "{s}");
            assert_eq!(fast.to_string(), reference.to_string(), "{s}");
            assert_eq!(fast.is_sign_negative(), reference.is_sign_negative(), "{s}");
        }
        for s in [
            "\"1e3\"",
            "\"+1\"",
            "\" 1\"",
            "\"1.\"",
            "\".5\"",
            "\"-\"",
            "\"1.2.3\"",
            "\"12345678901234567890\"",
            "1.5",
            "1e3",
            "true",
        ] {
            assert_eq!(dec(s), Err(Fallback), "{s}");
        }
        assert_eq!(dec("\"\""), Ok(None));
        assert_eq!(dec("null"), Ok(None));
        assert_eq!(dec("-12"), Ok(Some(Decimal::from(-12))));
    }

    #[test]
    fn eight_digit_runs() {
        for n in [0u64, 1, 12_345_678, 99_999_999, 10_000_000, 30_000_000, 7] {
            let text = format!("{n:08}");
            assert_eq!(eight_digits(text.as_bytes(), 0), Some(n), "{text}");
        }
        for bad in ["1234567a", "1234.678", "123456/8", "12345:78", "1234567"] {
            assert_eq!(eight_digits(bad.as_bytes(), 0), None, "{bad}");
        }
    }

    #[test]
    fn integers() {
        let int = |t: &str| int_opt(&mut Cursor::new(t.as_bytes()));
        assert_eq!(int("1773115200000000"), Ok(Some(1_773_115_200_000_000)));
        assert_eq!(int("\"1773115200000000\""), Ok(Some(1_773_115_200_000_000)));
        assert_eq!(int("-5"), Ok(Some(-5)));
        assert_eq!(int("null"), Ok(None));
        assert_eq!(int("\"\""), Ok(None));
        assert_eq!(int("1.0"), Err(Fallback));
        assert_eq!(int("\"x\""), Err(Fallback));
        let unsigned = |t: &str| u64_opt(&mut Cursor::new(t.as_bytes()));
        assert_eq!(unsigned("118001"), Ok(Some(118_001)));
        assert_eq!(unsigned("-1"), Err(Fallback));
        assert_eq!(unsigned("\"1\""), Err(Fallback));
    }
}
