//! The tree of a parsed condition.

/// A condition: true or false for one span (or span event).
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Either side.
    Or(Box<Condition>, Box<Condition>),
    /// Both sides.
    And(Box<Condition>, Box<Condition>),
    /// The opposite.
    Not(Box<Condition>),
    /// Two values compared.
    Compare {
        /// The left side.
        left: Value,
        /// The operator.
        op: CompareOp,
        /// The right side.
        right: Value,
    },
    /// `true` or `false`.
    Const(bool),
    /// A converter whose result is the condition (`IsMatch(name, "^GET")`).
    Call(Call),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A value: a literal, a path into the data, a converter's result, or arithmetic on them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `nil`: what a missing attribute is.
    Nil,
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `0x...` bytes.
    Bytes(Vec<u8>),
    /// An enum symbol (`SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`).
    Enum(String),
    /// A path (`attributes["http.route"]`, `resource.attributes["service.name"]`, `name`).
    Path(Vec<Field>),
    /// A converter's result.
    Call(Call),
    /// `[a, b]`.
    List(Vec<Value>),
    /// `{"k": v}`.
    Map(Vec<(String, Value)>),
    /// Arithmetic.
    Math {
        /// The left operand.
        left: Box<Value>,
        /// The operator.
        op: MathOp,
        /// The right operand.
        right: Box<Value>,
    },
    /// Unary minus on something that is not a literal (`-attributes["n"]`).
    Neg(Box<Value>),
}

/// One segment of a path, with its indexes: `attributes["k"]["sub"]` is the field
/// `attributes` with two keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The segment's name.
    pub name: String,
    /// Its indexes, in order.
    pub keys: Vec<Key>,
}

/// An index: `["k"]`, `[0]`, or a computed one.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    /// A map key.
    Str(String),
    /// A list index.
    Int(i64),
    /// A key computed from a path, a converter or arithmetic.
    Expr(Box<Value>),
}

/// A converter call: `Name(args)` with optional indexes on its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The converter's name (`IsMatch`).
    pub name: String,
    /// Its arguments, in order.
    pub args: Vec<Arg>,
    /// Indexes on its result.
    pub keys: Vec<Key>,
}

/// One argument of a converter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A value.
    Value(Value),
    /// A named argument (`name = value`).
    Named(String, Value),
    /// A converter passed by its name, as a function value.
    Function(String),
}
