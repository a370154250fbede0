//! The string work of the URL processor, free of any batch: split a URL, filter its query,
//! collapse ID segments, cut it to length.

use crate::config::Config;
use regex::Regex;

/// What happened to one URL value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The value is already as it should be.
    Unchanged,
    /// The value was rewritten; `truncated` tells whether it was also cut to `max_length`.
    Rewritten {
        /// The new value.
        text: String,
        /// Whether it was cut.
        truncated: bool,
    },
    /// The value is not a URL or request target; it is left as it is.
    Malformed,
    /// In `extract` mode, the pattern did not match; the value is left as it is.
    Unmatched,
}

/// The rewriting rules, compiled from [`Config`].
#[derive(Debug)]
pub struct Rewriter {
    keep_params: Vec<String>,
    extract: Option<Regex>,
    collapse: Option<(String, usize)>,
    max_length: Option<usize>,
    marker: String,
}

/// A URL split at its path: `prefix` is `scheme://authority` (empty for a request target).
struct Parts<'a> {
    prefix: &'a str,
    path: &'a str,
    query: Option<&'a str>,
}

impl Rewriter {
    /// Compile the rules; a bad `extract` pattern is reported with the regex engine's reason.
    pub fn new(config: &Config) -> Result<Self, String> {
        let extract = match &config.extract {
            Some(pattern) => {
                let regex = spanwise_goregex::compile(pattern).map_err(|e| e.to_string())?;
                if regex.captures_len() < 2 {
                    return Err(format!(
                        "pattern {pattern:?} has no capture group: put the part of the URL to keep in parentheses"
                    ));
                }
                Some(regex)
            }
            None => None,
        };
        Ok(Self {
            keep_params: config.keep_params.clone(),
            extract,
            collapse: config
                .collapse_ids
                .then(|| (config.placeholder.clone(), config.min_hex_length)),
            max_length: config.max_length,
            marker: config.truncation_marker.clone(),
        })
    }

    /// Rewrite a URL attribute value.
    pub fn url(&self, value: &str) -> Outcome {
        let rewritten = match &self.extract {
            Some(regex) => {
                let Some(captures) = regex.captures(value) else {
                    return Outcome::Unmatched;
                };
                let Some(kept) = captures.name("url").or_else(|| captures.get(1)) else {
                    return Outcome::Unmatched;
                };
                match split(kept.as_str()) {
                    Some(parts) => self.join(&parts, None),
                    None => kept.as_str().to_owned(),
                }
            }
            None => {
                let Some(parts) = split(value) else {
                    return Outcome::Malformed;
                };
                let query = parts.query.and_then(|q| self.filter_query(q));
                self.join(&parts, query.as_deref())
            }
        };
        self.finish(value, rewritten)
    }

    /// Filter a query-only attribute value; `None` when nothing is kept (remove the attribute).
    pub fn query(&self, value: &str) -> Option<String> {
        if !well_formed(value) {
            return None;
        }
        self.filter_query(value.strip_prefix('?').unwrap_or(value))
    }

    /// Rewrite the paths inside a span name (`GET /users/123?x=1`); `None` when nothing changes.
    /// Names always use stripping, never `extract`: extract patterns are written for full URLs.
    /// Nothing is allocated for a name that stays as it is.
    pub fn span_name(&self, name: &str) -> Option<String> {
        let mut out: Option<String> = None;
        // `name[..copied]` is in `out`; words run from `start` to the next space.
        let (mut copied, mut start) = (0, 0);
        let ends = memchr::memchr_iter(b' ', name.as_bytes()).chain(std::iter::once(name.len()));
        for end in ends {
            if let Some(text) = self.name_word(&name[start..end]) {
                let out = out.get_or_insert_with(|| String::with_capacity(name.len()));
                out.push_str(&name[copied..start]);
                out.push_str(&text);
                copied = end;
            }
            start = end + 1;
        }
        out.map(|mut out| {
            out.push_str(&name[copied..]);
            out
        })
    }

