//! Thresholds and randomness of OpenTelemetry consistent probability sampling, in the 56-bit
//! space the collector's `pkg/sampling` (contrib v0.161.0) uses: a span is kept when its
//! threshold is at most its randomness.

use std::fmt::Write;

/// 2^56: the number of randomness values.
pub const MAX_ADJUSTED_COUNT: u64 = 1 << 56;

/// Hex digits in a full threshold or randomness value.
pub const HEX_DIGITS: u32 = 14;

/// The smallest probability a threshold expresses, 2^-56.
pub const MIN_PROBABILITY: f64 = 1.0 / MAX_ADJUSTED_COUNT as f64;

/// A rejection threshold: the span is kept when its randomness is at least this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Threshold(pub u64);

/// 56 bits of randomness, from the trace id, an `rv` value or the legacy hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Randomness(pub u64);

impl Threshold {
    /// Keeps everything (`th:0`).
    pub const ALWAYS: Threshold = Threshold(0);
    /// Keeps nothing (written as no `th` at all).
    pub const NEVER: Threshold = Threshold(MAX_ADJUSTED_COUNT);

    /// Whether a span with randomness `r` is kept.
    #[inline]
    pub fn keeps(self, r: Randomness) -> bool {
        self.0 <= r.0
    }

    /// The probability of keeping a span.
    pub fn probability(self) -> f64 {
        (MAX_ADJUSTED_COUNT - self.0) as f64 / MAX_ADJUSTED_COUNT as f64
    }

    /// The threshold of `fraction`, rounded to `precision` hex digits (0 means all 14) and
    /// with the precision widened for probabilities near 0 or 1, as the collector's
    /// `ProbabilityToThresholdWithPrecision` does. `None` outside `[2^-56, 1]`.
    pub fn from_probability(fraction: f64, precision: u32) -> Option<Threshold> {
        let precision = if precision == 0 {
            HEX_DIGITS
        } else {
            precision
        };
        if !(MIN_PROBABILITY..=1.0).contains(&fraction) {
            return None;
        }
        if fraction == 1.0 {
            return Some(Threshold::ALWAYS);
        }
        // Go's integer division truncates toward zero, as Rust's does.
        let widen = |x: f64| precision as i32 + frexp_exponent(x) / -4;
        let precision = (widen(fraction).max(widen(1.0 - fraction)) as u32).min(HEX_DIGITS);
        let scaled = (fraction * MAX_ADJUSTED_COUNT as f64).round() as u64;
        let mut threshold = MAX_ADJUSTED_COUNT - scaled;
        let shift = 4 * (HEX_DIGITS - precision);
        if shift != 0 {
            let half = 1u64 << (shift - 1);
            threshold += half;
            threshold >>= shift;
            threshold <<= shift;
        }
        Some(Threshold(threshold))
    }

    /// A `th` value: 1 to 14 hex digits, extended with zeros. `None` if it is not one.
    pub fn parse(text: &str) -> Option<Threshold> {
        if text.is_empty() || text.len() > HEX_DIGITS as usize {
            return None;
        }
        let value = parse_hex(text)?;
        Some(Threshold(value << (4 * (HEX_DIGITS - text.len() as u32))))
    }

    /// Append this threshold as a `th` value: `0` for [`Threshold::ALWAYS`], nothing for
    /// [`Threshold::NEVER`], otherwise 14 hex digits without their trailing zeros.
    pub fn write(self, out: &mut String) {
        match self {
            Threshold::ALWAYS => out.push('0'),
            Threshold::NEVER => {}
            Threshold(t) if t > MAX_ADJUSTED_COUNT => {}
            Threshold(t) => {
                let start = out.len();
                write_hex14(out, t);
                let kept = out[start..].trim_end_matches('0').len();
                out.truncate(start + kept);
            }
        }
    }
}

impl Randomness {
    /// The randomness of a span that has none (a zero trace id): every threshold but
    /// [`Threshold::NEVER`] keeps it.
    pub const ALL: Randomness = Randomness(MAX_ADJUSTED_COUNT - 1);

    /// The W3C randomness of a trace id: the low 56 bits of its last 8 bytes, big-endian.
    #[inline]
    pub fn from_trace_id(id: &[u8; 16]) -> Randomness {
        let low = u64::from_be_bytes(id[8..].try_into().expect("8 bytes"));
        Randomness(low & (MAX_ADJUSTED_COUNT - 1))
    }

    /// An `rv` value: exactly 14 hex digits.
    pub fn parse(text: &str) -> Option<Randomness> {
        if text.len() != HEX_DIGITS as usize {
            return None;
        }
        parse_hex(text).map(Randomness)
    }

    /// Append this randomness as an `rv` value (14 lower-case hex digits).
    pub fn write(self, out: &mut String) {
        write_hex14(out, self.0);
    }
}

/// The randomness the collector's `hash_seed` mode derives from a trace id: the 32-bit FNV-1a
/// hash of the seed (4 bytes, little-endian) and the id, whose low 14 bits are the bucket,
/// spread over 56 bits as `16383 - bucket` (14 bits), then 28 bits made of the hash shifted
/// right by 18 (`u`, its top 14 bits) as `u ^ (u << 10)`, then the bucket (14 bits). The
/// collector calls `u` the "unused 18 bits", but shifts by 18, which keeps 14: this follows the
/// code, since another hop reads what it wrote.
pub fn hash_randomness(hash: u32) -> Randomness {
    let bucket = u64::from(hash & 0x3FFF);
    let inverted = 0x3FFF - bucket;
    let unused18 = u64::from(hash >> 18);
    let mixed28 = unused18 ^ (unused18 << 10);
    Randomness((inverted << 42) | (mixed28 << 14) | bucket)
}

