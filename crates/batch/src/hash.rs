//! Keyed hashing for the `keyed-hash` host import: the host holds the key, plugins see only
//! digests.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use spanwise_abi::StrColumn;

/// The length of one digest in bytes.
pub const DIGEST_LEN: usize = 32;

/// HMAC-SHA256 of every present value of `values` under `key`, 32 bytes per present value,
/// packed in row order.
pub fn hmac_sha256_column(key: &[u8], values: &StrColumn) -> Vec<u8> {
    let base = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    let mut out = Vec::with_capacity(values.len() * DIGEST_LEN);
    for value in values.iter().flatten() {
        let mut mac = base.clone();
        mac.update(value.as_bytes());
        out.extend_from_slice(&mac.finalize().into_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4231_test_case_2() {
        let column = StrColumn::from_options([None, Some("what do ya want for nothing?")]);
        let digest = hmac_sha256_column(b"Jefe", &column);
        assert_eq!(digest.len(), DIGEST_LEN, "absent values yield nothing");
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
