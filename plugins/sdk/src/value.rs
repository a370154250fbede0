//! Attribute values as the collector's `pcommon.Value` sees them, with the conversions the
//! collector's processors rely on: `AsString`, the JSON of maps and slices, `FromRaw` of config
//! values, and the wire form the host exchanges (`Value`, arrays and maps as encoded
//! `AnyValue`s).

use crate::Value;
use base64::Engine;

/// One attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// An `AnyValue` with nothing set.
    Empty,
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Double(f64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// An array.
    Array(Vec<AttrValue>),
    /// A key-value list, in order.
    Map(Vec<(String, AttrValue)>),
}

impl AttrValue {
    /// The value the host sent. An array or map that does not decode is kept as empty, which no
    /// rule matches and every hash turns into `""`.
    pub fn from_wire(value: &Value) -> Self {
        match value {
            Value::Str(s) => AttrValue::Str(s.clone()),
            Value::Int(i) => AttrValue::Int(*i),
            Value::Double(d) => AttrValue::Double(*d),
            Value::Bool(b) => AttrValue::Bool(*b),
            Value::Bytes(b) => AttrValue::Bytes(b.clone()),
            Value::Complex(bytes) => <wire::AnyValue as prost::Message>::decode(bytes.as_slice())
                .map(|any| AttrValue::from(&any))
                .unwrap_or(AttrValue::Empty),
        }
    }

    /// The value to send to the host.
    pub fn to_wire(&self) -> Value {
        match self {
            AttrValue::Str(s) => Value::Str(s.clone()),
            AttrValue::Int(i) => Value::Int(*i),
            AttrValue::Double(d) => Value::Double(*d),
            AttrValue::Bool(b) => Value::Bool(*b),
            AttrValue::Bytes(b) => Value::Bytes(b.clone()),
            AttrValue::Empty | AttrValue::Array(_) | AttrValue::Map(_) => {
                Value::Complex(prost::Message::encode_to_vec(&wire::AnyValue::from(self)))
            }
        }
    }

    /// A config value as the collector's `pcommon.Value.FromRaw` reads the YAML: whole numbers
    /// are integers, other numbers doubles, lists arrays, mappings maps, `null` empty.
    pub fn from_json(value: &serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => AttrValue::Empty,
            serde_json::Value::Bool(b) => AttrValue::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => AttrValue::Int(i),
                None => AttrValue::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => AttrValue::Str(s.clone()),
            serde_json::Value::Array(items) => {
                AttrValue::Array(items.iter().map(AttrValue::from_json).collect())
            }
            serde_json::Value::Object(map) => AttrValue::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), AttrValue::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The collector's type name (`Str`, `Int`, ...), for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttrValue::Empty => "Empty",
            AttrValue::Str(_) => "Str",
            AttrValue::Bool(_) => "Bool",
            AttrValue::Int(_) => "Int",
            AttrValue::Double(_) => "Double",
            AttrValue::Bytes(_) => "Bytes",
            AttrValue::Array(_) => "Slice",
            AttrValue::Map(_) => "Map",
        }
    }

    /// `pcommon.Value.Str()`: the string, or `""` for any other type.
    pub fn str_or_empty(&self) -> &str {
        match self {
            AttrValue::Str(s) => s,
            _ => "",
        }
    }

    /// `pcommon.Value.AsString()`: strings as they are, numbers and booleans as Go prints them,
    /// bytes in standard base64, maps and arrays as JSON (keys sorted, no HTML escaping).
    pub fn as_string(&self) -> String {
        match self {
            AttrValue::Empty => String::new(),
            AttrValue::Str(s) => s.clone(),
            AttrValue::Bool(b) => b.to_string(),
            AttrValue::Int(i) => i.to_string(),
            AttrValue::Double(d) => {
                if d.is_nan() {
                    "NaN".into()
                } else if d.is_infinite() {
                    if *d > 0.0 { "Infinity" } else { "-Infinity" }.into()
                } else {
                    es6_number(*d)
                }
            }
            AttrValue::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
            AttrValue::Array(_) | AttrValue::Map(_) => {
                let mut out = String::new();
                // Go's encoder fails on NaN and infinities and the collector keeps `""` then.
                if self.write_json(&mut out) {
                    out
                } else {
                    String::new()
                }
            }
        }
    }

    /// Append the JSON that Go's `encoding/json` (HTML escaping off) gives for `AsRaw()` of this
    /// value; `false` where Go fails (NaN or an infinity inside).
    fn write_json(&self, out: &mut String) -> bool {
        match self {
            AttrValue::Empty => out.push_str("null"),
            AttrValue::Str(s) => write_json_string(s, out),
            AttrValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            AttrValue::Int(i) => out.push_str(&i.to_string()),
            AttrValue::Double(d) => {
                if !d.is_finite() {
                    return false;
                }
                out.push_str(&es6_number(*d));
            }
            AttrValue::Bytes(b) => {
                out.push('"');
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
                out.push('"');
            }
            AttrValue::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if !item.write_json(out) {
                        return false;
                    }
                }
                out.push(']');
            }
            AttrValue::Map(entries) => {
                // A Go map: the last of duplicate keys wins, keys come out sorted.
                let mut sorted: std::collections::BTreeMap<&str, &AttrValue> = Default::default();
                for (k, v) in entries {
                    sorted.insert(k, v);
                }
                out.push('{');
                for (i, (k, v)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(k, out);
                    out.push(':');
                    if !v.write_json(out) {
                        return false;
                    }
                }
                out.push('}');
            }
        }
        true
    }
}

