//! The host's digests: HMAC-SHA256 for the `keyed-hash` imports (the host holds the key, plugins
//! see only digests) and SHA-256 for the `sha256` import. sha2 uses the CPU's SHA instructions
//! where it has them, which is why these run in the host rather than in a guest.

use hmac::{Hmac, Mac};
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
