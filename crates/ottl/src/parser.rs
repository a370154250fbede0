//! A recursive-descent parser for OTTL conditions, with the collector grammar's precedence.

use crate::ast::{Arg, Call, CompareOp, Condition, Field, Key, MathOp, Value};
use crate::lexer::{Spanned, Token, tokens};

/// Why a condition does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    /// The 1-based column (in characters) where the problem starts.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    pub(crate) fn at(column: usize, message: impl Into<String>) -> Self {
        Self {
            column,
            message: message.into(),
        }
    }
}

/// Parse one OTTL condition.
pub fn parse_condition(text: &str) -> Result<Condition, ParseError> {
    let tokens = tokens(text)?;
    if tokens.is_empty() {
        return Err(ParseError::at(1, "the condition is empty"));
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: text.chars().count() + 1,
    };
    let condition = parser.or()?;
    match parser.peek() {
        None => Ok(condition),
        Some(token) => Err(parser.here(format!(
            "unexpected {} after a complete condition",
            describe(token)
        ))),
    }
}

struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    /// The column just past the end of the text.
    end: usize,
}

type Parsed<T> = Result<T, ParseError>;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|s| &s.token)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.pos + ahead).map(|s| &s.token)
    }

    fn here(&self, message: impl Into<String>) -> ParseError {
        let column = self.tokens.get(self.pos).map_or(self.end, |s| s.column);
        ParseError::at(column, message)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).map(|s| s.token.clone());
        self.pos += usize::from(token.is_some());
        token
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, what: &str) -> Parsed<()> {
        if self.eat(&Token::Punct(c)) {
            Ok(())
        } else {
            let found = self.peek().map_or("the end".to_owned(), describe);
            Err(self.here(format!("expected {c:?} {what}, found {found}")))
        }
    }

    /// `a or b or c`: the loosest binding.
    fn or(&mut self) -> Parsed<Condition> {
        let mut left = self.and()?;
        while self.eat(&Token::Or) {
            let right = self.and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `a and b and c`.
    fn and(&mut self) -> Parsed<Condition> {
        let mut left = self.boolean()?;
        while self.eat(&Token::And) {
            let right = self.boolean()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// An optional `not`, then a comparison, `true`/`false`, a converter or a parenthesized
    /// condition, tried in that order (as the collector's grammar does).
    fn boolean(&mut self) -> Parsed<Condition> {
        if self.eat(&Token::Not) {
            if self.peek() == Some(&Token::Not) {
                return Err(self.here("`not not` is not OTTL: write the condition itself"));
            }
            return Ok(Condition::Not(Box::new(self.boolean_operand()?)));
        }
        self.boolean_operand()
    }

    fn boolean_operand(&mut self) -> Parsed<Condition> {
        let start = self.pos;
        let comparison = self.comparison();
        let error = match comparison {
            Ok(condition) => return Ok(condition),
            Err(e) => e,
        };
        let after_comparison = self.pos;
        self.pos = start;
        match self.peek() {
            Some(Token::Bool(b)) if !self.is_compare_at(1) => {
                let b = *b;
                self.pos += 1;
                Ok(Condition::Const(b))
            }
            Some(Token::Upper(_)) if self.peek_at(1) == Some(&Token::Punct('(')) => {
                let call = self.call()?;
                if matches!(self.peek(), Some(Token::Compare(_) | Token::Math(_))) {
                    // It was meant as a comparison: its own error says more.
                    self.pos = after_comparison;
                    return Err(error);
                }
                Ok(Condition::Call(call))
            }
            Some(Token::Punct('(')) => {
                self.pos += 1;
                let inner = self.or();
                match inner {
                    Ok(inner) if self.eat(&Token::Punct(')')) => Ok(inner),
                    // `(a + b) < c` is arithmetic, not a nested condition: the comparison's
                    // error is the one to show.
                    _ => {
                        self.pos = after_comparison;
                        Err(error)
                    }
                }
            }
            _ => {
                self.pos = after_comparison;
                Err(error)
            }
        }
    }

    fn is_compare_at(&self, ahead: usize) -> bool {
        matches!(self.peek_at(ahead), Some(Token::Compare(_)))
    }

    fn comparison(&mut self) -> Parsed<Condition> {
        let left = self.value()?;
        let op = match self.peek() {
            Some(Token::Compare(op)) => match *op {
                "==" => CompareOp::Eq,
                "!=" => CompareOp::Ne,
                "<" => CompareOp::Lt,
                "<=" => CompareOp::Le,
                ">" => CompareOp::Gt,
                _ => CompareOp::Ge,
            },
            other => {
                let found = other.map_or("the end".to_owned(), describe);
                return Err(self.here(format!(
                    "expected a comparison (==, !=, <, <=, >, >=), found {found}"
                )));
            }
        };
        self.pos += 1;
        let right = self.value()?;
        Ok(Condition::Compare { left, op, right })
    }

    /// One value (OTTL's `value`): `nil`, a string, bytes, a boolean, an enum, a list, a map,
    /// or a number, path or converter with any arithmetic on them.
    fn value(&mut self) -> Parsed<Value> {
        match self.peek() {
            Some(Token::Nil) => self.literal(Value::Nil),
            Some(Token::Str(s)) => {
                let s = s.clone();
                self.literal(Value::Str(s))
            }
            Some(Token::Bytes(b)) => {
                let b = b.clone();
                self.literal(Value::Bytes(b))
            }
            Some(Token::Bool(b)) => {
                let b = *b;
                self.literal(Value::Bool(b))
            }
            Some(Token::Upper(word))
                if self.peek_at(1) != Some(&Token::Punct('('))
                    && !word.chars().any(|c| c.is_ascii_lowercase()) =>
            {
                let word = word.clone();
                self.literal(Value::Enum(word))
            }
            Some(Token::Punct('[')) => self.list(),
            Some(Token::Punct('{')) => self.map(),
            Some(Token::Punct('(')) if self.lambda_ahead() => {
                Err(self.here("lambdas are not supported in conditions"))
            }
            _ => self.sum(),
        }
    }

    fn literal(&mut self, value: Value) -> Parsed<Value> {
        self.pos += 1;
        if let Some(Token::Math(op)) = self.peek() {
            return Err(self.here(format!("{op} works on numbers, paths and converters only")));
        }
        Ok(value)
    }

    /// Whether a `(` starts a lambda: `(x, y) =>`.
    fn lambda_ahead(&self) -> bool {
        let mut i = 1;
        while let Some(token) = self.peek_at(i) {
            match token {
                Token::Punct(')') => return self.peek_at(i + 1) == Some(&Token::Arrow),
                Token::Lower(_) | Token::Punct(',') => i += 1,
                _ => return false,
            }
        }
        false
    }

    /// `a + b - c`.
    fn sum(&mut self) -> Parsed<Value> {
        let mut left = self.product()?;
        while let Some(Token::Math(c @ ('+' | '-'))) = self.peek() {
            let op = if *c == '+' { MathOp::Add } else { MathOp::Sub };
            self.pos += 1;
            let right = self.product()?;
            left = Value::Math {
                left: Box::new(left),
                op,
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    /// `a * b / c`.
    fn product(&mut self) -> Parsed<Value> {
        let mut left = self.unary()?;
        while let Some(Token::Math(c @ ('*' | '/'))) = self.peek() {
            let op = if *c == '*' { MathOp::Mul } else { MathOp::Div };
            self.pos += 1;
            let right = self.unary()?;
            left = Value::Math {
                left: Box::new(left),
                op,
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    /// An optional sign, then an operand. A minus on a number literal makes a negative literal.
    fn unary(&mut self) -> Parsed<Value> {
        let sign = match self.peek() {
            Some(Token::Math(c @ ('+' | '-'))) => {
                let c = *c;
                self.pos += 1;
                Some(c)
            }
            _ => None,
        };
        let operand = self.operand()?;
        Ok(match (sign, operand) {
            (Some('-'), Value::Int(i)) => Value::Int(-i),
            (Some('-'), Value::Float(f)) => Value::Float(-f),
            (Some('-'), other) => Value::Neg(Box::new(other)),
            (_, other) => other,
        })
    }

    /// What arithmetic works on: a number, a path, a converter, or a parenthesized sum.
    fn operand(&mut self) -> Parsed<Value> {
        match self.peek().cloned() {
            Some(Token::Int(i)) => {
                self.pos += 1;
                Ok(Value::Int(i))
            }
            Some(Token::Float(f)) => {
                self.pos += 1;
                Ok(Value::Float(f))
            }
            Some(Token::Upper(name)) => {
                if self.peek_at(1) == Some(&Token::Punct('(')) {
                    Ok(Value::Call(self.call()?))
                } else {
                    Err(self.here(format!(
                        "{name} is not a value: a converter needs its arguments in parentheses, \
                         an enum is written in capitals"
                    )))
                }
            }
            Some(Token::Lower(name)) => {
                if self.peek_at(1) == Some(&Token::Punct('(')) {
                    return Err(self.here(format!(
                        "{name}(...) is an editor: editors change data and are statements, not \
                         conditions"
                    )));
                }
                self.path()
            }
            Some(Token::Punct('(')) => {
                self.pos += 1;
                let inner = self.sum()?;
                self.expect(')', "to close the parenthesis")?;
                Ok(inner)
            }
            Some(other) => Err(self.here(format!("expected a value, found {}", describe(&other)))),
            None => Err(self.here("expected a value, found the end")),
        }
    }

    /// `a.b["k"][0].c`.
    fn path(&mut self) -> Parsed<Value> {
        let mut fields = Vec::new();
        loop {
            let Some(Token::Lower(name)) = self.next() else {
                self.pos -= 1;
                return Err(self.here("expected a path segment (a lowercase name) after '.'"));
            };
            let keys = self.keys()?;
            fields.push(Field { name, keys });
            if self.peek() == Some(&Token::Punct('.')) {
                self.pos += 1;
                if !matches!(self.peek(), Some(Token::Lower(_))) {
                    return Err(self.here("expected a path segment (a lowercase name) after '.'"));
                }
            } else {
                return Ok(Value::Path(fields));
            }
        }
    }

    /// Zero or more `[key]` indexes.
    fn keys(&mut self) -> Parsed<Vec<Key>> {
        let mut keys = Vec::new();
        while self.eat(&Token::Punct('[')) {
            let key = match self.peek().cloned() {
                Some(Token::Str(s)) => {
                    self.pos += 1;
                    Key::Str(s)
                }
                Some(Token::Int(i)) if self.peek_at(1) == Some(&Token::Punct(']')) => {
                    self.pos += 1;
                    Key::Int(i)
                }
                Some(_) => Key::Expr(Box::new(self.sum()?)),
                None => return Err(self.here("expected a key after '[', found the end")),
            };
            self.expect(']', "to close the index")?;
            keys.push(key);
        }
        Ok(keys)
    }

    /// `Name(args)[keys]`.
    fn call(&mut self) -> Parsed<Call> {
        let Some(Token::Upper(name)) = self.next() else {
            unreachable!("call() is entered on a name");
        };
        self.expect('(', "after the converter's name")?;
        let mut args = Vec::new();
        if !self.eat(&Token::Punct(')')) {
            loop {
                args.push(self.arg()?);
                if self.eat(&Token::Punct(')')) {
                    break;
                }
                self.expect(',', "between arguments")?;
            }
        }
        let keys = self.keys()?;
        Ok(Call { name, args, keys })
    }

    fn arg(&mut self) -> Parsed<Arg> {
        match (self.peek().cloned(), self.peek_at(1)) {
            (Some(Token::Lower(name)), Some(Token::Punct('='))) => {
                self.pos += 2;
                Ok(Arg::Named(name, self.value()?))
            }
            (Some(Token::Upper(name)), next)
                if next != Some(&Token::Punct('('))
                    && name.chars().any(|c| c.is_ascii_lowercase()) =>
            {
                self.pos += 1;
                Ok(Arg::Function(name))
            }
            _ => Ok(Arg::Value(self.value()?)),
        }
    }

    /// `[a, b]`.
    fn list(&mut self) -> Parsed<Value> {
        self.pos += 1;
        let mut values = Vec::new();
        if !self.eat(&Token::Punct(']')) {
            loop {
                values.push(self.value()?);
                if self.eat(&Token::Punct(']')) {
                    break;
                }
                self.expect(',', "between list items")?;
            }
        }
        Ok(Value::List(values))
    }

    /// `{"k": v, "l": w}` (a trailing comma allowed, as in the collector).
    fn map(&mut self) -> Parsed<Value> {
        self.pos += 1;
        let mut items = Vec::new();
        while !self.eat(&Token::Punct('}')) {
            let Some(Token::Str(key)) = self.peek().cloned() else {
                let found = self.peek().map_or("the end".to_owned(), describe);
                return Err(self.here(format!("expected a string key in the map, found {found}")));
            };
            self.pos += 1;
            self.expect(':', "after the map key")?;
            items.push((key, self.value()?));
            self.eat(&Token::Punct(','));
        }
        Ok(Value::Map(items))
    }
}

/// A token as an error message shows it.
fn describe(token: &Token) -> String {
    match token {
        Token::Str(s) => format!("the string {s:?}"),
        Token::Int(i) => format!("the number {i}"),
        Token::Float(f) => format!("the number {f}"),
        Token::Bytes(_) => "a byte literal".to_owned(),
        Token::Bool(b) => format!("`{b}`"),
        Token::Nil => "`nil`".to_owned(),
        Token::Not => "`not`".to_owned(),
        Token::And => "`and`".to_owned(),
        Token::Or => "`or`".to_owned(),
        Token::Compare(op) => format!("`{op}`"),
        Token::Math(c) => format!("`{c}`"),
        Token::Arrow => "`=>`".to_owned(),
        Token::Punct(c) => format!("`{c}`"),
        Token::Upper(w) | Token::Lower(w) => format!("`{w}`"),
    }
}
