//! Hashing through the host: SHA-256 and HMAC-SHA256 run there at native speed (and the HMAC
//! key never enters the plugin). One host call per batch of values.

use crate::config::Digest;
use crate::working::Val;
use spanwise_sdk::BytesColumn;
use spanwise_sdk::value::AttrValue;

/// Append to `column` the bytes the collector's `hash` action hashes for a value: a string's
/// UTF-8, one byte for a boolean, 8 bytes little-endian for an integer or a double's IEEE-754
/// bits. `false` (nothing appended) for the types it does not hash (empty, bytes, arrays,
/// maps), which become `""`.
pub fn push_hash_input(value: Val<'_>, column: &mut BytesColumn) -> bool {
    let value = match value {
        Val::Str(s) => {
            column.push(Some(s.as_bytes()));
            return true;
        }
        Val::Other(value) => value,
    };
    match value {
        AttrValue::Str(s) => column.push(Some(s.as_bytes())),
        AttrValue::Bool(b) => column.push(Some(&[u8::from(*b)])),
        AttrValue::Int(i) => column.push(Some(&i.to_le_bytes())),
        AttrValue::Double(d) => column.push(Some(&d.to_bits().to_le_bytes())),
        AttrValue::Empty | AttrValue::Bytes(_) | AttrValue::Array(_) | AttrValue::Map(_) => {
            return false;
        }
    }
    true
}

/// The lowercase hex digest of every input, in order; `****` for each with [`Digest::Stars`].
pub fn digests(digest: &Digest, inputs: &[&[u8]]) -> Result<Vec<String>, String> {
    let bytes = inputs.iter().map(|i| i.len()).sum();
    let mut column = BytesColumn::with_capacity(inputs.len(), bytes);
    for input in inputs {
        column.push(Some(input));
    }
    digests_of(digest, &column)
}

/// [`digests`] of the present values of a column.
pub fn digests_of(digest: &Digest, column: &BytesColumn) -> Result<Vec<String>, String> {
    let values = column.present.iter().filter(|&&p| p != 0).count();
    if values == 0 {
        return Ok(Vec::new());
    }
    let raw = match digest {
        Digest::Stars => return Ok(vec!["****".to_owned(); values]),
        Digest::Sha256 => spanwise_sdk::sha256(column),
        Digest::HmacSha256(key) => spanwise_sdk::keyed_hash_bytes(key, column)?,
    };
    if raw.len() != values * 32 {
        return Err(format!(
            "the host returned {} digest bytes for {values} values",
            raw.len()
        ));
    }
    Ok(raw.chunks(32).map(hex).collect())
}

/// Lowercase hex, two digits a byte (a table lookup; `hex::encode` goes char by char and costs
/// several times as much, which shows when every value of a batch is hashed).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.extend_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]);
    }
    String::from_utf8(out).expect("hex digits are ASCII")
}
