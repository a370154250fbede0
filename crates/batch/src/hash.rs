//! The host's digests: HMAC-SHA256 for the `keyed-hash` imports (the host holds the key, plugins
//! see only digests) and SHA-256 for the `sha256` import. sha2 uses the CPU's SHA instructions
//! where it has them, which is why these run in the host rather than in a guest.

use hmac::{Hmac, Mac};
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use sha2::{Digest, Sha256};
use spanwise_abi::{BytesColumn, StrColumn};

/// The length of one digest in bytes.
pub const DIGEST_LEN: usize = 32;

/// HMAC-SHA256 of every present value of `values` under `key`, 32 bytes per present value,
/// packed in row order.
pub fn hmac_sha256_column(key: &[u8], values: &StrColumn) -> Vec<u8> {
    hmac_sha256_values(
        key,
        values.iter().flatten().map(str::as_bytes),
        values.len(),
    )
}

/// [`hmac_sha256_column`] over byte strings.
pub fn hmac_sha256_bytes(key: &[u8], values: &BytesColumn) -> Vec<u8> {
    hmac_sha256_values(key, values.iter().flatten(), values.len())
}

fn hmac_sha256_values<'a>(
    key: &[u8],
    values: impl Iterator<Item = &'a [u8]>,
    rows: usize,
) -> Vec<u8> {
    let base = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    let mut out = Vec::with_capacity(rows * DIGEST_LEN);
    for value in values {
        let mut mac = base.clone();
        mac.update(value);
        out.extend_from_slice(&mac.finalize().into_bytes());
    }
    out
}

/// SHA-256 of every present value of `values`, 32 bytes per present value, packed in row order.
pub fn sha256_bytes(values: &BytesColumn) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * DIGEST_LEN);
    for value in values.iter().flatten() {
        out.extend_from_slice(&Sha256::digest(value));
    }
    out
}

/// Digests attribute values in place, as the OpenTelemetry Collector's `hash` action does, with
/// SHA-256 or (given a key) HMAC-SHA256. What [`crate::Decoded::apply`] runs for a
/// `hash-attribute` edit.
pub struct ValueHasher {
    hmac: Option<Hmac<Sha256>>,
}

impl ValueHasher {
    /// A hasher with HMAC-SHA256 under `secret`, or SHA-256 without one.
    pub fn new(secret: Option<&[u8]>) -> Self {
        Self {
            hmac: secret.map(|k| {
                Hmac::<Sha256>::new_from_slice(k).expect("HMAC accepts keys of any length")
            }),
        }
    }

    fn digest(&self, input: &[u8]) -> [u8; DIGEST_LEN] {
        match &self.hmac {
            Some(base) => {
                let mut mac = base.clone();
                mac.update(input);
                mac.finalize().into_bytes().into()
            }
            None => sha256_short(input),
        }
    }

