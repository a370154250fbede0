//! Tokens of OTTL, with the byte column each starts at.

use crate::parser::ParseError;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A string literal, unquoted.
    Str(String),
    /// An unsigned integer literal.
    Int(i64),
    /// An unsigned float literal.
    Float(f64),
    /// A `0x...` literal.
    Bytes(Vec<u8>),
    /// `true` or `false`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// `not`.
    Not,
    /// `and`.
    And,
    /// `or`.
    Or,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`.
    Compare(&'static str),
    /// `+`, `-`, `*`, `/`.
    Math(char),
    /// `=>` (lambdas, which conditions do not take).
    Arrow,
    /// `=`, `(`, `)`, `{`, `}`, `:`, `,`, `.`, `[`, `]`.
    Punct(char),
    /// A word starting with a capital: an enum symbol (`SPAN_KIND_SERVER`) when it has no
    /// lowercase letter, else a converter's name (`IsMatch`).
    Upper(String),
    /// A word starting with a lowercase letter or `_`: a path segment or an editor's name.
    Lower(String),
}

/// A token and the 1-based column of its first character.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    /// The token.
    pub token: Token,
    /// Where it starts (1-based, in characters).
    pub column: usize,
}

/// Split `text` into tokens.
pub fn tokens(text: &str) -> Result<Vec<Spanned>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let token = if c == '"' {
            let (text, end) = string(&chars, i)?;
            i = end;
            Token::Str(text)
        } else if c == '0' && chars.get(i + 1).is_some_and(|&x| x == 'x' || x == 'X') {
            let start = i + 2;
            let mut end = start;
            while end < chars.len() && chars[end].is_ascii_hexdigit() {
                end += 1;
            }
            let digits: String = chars[start..end].iter().collect();
            if digits.is_empty() || !digits.len().is_multiple_of(2) {
                return Err(ParseError::at(
                    column,
                    "a byte literal needs an even number of hex digits after 0x",
                ));
            }
            i = end;
            Token::Bytes(
                (0..digits.len())
                    .step_by(2)
                    .map(|k| u8::from_str_radix(&digits[k..k + 2], 16).expect("hex digits"))
                    .collect(),
            )
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let (token, end) = number(&chars, i)?;
            i = end;
            token
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut end = i;
            while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            let word: String = chars[i..end].iter().collect();
            i = end;
            match word.as_str() {
                "true" => Token::Bool(true),
                "false" => Token::Bool(false),
                "nil" => Token::Nil,
                "not" => Token::Not,
                "and" => Token::And,
                "or" => Token::Or,
                _ if c.is_ascii_uppercase() => Token::Upper(word),
                _ => Token::Lower(word),
            }
        } else {
            let next = chars.get(i + 1).copied();
            let (token, width) = match (c, next) {
                ('=', Some('=')) => (Token::Compare("=="), 2),
                ('!', Some('=')) => (Token::Compare("!="), 2),
                ('<', Some('=')) => (Token::Compare("<="), 2),
                ('>', Some('=')) => (Token::Compare(">="), 2),
                ('=', Some('>')) => (Token::Arrow, 2),
                ('<', _) => (Token::Compare("<"), 1),
                ('>', _) => (Token::Compare(">"), 1),
                ('+' | '-' | '*' | '/', _) => (Token::Math(c), 1),
                ('=' | '(' | ')' | '{' | '}' | ':' | ',' | '.' | '[' | ']', _) => {
                    (Token::Punct(c), 1)
                }
                _ => {
                    return Err(ParseError::at(
                        column,
                        format!("unexpected character {c:?}"),
                    ));
                }
            };
            i += width;
            token
        };
        out.push(Spanned { token, column });
    }
    Ok(out)
}

/// A number at `start`: `\d+` is an integer; `\d+\.\d*` or `\d*\.\d+`, with an optional
/// exponent, a float.
fn number(chars: &[char], start: usize) -> Result<(Token, usize), ParseError> {
    let digits = |mut i: usize| {
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut end = digits(start);
    let mut float = false;
    if chars.get(end) == Some(&'.') {
        float = true;
        end = digits(end + 1);
    }
    if float && matches!(chars.get(end), Some('e' | 'E')) {
        let mut exp = end + 1;
        if matches!(chars.get(exp), Some('+' | '-')) {
            exp += 1;
        }
        let after = digits(exp);
        if after > exp {
            end = after;
        }
    }
    let text: String = chars[start..end].iter().collect();
    let token = if float {
        Token::Float(
            text.parse()
                .map_err(|_| ParseError::at(start + 1, format!("{text:?} is not a number")))?,
        )
    } else {
        Token::Int(text.parse().map_err(|_| {
            ParseError::at(
                start + 1,
                format!("{text} does not fit in a 64-bit integer"),
            )
        })?)
    };
    Ok((token, end))
}

/// A string literal at `start` (the opening quote), unquoted as Go's `strconv.Unquote` does;
/// returns the text and the index after the closing quote.
fn string(chars: &[char], start: usize) -> Result<(String, usize), ParseError> {
    let mut out = String::new();
    let mut i = start + 1;
    let bad = |i: usize, what: &str| ParseError::at(i + 1, what.to_owned());
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(bad(start, "this string has no closing quote"));
        };
        match c {
            '"' => return Ok((out, i + 1)),
            '\n' => return Err(bad(i, "a string cannot span lines")),
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err(bad(start, "this string has no closing quote"));
                };
                let simple = match e {
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    'v' => Some('\u{b}'),
                    '\\' => Some('\\'),
                    '"' => Some('"'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    i += 2;
                    continue;
                }
                let (len, radix) = match e {
                    'x' => (2, 16),
                    'u' => (4, 16),
                    'U' => (8, 16),
                    '0'..='7' => (3, 8),
                    _ => return Err(bad(i, &format!("unknown escape \\{e}"))),
                };
                let from = if radix == 8 { i + 1 } else { i + 2 };
                let digits: String = chars.get(from..from + len).unwrap_or(&[]).iter().collect();
                let code = (digits.len() == len)
                    .then(|| u32::from_str_radix(&digits, radix).ok())
                    .flatten()
                    .ok_or_else(|| bad(i, &format!("escape \\{e} needs {len} digits")))?;
                if e == 'x' || radix == 8 {
                    // A byte: Go allows any, Rust strings hold UTF-8 only.
                    if code > 0x7f {
                        return Err(bad(i, "a byte escape above \\x7f would not be valid UTF-8"));
                    }
                }
                out.push(
                    char::from_u32(code)
                        .ok_or_else(|| bad(i, "this escape is not a Unicode character"))?,
                );
                i = from + len;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
}