/// A float as JavaScript (and Go's JSON encoder) prints it: the shortest digits that read back
/// the same, in plain notation from 1e-6 up to 1e21 and in exponent notation (`1e+21`, `1e-7`)
/// outside.
pub fn es6_number(d: f64) -> String {
    let abs = d.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{d:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            _ => text,
        }
    } else if d == 0.0 && d.is_sign_negative() {
        "-0".into()
    } else {
        format!("{d}")
    }
}

/// A JSON string as Go's encoder writes it with HTML escaping off: `"` and `\` escaped, the
/// usual control characters as `\n`, `\r`, `\t`, `\b`, `\f`, the others as `\u00XX`, and
/// U+2028 and U+2029 as `\u2028` and `\u2029`.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// OTLP's `AnyValue` messages, for arrays and maps that cross the boundary encoded.
pub mod wire {
    #![allow(missing_docs)]

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AnyValue {
        #[prost(oneof = "any_value::Value", tags = "1, 2, 3, 4, 5, 6, 7")]
        pub value: Option<any_value::Value>,
    }

    pub mod any_value {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            #[prost(string, tag = "1")]
            StringValue(String),
            #[prost(bool, tag = "2")]
            BoolValue(bool),
            #[prost(int64, tag = "3")]
            IntValue(i64),
            #[prost(double, tag = "4")]
            DoubleValue(f64),
            #[prost(message, tag = "5")]
            ArrayValue(super::ArrayValue),
            #[prost(message, tag = "6")]
            KvlistValue(super::KeyValueList),
            #[prost(bytes, tag = "7")]
            BytesValue(Vec<u8>),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ArrayValue {
        #[prost(message, repeated, tag = "1")]
        pub values: Vec<AnyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct KeyValueList {
        #[prost(message, repeated, tag = "1")]
        pub values: Vec<KeyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct KeyValue {
        #[prost(string, tag = "1")]
        pub key: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<AnyValue>,
    }
}

impl From<&wire::AnyValue> for AttrValue {
    fn from(any: &wire::AnyValue) -> Self {
        use wire::any_value::Value as V;
        match &any.value {
            None => AttrValue::Empty,
            Some(V::StringValue(s)) => AttrValue::Str(s.clone()),
            Some(V::BoolValue(b)) => AttrValue::Bool(*b),
            Some(V::IntValue(i)) => AttrValue::Int(*i),
            Some(V::DoubleValue(d)) => AttrValue::Double(*d),
            Some(V::BytesValue(b)) => AttrValue::Bytes(b.clone()),
            Some(V::ArrayValue(a)) => {
                AttrValue::Array(a.values.iter().map(AttrValue::from).collect())
            }
            Some(V::KvlistValue(kv)) => AttrValue::Map(
                kv.values
                    .iter()
                    .map(|kv| {
                        let value = kv.value.as_ref().map_or(AttrValue::Empty, AttrValue::from);
                        (kv.key.clone(), value)
                    })
                    .collect(),
            ),
        }
    }
}

impl From<&AttrValue> for wire::AnyValue {
    fn from(value: &AttrValue) -> Self {
        use wire::any_value::Value as V;
        let inner = match value {
            AttrValue::Empty => None,
            AttrValue::Str(s) => Some(V::StringValue(s.clone())),
            AttrValue::Bool(b) => Some(V::BoolValue(*b)),
            AttrValue::Int(i) => Some(V::IntValue(*i)),
            AttrValue::Double(d) => Some(V::DoubleValue(*d)),
            AttrValue::Bytes(b) => Some(V::BytesValue(b.clone())),
            AttrValue::Array(items) => Some(V::ArrayValue(wire::ArrayValue {
                values: items.iter().map(wire::AnyValue::from).collect(),
            })),
            AttrValue::Map(entries) => Some(V::KvlistValue(wire::KeyValueList {
                values: entries
                    .iter()
                    .map(|(k, v)| wire::KeyValue {
                        key: k.clone(),
                        value: Some(wire::AnyValue::from(v)),
                    })
                    .collect(),
            })),
        };
        wire::AnyValue { value: inner }
    }
}