    /// Replace `value` by the lowercase hex digest of its bytes: a string's UTF-8 (the empty
    /// string too), an integer's 8 bytes little-endian, a double's IEEE-754 bits in 8 bytes
    /// little-endian, a boolean as one byte. Bytes, arrays, maps and no value at all become the
    /// empty string. A string's own buffer is reused when it is large enough.
    pub fn hash_value(&self, value: &mut Option<AnyValue>) {
        use any_value::Value as V;
        let digest = match value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(V::StringValue(s)) => Some(self.digest(s.as_bytes())),
            Some(V::BoolValue(b)) => Some(self.digest(&[u8::from(*b)])),
            Some(V::IntValue(i)) => Some(self.digest(&i.to_le_bytes())),
            Some(V::DoubleValue(d)) => Some(self.digest(&d.to_bits().to_le_bytes())),
            _ => None,
        };
        let mut digits = [0u8; 2 * DIGEST_LEN];
        let text = match &digest {
            Some(digest) => hex_into(digest, &mut digits),
            None => "",
        };
        match value.as_mut().and_then(|v| v.value.as_mut()) {
            Some(V::StringValue(s)) if s.capacity() >= text.len() => {
                s.clear();
                s.push_str(text);
            }
            _ => {
                *value = Some(AnyValue {
                    value: Some(V::StringValue(text.to_owned())),
                });
            }
        }
    }
}

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const SHA256_INIT: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256 of `input`. An input of up to 55 bytes (most identifiers) pads into one block, which
/// is compressed directly: that skips the buffering of the streaming API, a good part of the
/// cost of so short a digest. Longer inputs take the streaming API.
fn sha256_short(input: &[u8]) -> [u8; DIGEST_LEN] {
    if input.len() > 55 {
        return Sha256::digest(input).into();
    }
    let mut block = [0u8; 64];
    block[..input.len()].copy_from_slice(input);
    block[input.len()] = 0x80;
    block[56..].copy_from_slice(&(input.len() as u64 * 8).to_be_bytes());
    let mut state = SHA256_INIT;
    sha2::compress256(&mut state, &[block.into()]);
    let mut out = [0u8; DIGEST_LEN];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// A few attribute keys to find among a row's attributes. Most keys of a row are refused by
/// their length alone; the others are compared by their first eight bytes as one integer, and
/// in full only when those match (which spares a `memcmp` call per candidate).
pub struct KeySet {
    /// Bit `n` set when some key is `n` bytes long (bit 63: 63 bytes or more).
    lengths: u64,
    /// Each key with its first eight bytes (zero-padded).
    keys: Vec<(u64, String)>,
}

impl KeySet {
    /// The set of `keys`.
    pub fn new(keys: &[String]) -> Self {
        Self {
            lengths: keys.iter().fold(0, |bits, k| bits | length_bit(k)),
            keys: keys.iter().map(|k| (prefix(k), k.clone())).collect(),
        }
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, key: &str) -> bool {
        if self.lengths & length_bit(key) == 0 {
            return false;
        }
        let head = prefix(key);
        self.keys.iter().any(|(h, k)| {
            *h == head && k.len() == key.len() && (key.len() <= 8 || k[8..] == key[8..])
        })
    }
}

fn length_bit(key: &str) -> u64 {
    1 << key.len().min(63)
}

/// The first eight bytes of `key`, zero-padded, as one integer.
fn prefix(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let mut head = [0u8; 8];
    let n = bytes.len().min(8);
    head[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(head)
}

/// Write the lowercase hex of `bytes` into `out` (two digits a byte) and return it as text.
fn hex_into<'a>(bytes: &[u8; DIGEST_LEN], out: &'a mut [u8; 2 * DIGEST_LEN]) -> &'a str {
    // Two digits per table entry; four bytes of input become one 8-byte store.
    const PAIRS: [u16; 256] = {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut pairs = [0u16; 256];
        let mut i = 0;
        while i < 256 {
            pairs[i] = u16::from_le_bytes([DIGITS[i >> 4], DIGITS[i & 15]]);
            i += 1;
        }
        pairs
    };
    for (eight, four) in out.chunks_exact_mut(8).zip(bytes.chunks_exact(4)) {
        let word = four.iter().rev().fold(0u64, |word, &b| {
            word << 16 | u64::from(PAIRS[usize::from(b)])
        });
        eight.copy_from_slice(&word.to_le_bytes());
    }
    std::str::from_utf8(out).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn matches_rfc_4231_test_case_2() {
        let column = StrColumn::from_options([None, Some("what do ya want for nothing?")]);
        let digest = hmac_sha256_column(b"Jefe", &column);
        assert_eq!(digest.len(), DIGEST_LEN, "absent values yield nothing");
        assert_eq!(
            hex(&digest),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hmac_sha256_bytes(b"Jefe", &BytesColumn::from(column)),
            digest
        );
    }

    fn hashed(hasher: &ValueHasher, value: Option<any_value::Value>) -> String {
        let mut value = Some(AnyValue { value });
        hasher.hash_value(&mut value);
        match value.and_then(|v| v.value) {
            Some(any_value::Value::StringValue(s)) => s,
            other => panic!("a hash is always a string, got {other:?}"),
        }
    }

    #[test]
    fn values_hash_as_the_collector_hashes_them() {
        use any_value::Value as V;
        let sha = ValueHasher::new(None);
        let of = |bytes: &[u8]| hex(&Sha256::digest(bytes));
        assert_eq!(
            hashed(&sha, Some(V::StringValue("abc".into()))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hashed(&sha, Some(V::StringValue(String::new()))), of(b""));
        assert_eq!(
            hashed(&sha, Some(V::IntValue(-2))),
            of(&(-2i64).to_le_bytes())
        );
        assert_eq!(
            hashed(&sha, Some(V::DoubleValue(1.5))),
            of(&1.5f64.to_bits().to_le_bytes())
        );
        assert_eq!(hashed(&sha, Some(V::BoolValue(true))), of(&[1]));
        assert_eq!(hashed(&sha, Some(V::BoolValue(false))), of(&[0]));
        assert_eq!(hashed(&sha, Some(V::BytesValue(vec![1, 2]))), "");
        assert_eq!(hashed(&sha, None), "");
        let mut none = None;
        sha.hash_value(&mut none);
        assert_eq!(
            none.and_then(|v| v.value),
            Some(V::StringValue(String::new()))
        );
        let keyed = ValueHasher::new(Some(b"Jefe"));
        assert_eq!(
            hashed(
                &keyed,
                Some(V::StringValue("what do ya want for nothing?".into()))
            ),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // A buffer large enough is written in place.
        let mut long = Some(AnyValue {
            value: Some(V::StringValue("x".repeat(100))),
        });
        sha.hash_value(&mut long);
        assert!(matches!(
            long.and_then(|v| v.value),
            Some(V::StringValue(s)) if s == of("x".repeat(100).as_bytes()) && s.capacity() >= 100
        ));
    }

    #[test]
    fn key_sets_find_exactly_their_keys() {
        let set = KeySet::new(&[
            "id.0".into(),
            "user.id".into(),
            "enduser.identifier".into(),
            "".into(),
        ]);
        for key in ["id.0", "user.id", "enduser.identifier", ""] {
            assert!(set.contains(key), "{key:?}");
        }
        for key in [
            "id.1",
            "user.ie",
            "enduser.identifies",
            "enduser.",
            "i",
            "x".repeat(70).as_str(),
        ] {
            assert!(!set.contains(key), "{key:?}");
        }
    }

    #[test]
    fn one_block_sha256_agrees_with_the_streaming_api_at_every_length() {
        for len in 0..=130 {
            let input: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            assert_eq!(
                sha256_short(&input),
                <[u8; 32]>::from(Sha256::digest(&input)),
                "length {len}"
            );
        }
    }

    #[test]
    fn sha256_matches_fips_180_vectors() {
        let mut column = BytesColumn::default();
        column.push(Some(b"abc"));
        column.push(None);
        column.push(Some(b""));
        let digest = sha256_bytes(&column);
        assert_eq!(
            hex(&digest[..32]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&digest[32..]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
