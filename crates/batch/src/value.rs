//! Conversions between OTLP's `AnyValue` and the boundary [`Value`].

use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use prost::Message;
use spanwise_abi::Value;

/// The boundary value of an OTLP attribute value. An `AnyValue` with nothing set is present
/// (the attribute exists) and crosses as an empty `Complex` (the encoding of an empty
/// `AnyValue`).
pub(crate) fn from_any(value: &AnyValue) -> Option<Value> {
    let Some(inner) = value.value.as_ref() else {
        return Some(Value::Complex(Vec::new()));
    };
    Some(match inner {
        any_value::Value::StringValue(s) => Value::Str(s.clone()),
        any_value::Value::IntValue(i) => Value::Int(*i),
        any_value::Value::DoubleValue(d) => Value::Double(*d),
        any_value::Value::BoolValue(b) => Value::Bool(*b),
        any_value::Value::BytesValue(b) => Value::Bytes(b.clone()),
        // Arrays, maps and dictionary references (profiles only) cross encoded whole.
        any_value::Value::ArrayValue(_)
        | any_value::Value::KvlistValue(_)
        | any_value::Value::StringValueStrindex(_) => Value::Complex(value.encode_to_vec()),
    })
}

/// The OTLP value of a boundary value. A `Complex` value that does not decode as an `AnyValue`
/// is an error, reported with the decoder's reason.
pub(crate) fn to_any(value: Value) -> Result<AnyValue, prost::DecodeError> {
    let inner = match value {
        Value::Str(s) => any_value::Value::StringValue(s),
        Value::Int(i) => any_value::Value::IntValue(i),
        Value::Double(d) => any_value::Value::DoubleValue(d),
        Value::Bool(b) => any_value::Value::BoolValue(b),
        Value::Bytes(b) => any_value::Value::BytesValue(b),
        Value::Complex(bytes) => return AnyValue::decode(bytes.as_slice()),
    };
    Ok(AnyValue { value: Some(inner) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::ArrayValue;

    #[test]
    fn scalar_and_complex_values_round_trip() {
        let array = AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: vec![AnyValue {
                    value: Some(any_value::Value::IntValue(7)),
                }],
            })),
        };
        for any in [
            AnyValue {
                value: Some(any_value::Value::StringValue("x".into())),
            },
            AnyValue {
                value: Some(any_value::Value::DoubleValue(1.5)),
            },
            array,
        ] {
            let boundary = from_any(&any).unwrap();
            assert_eq!(to_any(boundary).unwrap(), any);
        }
        let empty = from_any(&AnyValue { value: None }).unwrap();
        assert_eq!(empty, Value::Complex(Vec::new()));
        assert_eq!(to_any(empty).unwrap(), AnyValue { value: None });
        assert!(to_any(Value::Complex(vec![0xff, 0xff])).is_err());
    }
}
