//! Go's regular expressions (the `regexp` package, RE2 syntax), as the OpenTelemetry Collector's
//! processors read them, compiled with Rust's `regex` crate.
//!
//! The two syntaxes are nearly one, and both search leftmost-first. Where they read the same
//! text differently, [`translate`] rewrites the pattern so that it matches what it matches in
//! the collector:
//!
//! - `\d`, `\w`, `\s` (and `\D`, `\W`, `\S`) are ASCII classes in Go (`[0-9]`, `[0-9A-Za-z_]`,
//!   `[\t\n\f\r ]`) and Unicode classes in Rust; `\b` and `\B` are ASCII word boundaries in Go
//!   and Unicode ones in Rust. A masking pattern such as `\bP-\d{4,}\b` would otherwise miss an
//!   id written right after a non-ASCII letter (`患者P-48213`) that the collector masks.
//! - Inside a bracket class, Go reads `[`, `&&`, `--` and `~~` as plain characters; Rust
//!   opens a nested class or a set operation with them.
//! - `\Q...\E` quotes literal text in Go; Rust has no such syntax.
//! - A `{` that does not begin a counted repetition (`{n}`, `{n,}`, `{n,m}`) is a literal in Go;
//!   Rust refuses it.
//! - `\0` to `\377` (one to three octal digits) are character codes in Go; Rust reads `\1` as a
//!   back-reference and refuses it.
//!
//! Go refuses some patterns Rust accepts (the `x` flag, repetitions over 1,000): those compile
//! here.

use regex::Regex;
use std::fmt::Write as _;

/// `pattern` (Go syntax) compiled so that it matches what Go's `regexp.Compile` matches. An
/// error points into `pattern` as written where Rust's syntax refuses it too (most errors), so
/// that the message shows the user's own text.
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&translate(pattern)).map_err(|error| match Regex::new(pattern) {
        Err(own) => own,
        Ok(_) => error,
    })
}

/// `pattern` (Go syntax) rewritten in Rust's syntax with the same meaning (see the crate's
/// documentation for what changes). A pattern Go would refuse comes out as something Rust
/// refuses too, or as close to it as the rewriting goes.
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // Inside a bracket class: Go's classes do not nest.
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    // A trailing backslash: an error in both.
                    out.push('\\');
                    break;
                };
                match (next, in_class) {
                    ('Q', _) => {
                        // Literal text up to `\E` or the end.
                        while let Some(c) = chars.next() {
                            if c == '\\' && chars.peek() == Some(&'E') {
                                chars.next();
                                break;
                            }
                            push_literal(&mut out, c);
                        }
                    }
                    ('1'..='7', _) if !chars.peek().is_some_and(|c| c.is_digit(8)) => {
                        // A back-reference: refused by both.
                        out.push('\\');
                        out.push(next);
                    }
                    ('0'..='7', _) => {
                        let mut code = next.to_digit(8).expect("an octal digit");
                        for _ in 0..2 {
                            match chars.peek().and_then(|c| c.to_digit(8)) {
                                Some(digit) => {
                                    code = code * 8 + digit;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        let _ = write!(out, "\\x{{{code:X}}}");
                    }
                    ('b', false) => out.push_str("(?-u:\\b)"),
                    ('B', false) => out.push_str("(?-u:\\B)"),
                    ('d' | 'w' | 's', false) => {
                        let _ = write!(out, "[{}]", ascii_class(next));
                    }
                    ('D' | 'W' | 'S', false) => {
                        let _ = write!(out, "[^{}]", ascii_class(next.to_ascii_lowercase()));
                    }
                    ('d' | 'w' | 's', true) => out.push_str(ascii_class(next)),
                    ('D' | 'W' | 'S', true) => {
                        let _ = write!(out, "[^{}]", ascii_class(next.to_ascii_lowercase()));
                    }
                    ('p' | 'P' | 'x', _) => {
                        // A class name or a code in braces (`\p{Greek}`, `\x{1F600}`): the
                        // same in both, braces and all.
                        out.push('\\');
                        out.push(next);
                        if chars.peek() == Some(&'{') {
                            for c in chars.by_ref() {
                                out.push(c);
                                if c == '}' {
                                    break;
                                }
                            }
                        }
                    }
                    (other, _) => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                // A `]` first in the class is a literal in both; say so plainly (so any `]`
                // met later in the class closes it).
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str("\\]");
                }
            }
            '[' if in_class => {
                // A POSIX class, `[:alpha:]` or `[:^alpha:]`, is the same in both; any other
                // `[` is a literal in Go.
                let rest: String = chars.clone().collect();
                match rest.strip_prefix(':').and_then(|r| r.find(":]")) {
                    Some(end)
                        if rest[1..=end]
                            .chars()
                            .all(|c| c == '^' || c.is_ascii_alphabetic()) =>
                    {
                        out.push('[');
                        for _ in 0..end + 3 {
                            out.extend(chars.next());
                        }
                    }
                    _ => out.push_str("\\["),
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '{' if !in_class && !starts_repeat(chars.clone()) => {
                // A `{` that does not begin `{n}`, `{n,}` or `{n,m}` is a literal in Go.
                out.push_str("\\{");
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '-' if in_class && chars.peek() == Some(&'-') => {
                // `--` is a set difference in Rust: keep the first as a range's dash or a
                // literal, make the second a literal.
                out.push('-');
                chars.next();
                out.push_str("\\-");
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether `rest` (what follows a `{`) reads `n}`, `n,}` or `n,m}` (digits), as Go's parser
/// requires of a counted repetition.
fn starts_repeat(mut rest: impl Iterator<Item = char>) -> bool {
    let mut digits = 0;
    let mut next = rest.next();
    while next.is_some_and(|c| c.is_ascii_digit()) {
        digits += 1;
        next = rest.next();
    }
    if digits == 0 {
        return false;
    }
    if next == Some(',') {
        next = rest.next();
        while next.is_some_and(|c| c.is_ascii_digit()) {
            next = rest.next();
        }
    }
    next == Some('}')
}

/// Go's ASCII class for `\d`, `\w` or `\s`, as the inside of a bracket class.
fn ascii_class(class: char) -> &'static str {
    match class {
        'd' => "0-9",
        'w' => "0-9A-Za-z_",
        _ => "\\t\\n\\f\\r ",
    }
}

/// `c` as a literal in a pattern.
fn push_literal(out: &mut String, c: char) {
    let mut buffer = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buffer)));
}

#[cfg(test)]
mod tests;