    /// One word of a span name rewritten, when it is a path or a URL and the rewrite changes it.
    fn name_word(&self, word: &str) -> Option<String> {
        if !(word.starts_with('/') || has_scheme_separator(word)) {
            return None;
        }
        let parts = split(word)?;
        let query = parts.query.and_then(|q| self.filter_query(q));
        let text = self.join(&parts, query.as_deref());
        (text != word).then_some(text)
    }

    fn finish(&self, original: &str, mut text: String) -> Outcome {
        let mut truncated = false;
        if let Some(max) = self.max_length
            && text.len() > max
        {
            let mut cut = max.saturating_sub(self.marker.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(&self.marker);
            truncated = true;
        }
        if text == original {
            Outcome::Unchanged
        } else {
            Outcome::Rewritten { text, truncated }
        }
    }

    fn join(&self, parts: &Parts<'_>, query: Option<&str>) -> String {
        let mut out = String::with_capacity(parts.prefix.len() + parts.path.len() + 16);
        out.push_str(parts.prefix);
        match &self.collapse {
            Some((placeholder, min_hex)) => {
                // The path is copied in runs up to each id segment, not segment by segment: in
                // WebAssembly each copy is a call into the runtime. `path[..copied]` is in `out`;
                // a segment runs from `start` to the next `/`.
                let path = parts.path;
                let (mut copied, mut start) = (0, 0);
                let ends = memchr::memchr_iter(b'/', path.as_bytes()).chain([path.len()]);
                for end in ends {
                    if is_id(&path[start..end], *min_hex) {
                        out.push_str(&path[copied..start]);
                        out.push_str(placeholder);
                        copied = end;
                    }
                    start = end + 1;
                }
                out.push_str(&path[copied..]);
            }
            None => out.push_str(parts.path),
        }
        if let Some(query) = query {
            out.push('?');
            out.push_str(query);
        }
        out
    }

    fn filter_query(&self, query: &str) -> Option<String> {
        if self.keep_params.is_empty() {
            return None;
        }
        let kept: Vec<&str> = split_at_byte(query, b'&')
            .filter(|pair| {
                let name = split_at_byte(pair, b'=').next().unwrap_or("");
                if name.contains(['%', '+']) {
                    self.keep_params.contains(&percent_decode(name))
                } else {
                    self.keep_params.iter().any(|k| k == name)
                }
            })
            .collect();
        (!kept.is_empty()).then(|| kept.join("&"))
    }
}

/// Split a URL (`scheme://authority/path?query#fragment`) or a request target
/// (`/path?query#fragment`); `None` when it is neither, or holds whitespace, control characters
/// or a broken percent-escape.
fn split(value: &str) -> Option<Parts<'_>> {
    if !well_formed(value) {
        return None;
    }
    let path_start = if value.starts_with('/') {
        0
    } else {
        // The scheme ends at the first `:`, which must start `://`.
        let scheme_end = memchr::memchr(b':', value.as_bytes())?;
        if !value[scheme_end..].starts_with("://") {
            return None;
        }
        let scheme = &value[..scheme_end];
        let mut chars = scheme.chars();
        if !chars.next()?.is_ascii_alphabetic()
            || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return None;
        }
        let authority_start = scheme_end + 3;
        let authority_len = memchr::memchr3(b'/', b'?', b'#', &value.as_bytes()[authority_start..])
            .unwrap_or(value.len() - authority_start);
        if authority_len == 0 {
            return None;
        }
        authority_start + authority_len
    };
    // The path ends at the first `?` or `#`; a query runs from a `?` to the first `#` after it.
    let rest = &value[path_start..];
    let (path, query) = match memchr::memchr2(b'?', b'#', rest.as_bytes()) {
        None => (rest, None),
        Some(at) if rest.as_bytes()[at] == b'#' => (&rest[..at], None),
        Some(at) => {
            let query = &rest[at + 1..];
            let end = memchr::memchr(b'#', query.as_bytes()).unwrap_or(query.len());
            (&rest[..at], Some(&query[..end]))
        }
    };
    Some(Parts {
        prefix: &value[..path_start],
        path,
        query,
    })
}

