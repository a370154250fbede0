//! [`Scan`]: which of many texts a pattern may match, found with one search over all of them.
//!
//! Masking runs every blocked-value pattern over every string value. One `is_match` per value
//! costs a fixed 20 ns or more before it reads a byte, which for short values (most attribute
//! values) is most of the work. Joined with `\n` between them, the values are searched in one
//! pass instead; only the values that a match found there touches are then checked alone, as
//! before. That gives the same values when the join cannot hide a value's own match:
//!
//! - a match of a value alone is a match at the same place in the joined text, because the
//!   only assertions that look past a value's ends are word boundaries (`\b`, `\B`: `\n` is not
//!   a word character, as nothing is at a text's ends), multi-line line anchors (`(?m)^`,
//!   `(?m)$`: `\n` is a line end, as a text's ends are), and the text anchors (`^`, `$`, `\A`,
//!   `\z` without `m`) and the CRLF mode's line anchors (`(?mR)`, for which `\r\n` is one line
//!   end), which differ: a pattern using those is checked value by value;
//! - the search reports matches left to right without overlap, so a value's own match is either
//!   reported or overlapped by one that is, and both make the value a candidate;
//! - for the same reason, a match found inside one value is a match of that value alone. Only
//!   the values a match spans across a `\n` are checked alone.

use regex::Regex;
use regex_syntax::hir::Look;

/// How a pattern is looked for in many texts.
#[derive(Debug)]
pub struct Scan {
    regex: Regex,
    /// Whether one search over the joined texts finds every text that may match.
    joinable: bool,
}

impl Scan {
    /// Look for `regex` (which compiled, so its syntax parses).
    pub fn new(regex: Regex) -> Self {
        let joinable = regex_syntax::Parser::new()
            .parse(regex.as_str())
            .map(|hir| {
                let looks = hir.properties().look_set();
                ![Look::Start, Look::End, Look::StartCRLF, Look::EndCRLF]
                    .into_iter()
                    .any(|look| looks.contains(look))
            })
            .unwrap_or(false);
        Self { regex, joinable }
    }

    /// The pattern.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// Whether [`Scan::matching_joined`] may search a [`Joined`] text for this pattern (else
    /// each text is searched alone).
    pub fn joinable(&self) -> bool {
        self.joinable
    }

    /// The positions of the texts `regex` matches, ascending.
    pub fn matching<'t>(&self, count: usize, text: impl Fn(usize) -> &'t str) -> Vec<usize> {
        if !self.joinable || count < 2 {
            return (0..count)
                .filter(|&i| self.regex.is_match(text(i)))
                .collect();
        }
        self.matching_joined(&Joined::new(count, &text), text)
    }

    /// [`Scan::matching`] over texts already joined (`joined`, made from the same `text`s),
    /// for a pattern that is [`Scan::joinable`]: several patterns can search one join.
    pub fn matching_joined<'t>(
        &self,
        joined: &Joined,
        text: impl Fn(usize) -> &'t str,
    ) -> Vec<usize> {
        let Joined { text: all, ends } = joined;
        let count = ends.len();
        if count == 0 {
            return Vec::new();
        }
        // Each text a match touches (an empty match at a text's end included), and whether one
        // match lies inside it.
        let mut touched: Vec<(usize, bool)> = Vec::new();
        for found in self.regex.find_iter(all) {
            let first = ends.partition_point(|&end| end < found.start());
            let last = ends
                .partition_point(|&end| end < found.end())
                .min(count - 1);
            for i in first..=last {
                match touched.last_mut() {
                    Some((j, inside)) if *j == i => *inside |= first == last,
                    _ => touched.push((i, first == last)),
                }
            }
        }
        touched
            .into_iter()
            .filter(|&(i, inside)| inside || self.regex.is_match(text(i)))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Texts joined with `\n` between them, to be searched in one pass.
#[derive(Debug)]
pub struct Joined {
    text: String,
    /// Where each text ends in `text`.
    ends: Vec<usize>,
}

impl Joined {
    /// The `count` texts `text` gives, joined.
    pub fn new<'t>(count: usize, text: impl Fn(usize) -> &'t str) -> Self {
        let mut ends = Vec::with_capacity(count);
        let mut end = 0;
        for i in 0..count {
            end += text(i).len();
            ends.push(end);
            end += 1;
        }
        // The separators are there from the start; each text is copied between them.
        let mut joined = vec![b'\n'; end.saturating_sub(1)];
        for (i, &end) in ends.iter().enumerate() {
            let text = text(i).as_bytes();
            copy(&mut joined[end - text.len()..end], text);
        }
        #[allow(unsafe_code)]
        // SAFETY: whole UTF-8 texts with an ASCII `\n` between them are UTF-8.
        let text = unsafe { String::from_utf8_unchecked(joined) };
        Joined { text, ends }
    }
}

