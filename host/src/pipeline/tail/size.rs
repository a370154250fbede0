//! What a held span costs in memory: the buffer's own place for it and every heap block the span
//! owns (strings, ids, attribute lists, events, links), by capacity, so `max_buffer_mib` bounds
//! the heap the buffer really holds. A walk over the span's fields, with no encoding: cheaper
//! than computing its encoded size.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use std::mem::size_of;

/// Heap bytes owned by `span`, not counting the span struct itself.
pub fn span_heap(span: &Span) -> usize {
    span.trace_id.capacity()
        + span.span_id.capacity()
        + span.parent_span_id.capacity()
        + span.trace_state.capacity()
        + span.name.capacity()
        + attributes(&span.attributes)
        + span.events.capacity() * size_of_val_event()
        + span
            .events
            .iter()
            .map(|e| e.name.capacity() + attributes(&e.attributes))
            .sum::<usize>()
        + span.links.capacity() * size_of_val_link()
        + span
            .links
            .iter()
            .map(|l| {
                l.trace_id.capacity()
                    + l.span_id.capacity()
                    + l.trace_state.capacity()
                    + attributes(&l.attributes)
            })
            .sum::<usize>()
        + span.status.as_ref().map_or(0, |s| s.message.capacity())
}

fn size_of_val_event() -> usize {
    size_of::<opentelemetry_proto::tonic::trace::v1::span::Event>()
}

fn size_of_val_link() -> usize {
    size_of::<opentelemetry_proto::tonic::trace::v1::span::Link>()
}

fn attributes(list: &Vec<KeyValue>) -> usize {
    list.capacity() * size_of::<KeyValue>()
        + list
            .iter()
            .map(|kv| kv.key.capacity() + kv.value.as_ref().map_or(0, value))
            .sum::<usize>()
}

fn value(v: &AnyValue) -> usize {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => s.capacity(),
        Some(any_value::Value::BytesValue(b)) => b.capacity(),
        Some(any_value::Value::ArrayValue(a)) => {
            a.values.capacity() * size_of::<AnyValue>() + a.values.iter().map(value).sum::<usize>()
        }
        Some(any_value::Value::KvlistValue(l)) => attributes(&l.values),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::ArrayValue;

    fn kv(key: &str, v: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..KeyValue::default()
        }
    }

    #[test]
    fn every_owned_block_is_counted_by_capacity() {
        let mut span = Span {
            name: "op".into(),
            trace_id: vec![1; 16],
            ..Span::default()
        };
        let base = span_heap(&span);
        assert_eq!(base, 2 + 16);
        span.attributes = vec![
            kv("k", any_value::Value::StringValue("value".into())),
            kv(
                "list",
                any_value::Value::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(any_value::Value::StringValue("ab".into())),
                    }],
                }),
            ),
            kv("n", any_value::Value::IntValue(3)),
        ];
        let expected =
            base + 3 * size_of::<KeyValue>() + (1 + 5) + (4 + size_of::<AnyValue>() + 2) + 1;
        assert_eq!(span_heap(&span), expected);
    }
}