fn well_formed(value: &str) -> bool {
    let bytes = value.as_bytes();
    // Most values are printable ASCII throughout; the others are looked at char by char.
    let clean =
        printable_ascii(bytes) || !value.chars().any(|c| c.is_whitespace() || c.is_control());
    let hex = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_hexdigit);
    clean && memchr::memchr_iter(b'%', bytes).all(|at| hex(at + 1) && hex(at + 2))
}

/// Whether every byte is printable ASCII (`!` to `~`), so that the text has no whitespace or
/// control character.
///
/// One pass without an early exit, 32 bytes per round as four 64-bit words (URLs run to
/// kilobytes, and the standard library's `is_ascii` is not vectorised for WebAssembly). The
/// loop keeps two integers, where the vector loop the compiler makes of it keeps six vectors,
/// which WebAssembly's compiled code spills and reloads every 16 bytes (the call-deadline check
/// in each loop may call out, and a call clobbers every vector register); WebAssembly with SIMD
/// has its own version below.
#[cfg(not(all(target_family = "wasm", target_feature = "simd128")))]
fn printable_ascii(bytes: &[u8]) -> bool {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    // High bit of each byte: set where the byte is at most a space, or is DEL (for bytes
    // below 0x80; the others have their own high bit set).
    let controls_in = |w: u64| {
        let low = w & LOW7;
        (!(low + 0x5f5f_5f5f_5f5f_5f5f) | (low + 0x0101_0101_0101_0101)) & !w & HIGH
    };
    let (mut controls, mut wide) = (0u64, 0u64);
    let rounds = bytes.chunks_exact(32);
    let rest = rounds.remainder();
    for round in rounds {
        let (a, b, c, d) = (
            word(&round[..8]),
            word(&round[8..16]),
            word(&round[16..24]),
            word(&round[24..]),
        );
        controls |= controls_in(a) | controls_in(b) | controls_in(c) | controls_in(d);
        wide |= a | b | c | d;
    }
    controls == 0 && wide & HIGH == 0 && rest.iter().all(|b| (b'!'..=b'~').contains(b))
}

/// [`printable_ascii`] with WebAssembly SIMD, 64 bytes a round into one vector: a byte below
/// `!` compared as signed is a control, a space, or a byte from 0x80 up (negative), and DEL is
/// compared alone. The loop keeps that vector and three constants, which Cranelift's code
/// reloads once per 64 bytes instead of once per 16 (see above).
#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
fn printable_ascii(bytes: &[u8]) -> bool {
    use core::arch::wasm32::{i8x16_eq, i8x16_lt, i8x16_splat, v128_any_true, v128_or};
    let load = |chunk: &[u8]| spanwise_sdk::load16(chunk[..16].try_into().expect("16 bytes"));
    let (space, del) = (i8x16_splat(b'!' as i8), i8x16_splat(0x7f));
    let odd = |chunk: &[u8]| {
        let v = load(chunk);
        v128_or(i8x16_lt(v, space), i8x16_eq(v, del))
    };
    let mut found = i8x16_splat(0);
    let rounds = bytes.chunks_exact(64);
    let rest = rounds.remainder();
    for round in rounds {
        let (a, b) = (odd(&round[..16]), odd(&round[16..32]));
        let (c, d) = (odd(&round[32..48]), odd(&round[48..]));
        found = v128_or(found, v128_or(v128_or(a, b), v128_or(c, d)));
    }
    let sixteens = rest.chunks_exact(16);
    let tail = sixteens.remainder();
    for chunk in sixteens {
        found = v128_or(found, odd(chunk));
    }
    !v128_any_true(found) && tail.iter().all(|b| (b'!'..=b'~').contains(b))
}

/// Whether `word` holds `://` (`str::contains` sets up a substring search for each word).
fn has_scheme_separator(word: &str) -> bool {
    memchr::memchr_iter(b':', word.as_bytes()).any(|at| word[at + 1..].starts_with("//"))
}

