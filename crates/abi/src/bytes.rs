//! [`or_all`]: one pass over a byte slice that plugins make over whole columns (is any row
//! present, is every byte ASCII); and, built as WebAssembly with SIMD, `load16`, which
//! plugins' own SIMD loops read their bytes with.

/// The bitwise OR of every byte of `bytes` (0 for none): not 0 when any byte is set, below
/// 0x80 when every byte is ASCII.
///
/// Natively, 32 bytes a round as four 64-bit words, which the compiler vectorises; compiled
/// WebAssembly keeps a vectorised loop's vectors on the stack around each round's call-deadline
/// check, so few rounds is what counts there. Built as WebAssembly with SIMD, 64 bytes a round
/// into one vector.
pub fn or_all(bytes: &[u8]) -> u8 {
    let rounds = bytes.chunks_exact(ROUND);
    let rest = rounds.remainder();
    let all = rounds.fold(0u64, |all, round| all | or_round(round));
    let all = rest.iter().fold(all, |all, &b| all | u64::from(b));
    all.to_le_bytes().iter().fold(0, |all, &b| all | b)
}

#[cfg(not(all(target_family = "wasm", target_feature = "simd128")))]
const ROUND: usize = 32;

/// The OR of one round's bytes, as a word whose bytes OR to theirs.
#[cfg(not(all(target_family = "wasm", target_feature = "simd128")))]
#[inline(always)]
fn or_round(round: &[u8]) -> u64 {
    let word = |at: usize| u64::from_le_bytes(round[at..at + 8].try_into().expect("8 bytes"));
    word(0) | word(8) | word(16) | word(24)
}

#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
const ROUND: usize = 64;

#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
#[inline(always)]
fn or_round(round: &[u8]) -> u64 {
    use core::arch::wasm32::{u64x2_extract_lane, v128_or};
    let load = |at: usize| load16(round[at..at + 16].try_into().expect("16 bytes"));
    let all = v128_or(v128_or(load(0), load(16)), v128_or(load(32), load(48)));
    u64x2_extract_lane::<0>(all) | u64x2_extract_lane::<1>(all)
}

/// Sixteen bytes as one WebAssembly SIMD vector (a single unaligned `v128.load`).
#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
#[inline(always)]
pub fn load16(bytes: &[u8; 16]) -> core::arch::wasm32::v128 {
    #[allow(unsafe_code)]
    // SAFETY: the 16 bytes read are `bytes`; `v128_load` has no alignment requirement.
    unsafe {
        core::arch::wasm32::v128_load(bytes.as_ptr().cast())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_counts_wherever_it_is() {
        for len in [0, 1, 7, 8, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200] {
            assert_eq!(or_all(&vec![0; len]), 0, "{len}");
            for at in 0..len {
                for bit in [0x01, 0x80] {
                    let mut bytes = vec![0x20; len];
                    bytes[at] |= bit;
                    assert_eq!(or_all(&bytes), 0x20 | bit, "{len} {at} {bit:#x}");
                }
            }
        }
    }
}