/// 32-bit FNV-1a over the seed (little-endian) and the trace id, as the collector hashes.
pub fn fnv1a(seed: u32, id: &[u8; 16]) -> u32 {
    const OFFSET: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    seed.to_le_bytes()
        .iter()
        .chain(id)
        .fold(OFFSET, |h, &b| (h ^ u32::from(b)).wrapping_mul(PRIME))
}

/// Go's `strconv.ParseUint(text, 16, 64)` on at most 14 digits: hex digits of either case,
/// nothing else.
fn parse_hex(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(text, 16).ok()
}

fn write_hex14(out: &mut String, value: u64) {
    let _ = write!(out, "{value:014x}");
}

/// The exponent `math.Frexp` gives a positive normal float: `x = f * 2^e` with `f` in
/// `[0.5, 1)`.
fn frexp_exponent(x: f64) -> i32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    if exponent == 0 {
        // Subnormal: scale into the normal range first.
        return frexp_exponent(x * 2f64.powi(64)) - 64;
    }
    exponent - 1022
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tvalue(t: Threshold) -> String {
        let mut s = String::new();
        t.write(&mut s);
        s
    }

    #[test]
    fn the_specifications_examples() {
        // Consistent probability sampling: 40% at precision 3 is `th:99a`. At full precision
        // the float 0.4 (a little over 0.4) times 2^56 rounds to 0x66666666666668, so the
        // threshold ends in 8 where exact decimal arithmetic would end in a; Go computes the
        // same float.
        assert_eq!(tvalue(Threshold::from_probability(0.4, 3).unwrap()), "99a");
        assert_eq!(
            tvalue(Threshold::from_probability(0.4, 14).unwrap()),
            "99999999999998"
        );
        assert_eq!(tvalue(Threshold::from_probability(0.5, 4).unwrap()), "8");
        assert_eq!(tvalue(Threshold::from_probability(0.25, 4).unwrap()), "c");
        assert_eq!(tvalue(Threshold::from_probability(1.0, 4).unwrap()), "0");
        assert_eq!(tvalue(Threshold::from_probability(0.3, 4).unwrap()), "b333");
        assert_eq!(Threshold::from_probability(0.0, 4), None);
        assert_eq!(Threshold::from_probability(1.5, 4), None);
        assert_eq!(tvalue(Threshold::NEVER), "");
        assert_eq!(Threshold::parse("8"), Some(Threshold(0x80000000000000)));
        assert_eq!(Threshold::parse("C"), Some(Threshold(0xc0000000000000)));
        assert_eq!(Threshold::parse(""), None);
        assert_eq!(Threshold::parse("123456789abcdef"), None);
        assert_eq!(Threshold::parse("+1"), None);
        assert!((Threshold::parse("c").unwrap().probability() - 0.25).abs() < 1e-15);
    }

    #[test]
    fn tiny_probabilities_widen_the_precision() {
        // 2^-40 at precision 4: the exponent (-39) adds 9 digits, so it is not rounded to
        // "never".
        let t = Threshold::from_probability(2f64.powi(-40), 4).unwrap();
        assert!(t < Threshold::NEVER);
        assert_eq!(tvalue(t), "ffffffffff");
        assert_eq!(
            Threshold::from_probability(MIN_PROBABILITY, 1),
            Some(Threshold(MAX_ADJUSTED_COUNT - 1))
        );
    }

    #[test]
    fn randomness_from_trace_ids_and_rv() {
        let mut id = [0u8; 16];
        id[8..].copy_from_slice(&0xff12_3456_789a_bcdeu64.to_be_bytes());
        assert_eq!(
            Randomness::from_trace_id(&id),
            Randomness(0x12_3456_789a_bcde)
        );
        assert_eq!(
            Randomness::parse("0123456789ABCD"),
            Some(Randomness(0x0123456789abcd))
        );
        assert_eq!(Randomness::parse("123"), None);
        let mut s = String::new();
        Randomness(0xab).write(&mut s);
        assert_eq!(s, "000000000000ab");
    }

    #[test]
    fn fnv_and_the_hash_randomness() {
        // FNV-1a of no bytes is the offset basis; of the seed 0 and a zero id a fixed value.
        assert_eq!(fnv1a(0, &[0; 16]), {
            let mut h: u32 = 0x811c_9dc5;
            for _ in 0..20 {
                h = h.wrapping_mul(0x0100_0193);
            }
            h
        });
        let r = hash_randomness(0xFFFF_C000 | 5);
        assert_eq!(r.0 & 0x3FFF, 5, "the bucket is the low 14 bits");
        assert_eq!(r.0 >> 42, 0x3FFF - 5, "16383 - bucket on top");
        let top = 0x3FFFu64;
        assert_eq!((r.0 >> 14) & 0xFFF_FFFF, top ^ (top << 10));
    }
}