/// `text` split at each `separator` byte (an ASCII character), as `str::split` would, with
/// the search vectorised.
fn split_at_byte(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    debug_assert!(separator.is_ascii());
    let mut start = 0;
    memchr::memchr_iter(separator, text.as_bytes())
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            let part = &text[start..end];
            start = end + 1;
            part
        })
}

fn is_id(segment: &str, min_hex: usize) -> bool {
    let bytes = segment.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    if bytes.iter().all(u8::is_ascii_digit) {
        return true;
    }
    let uuid = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    uuid || (bytes.len() >= min_hex
        && bytes.iter().all(u8::is_ascii_hexdigit)
        && bytes.iter().any(u8::is_ascii_digit))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewriter(json: &str) -> Rewriter {
        Rewriter::new(&Config::parse(json).unwrap()).unwrap()
    }

    fn text(outcome: Outcome) -> String {
        match outcome {
            Outcome::Rewritten { text, .. } => text,
            other => panic!("expected a rewrite, got {other:?}"),
        }
    }

    #[test]
    fn scheme_separators_are_found_as_contains_finds_them() {
        for word in [
            "", ":", "://", "a://b", "a:/b", "a:b://c", "::/", "x:", "é://",
        ] {
            assert_eq!(has_scheme_separator(word), word.contains("://"), "{word:?}");
        }
    }

    #[test]
    fn well_formed_finds_every_control_wherever_it_is() {
        // The reference: no whitespace or control character, and every `%` before two hex
        // digits.
        let reference = |value: &str| {
            let bytes = value.as_bytes();
            !value.chars().any(|c| c.is_whitespace() || c.is_control())
                && bytes.iter().enumerate().all(|(at, &b)| {
                    b != b'%'
                        || (bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
                            && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit))
                })
        };
        // Every length around the rounds of 16, 32 and 64 bytes, each odd character at every
        // position.
        for len in [
            0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 79, 80, 100, 127, 128, 129,
        ] {
            for odd in [
                "\0", "\t", " ", "\x1f", "!", "\x7f", "~", "é", "\u{a0}", "\u{85}", "%4",
            ] {
                for at in 0..=len {
                    let mut value = "a".repeat(len);
                    value.insert_str(at, odd);
                    assert_eq!(well_formed(&value), reference(&value), "{value:?}");
                }
            }
        }
    }

    #[test]
    fn byte_splits_match_str_split() {
        for text in ["", "&", "a", "a&b", "&a&&b&", "page=2&token=x\u{e9}&z"] {
            assert_eq!(
                split_at_byte(text, b'&').collect::<Vec<_>>(),
                text.split('&').collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn strips_query_and_fragment() {
        let r = rewriter("{}");
        assert_eq!(
            text(r.url("https://api.example.com/v1/sleep-logs?token=abc&page=2#top")),
            "https://api.example.com/v1/sleep-logs"
        );
        assert_eq!(text(r.url("/v1/sleep-logs?token=abc")), "/v1/sleep-logs");
        assert_eq!(text(r.url("https://host?x=1")), "https://host");
        assert_eq!(
            r.url("https://api.example.com/v1/sleep-logs"),
            Outcome::Unchanged
        );
    }

    #[test]
    fn keeps_only_listed_params_in_order() {
        let r = rewriter(r#"{"keep_params": ["page", "sort by"]}"#);
        assert_eq!(
            text(r.url("/logs?token=abc&page=2&sort%20by=date&patient=7")),
            "/logs?page=2&sort%20by=date"
        );
        assert_eq!(text(r.url("/logs?token=abc")), "/logs");
        assert_eq!(r.query("token=abc&page=3"), Some("page=3".into()));
        assert_eq!(r.query("token=abc"), None);
    }

    #[test]
    fn collapses_digits_uuids_and_long_hex() {
        let r = rewriter(r#"{"collapse_ids": true}"#);
        assert_eq!(
            text(r.url(
                "https://h/users/12345/logs/3f2b8c1e-9d4a-4f6b-8e2a-1c5d7e9f0a1b/blob/0123456789abcdef0123"
            )),
            "https://h/users/{id}/logs/{id}/blob/{id}"
        );
        assert_eq!(
            r.url("/users/me/deadbeefcafebabe"),
            Outcome::Unchanged,
            "hex without digits and words stay"
        );
        let r = rewriter(r#"{"collapse_ids": true, "placeholder": ":id"}"#);
        assert_eq!(text(r.url("/users/42")), "/users/:id");
    }

    #[test]
    fn paths_copied_in_runs_are_what_segment_by_segment_gives() {
        // Ids first, last, side by side, and between empty segments: each path against the
        // segment-by-segment rewrite.
        let r = rewriter(r#"{"collapse_ids": true}"#);
        let words = ["users", "42", "", "7", "me", "0123456789abcdef0"];
        for a in words {
            for b in words {
                for c in words {
                    for tail in ["", "/"] {
                        let path = format!("/{a}/{b}/{c}{tail}");
                        let expected: Vec<&str> = path
                            .split('/')
                            .map(|segment| if is_id(segment, 16) { "{id}" } else { segment })
                            .collect();
                        let expected = format!("https://h{}", expected.join("/"));
                        let got = match r.url(&format!("https://h{path}")) {
                            Outcome::Rewritten { text, .. } => text,
                            _ => format!("https://h{path}"),
                        };
                        assert_eq!(got, expected, "{path}");
                    }
                }
            }
        }
    }

    #[test]
    fn span_names_get_the_same_treatment() {
        let r = rewriter(r#"{"collapse_ids": true, "span_names": true}"#);
        assert_eq!(
            r.span_name("GET /users/123?x=1"),
            Some("GET /users/{id}".into())
        );
        assert_eq!(r.span_name("GET /health"), None);
        assert_eq!(r.span_name("SELECT patients"), None);
        // As splitting at spaces, rewriting each word and joining them again would.
        let by_words = |name: &str| {
            let words: Vec<String> = name
                .split(' ')
                .map(|word| r.name_word(word).unwrap_or_else(|| word.to_owned()))
                .collect();
            Some(words.join(" ")).filter(|joined| joined != name)
        };
        for name in [
            "",
            " ",
            "GET /users/123?x=1 HTTP/1.1",
            "  /a/42  https://h/b/7?x=1 ",
            "/users/123",
            "POST /users/123/orders/456 /health /items/9",
            "é /caf/é/1 x",
        ] {
            assert_eq!(r.span_name(name), by_words(name), "{name:?}");
        }
    }

    #[test]
    fn max_length_cuts_on_a_char_boundary_with_the_marker() {
        let r = rewriter(r#"{"max_length": 20}"#);
        match r.url("https://h/ééééééééééé?q=1") {
            Outcome::Rewritten { text, truncated } => {
                assert!(truncated);
                assert!(text.len() <= 20, "{text}");
                assert!(text.ends_with("..."));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_values_are_reported_not_touched() {
        let r = rewriter("{}");
        for bad in [
            "not a url",
            "example.com/path?q=1",
            "https:///path?q=1",
            "/path?q=%zz",
            "1http://x/?q",
            "",
            "/caf\u{e9}\u{2003}menu",
            "/tab\there",
        ] {
            assert_eq!(r.url(bad), Outcome::Malformed, "{bad:?}");
        }
    }

    #[test]
    fn extract_idiom_matches_stripping() {
        let strip = rewriter("{}");
        let extract = rewriter(r#"{"extract": "^(https?://[^/]+/[^?]*)"}"#);
        for url in [
            "https://api.example.com/v1/sleep-logs?token=abc",
            "http://api.example.com/v1/questionnaires/42/answers?session=9",
            "https://api.example.com/health",
        ] {
            assert_eq!(strip.url(url), extract.url(url), "{url}");
        }
        assert_eq!(extract.url("/relative?x=1"), Outcome::Unmatched);
        assert!(Rewriter::new(&Config::parse(r#"{"extract": "^https://"}"#).unwrap()).is_err());
        assert!(Rewriter::new(&Config::parse(r#"{"extract": "("}"#).unwrap()).is_err());
    }
}
