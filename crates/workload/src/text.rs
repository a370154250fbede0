//! Attribute values and random text.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A string attribute.
pub(crate) fn str(key: &str, value: &str) -> KeyValue {
    kv(key, Value::StringValue(value.into()))
}

/// An integer attribute.
pub(crate) fn int(key: &str, value: i64) -> KeyValue {
    kv(key, Value::IntValue(value))
}

/// A floating-point attribute.
pub(crate) fn double(key: &str, value: f64) -> KeyValue {
    kv(key, Value::DoubleValue(value))
}

/// A boolean attribute.
pub(crate) fn bool(key: &str, value: bool) -> KeyValue {
    kv(key, Value::BoolValue(value))
}

const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `len` random lowercase letters and digits.
pub(crate) fn alphanumeric(rng: &mut fastrand::Rng, len: usize) -> String {
    (0..len)
        .map(|_| ALPHANUMERIC[rng.usize(..ALPHANUMERIC.len())] as char)
        .collect()
}

/// `len` random characters of base64url (tokens).
pub(crate) fn token(rng: &mut fastrand::Rng, len: usize) -> String {
    (0..len)
        .map(|_| URL_SAFE[rng.usize(..URL_SAFE.len())] as char)
        .collect()
}

/// A patient id as the platform writes them: `P-` and eight digits.
pub(crate) fn patient_id(rng: &mut fastrand::Rng) -> String {
    format!("P-{:08}", rng.u32(10_000_000..100_000_000))
}

/// A user id: `u-` and a UUID-shaped hex string.
pub(crate) fn user_id(rng: &mut fastrand::Rng) -> String {
    let v = rng.u128(..);
    format!(
        "u-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        (v >> 96) as u32,
        (v >> 80) as u16,
        (v >> 64) as u16,
        (v >> 48) as u16,
        v as u64 & 0xffff_ffff_ffff
    )
}

/// An e-mail address.
pub(crate) fn email(rng: &mut fastrand::Rng) -> String {
    const NAMES: [&str; 8] = [
        "ana.silva",
        "j.meyer",
        "li.wei",
        "o.okafor",
        "m.rossi",
        "s.kowalski",
        "r.gupta",
        "e.berg",
    ];
    const DOMAINS: [&str; 4] = [
        "example.com",
        "mail.example.org",
        "clinic.example",
        "example.net",
    ];
    format!(
        "{}{}@{}",
        NAMES[rng.usize(..NAMES.len())],
        rng.u16(1..1000),
        DOMAINS[rng.usize(..DOMAINS.len())]
    )
}
