//! Hashing through the host: SHA-256 and HMAC-SHA256 run there at native speed (and the HMAC
//! key never enters the plugin). One host call per batch of values.

use crate::config::Digest;
use crate::value::AttrValue;
use spanwise_sdk::BytesColumn;

/// The bytes the collector's `hash` action hashes for a value: a string's UTF-8, one byte for a
/// boolean, 8 bytes little-endian for an integer or a double's IEEE-754 bits. `None` for the
/// types it does not hash (empty, bytes, arrays, maps), which become `""`.
pub fn hash_input(value: &AttrValue) -> Option<Vec<u8>> {
    match value {
        AttrValue::Str(s) => Some(s.as_bytes().to_vec()),
        AttrValue::Bool(b) => Some(vec![u8::from(*b)]),
        AttrValue::Int(i) => Some(i.to_le_bytes().to_vec()),
        AttrValue::Double(d) => Some(d.to_bits().to_le_bytes().to_vec()),
        AttrValue::Empty | AttrValue::Bytes(_) | AttrValue::Array(_) | AttrValue::Map(_) => None,
    }
}

/// The lowercase hex digest of every input, in order; `****` for each with [`Digest::Stars`].
pub fn digests(digest: &Digest, inputs: &[&[u8]]) -> Result<Vec<String>, String> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let column = || {
        let bytes = inputs.iter().map(|i| i.len()).sum();
        let mut column = BytesColumn::with_capacity(inputs.len(), bytes);
        for input in inputs {
            column.push(Some(input));
        }
        column
    };
    let raw = match digest {
        Digest::Stars => return Ok(vec!["****".to_owned(); inputs.len()]),
        Digest::Sha256 => spanwise_sdk::sha256(&column()),
        Digest::HmacSha256(key) => spanwise_sdk::keyed_hash_bytes(key, &column())?,
    };
    if raw.len() != inputs.len() * 32 {
        return Err(format!(
            "the host returned {} digest bytes for {} values",
            raw.len(),
            inputs.len()
        ));
    }
    Ok(raw.chunks(32).map(hex).collect())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}