/// `to.copy_from_slice(from)`, without a call for the short texts most values are when built
/// as WebAssembly: there a copy of unknown length is a `memory.copy`, which wasmtime runs as a
/// call into the runtime, several times what copying a 20-byte value takes.
#[inline(always)]
fn copy(to: &mut [u8], from: &[u8]) {
    if cfg!(target_family = "wasm") && from.len() <= 64 {
        copy_short(to, from);
    } else {
        to.copy_from_slice(from);
    }
}

/// A copy of at most 64 bytes as moves of fixed sizes, which compile to loads and stores: at
/// most four of 16 bytes (overlapping), or two of 8 or 4, or three single bytes.
#[inline(always)]
fn copy_short(to: &mut [u8], from: &[u8]) {
    let n = from.len();
    if n >= 16 {
        to[..16].copy_from_slice(&from[..16]);
        if n > 32 {
            to[16..32].copy_from_slice(&from[16..32]);
        }
        if n > 48 {
            to[32..48].copy_from_slice(&from[32..48]);
        }
        to[n - 16..].copy_from_slice(&from[n - 16..]);
    } else if n >= 8 {
        to[..8].copy_from_slice(&from[..8]);
        to[n - 8..].copy_from_slice(&from[n - 8..]);
    } else if n >= 4 {
        to[..4].copy_from_slice(&from[..4]);
        to[n - 4..].copy_from_slice(&from[n - 4..]);
    } else if n > 0 {
        to[0] = from[0];
        to[n / 2] = from[n / 2];
        to[n - 1] = from[n - 1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_copies_copy_every_byte() {
        let from: Vec<u8> = (1..=64).collect();
        for n in 0..=64 {
            let mut to = vec![0; n];
            copy_short(&mut to, &from[..n]);
            assert_eq!(to, from[..n], "{n} bytes");
        }
    }

    #[test]
    fn joined_texts_sit_between_newlines() {
        let long = "a text of more than sixty-four bytes, which is copied as one block.";
        let texts = ["", "a", long, "é"];
        let joined = Joined::new(texts.len(), |i| texts[i]);
        assert_eq!(joined.text, texts.join("\n"));
        assert_eq!(joined.ends, [0, 2, 3 + long.len(), 6 + long.len()]);
        let none = Joined::new(0, |i| texts[i]);
        assert_eq!((none.text.as_str(), none.ends.len()), ("", 0));
    }

    /// What one `is_match` per text says.
    fn alone(regex: &Regex, texts: &[&str]) -> Vec<usize> {
        (0..texts.len())
            .filter(|&i| regex.is_match(texts[i]))
            .collect()
    }

    #[test]
    fn finds_what_one_search_per_text_finds() {
        let texts = [
            "plain",
            "mail a@b.io here",
            "",
            "P-12345",
            "xP-12345",
            "P-1",
            "end P-9999",
            "a@b",
            "line\nbreak",
            "ok",
            "é P-0000 é",
            "@",
            "P-",
            "12345",
        ];
        let patterns = [
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
            r"\bP-[0-9]{4,}\b",
            r"\BP-[0-9]+",
            r"(?m)^P-\d+$",
            r"^P-\d+",
            r"\d+\z",
            r"(?s).",
            r"(?s)here.*P-\d+",
            r"k\nb",
            r"a*",
            r"\n",
            r"(?i)MAIL",
            r"x?",
        ];
        for pattern in patterns {
            let regex = Regex::new(pattern).unwrap();
            let scan = Scan::new(regex.clone());
            assert_eq!(
                scan.matching(texts.len(), |i| texts[i]),
                alone(&regex, &texts),
                "{pattern}"
            );
            for n in 0..=2 {
                assert_eq!(
                    scan.matching(n, |i| texts[i]),
                    alone(&regex, &texts[..n]),
                    "{pattern} over {n}"
                );
            }
        }
    }

    #[test]
    fn text_anchors_are_checked_text_by_text() {
        for (pattern, joinable) in [
            (r"^P", false),
            (r"P$", false),
            (r"\AP", false),
            (r"P\z", false),
            (r"(?m)^P$", true),
            (r"(?mR)^P$", false),
            (r"\bP\b", true),
            (r"P", true),
        ] {
            assert_eq!(
                Scan::new(Regex::new(pattern).unwrap()).joinable,
                joinable,
                "{pattern}"
            );
        }
    }
}
