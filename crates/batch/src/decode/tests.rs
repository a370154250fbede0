//! The fast decoder against prost's: the same answer for every input, whether the fast path
//! takes it or leaves it to prost.

use super::*;
use opentelemetry_proto::tonic::common::v1::EntityRef;

/// prost's answer and this module's agree: both the same request, or both an error. And the
/// scan takes exactly what the fast path takes, with its counts.
fn agrees(bytes: &[u8]) -> bool {
    let scanned = scan_request(bytes);
    let fast = super::request(bytes);
    assert_eq!(
        scanned,
        fast.as_ref().map(|request| Scanned {
            spans: request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum(),
            resources: request.resource_spans.len(),
        }),
        "the scan and the fast path differ on {bytes:02x?}"
    );
    match (
        decode_request(bytes),
        ExportTraceServiceRequest::decode(bytes),
    ) {
        // As bytes: a NaN double never equals itself. The batch's encoder writes prost's bytes.
        (Ok(a), Ok(b)) => {
            let mut ours = Vec::new();
            crate::encode_request(&b.resource_spans, &mut ours);
            assert_eq!(
                ours,
                b.encode_to_vec(),
                "the encoder differs on {bytes:02x?}"
            );
            a.encode_to_vec() == b.encode_to_vec()
        }
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

/// Attribute `key` holding `value` (also used by the encoder's tests).
pub(crate) fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A request with every field this decoder reads set, and values of every type.
pub(crate) fn full() -> ExportTraceServiceRequest {
    use any_value::Value as V;
    let values = vec![
        kv("s", V::StringValue("héllo".into())),
        kv("b", V::BoolValue(true)),
        kv("i", V::IntValue(-42)),
        kv("d", V::DoubleValue(2.5)),
        kv("bytes", V::BytesValue(vec![0, 1, 255])),
        kv(
            "array",
            V::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(V::IntValue(1)),
                    },
                    AnyValue { value: None },
                ],
            }),
        ),
        kv(
            "map",
            V::KvlistValue(KeyValueList {
                values: vec![kv("inner", V::StringValue("x".into()))],
            }),
        ),
        KeyValue {
            key: "no value".into(),
            key_strindex: 3,
            ..Default::default()
        },
    ];
    let span = |name: &str| Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        trace_state: "ot=th:8".into(),
        parent_span_id: vec![3; 8],
        flags: 0x301,
        name: name.into(),
        kind: 2,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: u64::MAX,
        attributes: values.clone(),
        dropped_attributes_count: 1,
        events: vec![Event {
            time_unix_nano: 5,
            name: "event".into(),
            attributes: values[..2].to_vec(),
            dropped_attributes_count: 2,
        }],
        dropped_events_count: 3,
        links: vec![Link {
            trace_id: vec![4; 16],
            span_id: vec![5; 8],
            trace_state: "a=b".into(),
            attributes: values[2..4].to_vec(),
            dropped_attributes_count: 4,
            flags: 1,
        }],
        dropped_links_count: 5,
        status: Some(Status {
            message: "boom".into(),
            code: 2,
        }),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans {
                resource: Some(Resource {
                    attributes: values.clone(),
                    dropped_attributes_count: 7,
                    ..Default::default()
                }),
                scope_spans: vec![
                    ScopeSpans {
                        scope: Some(InstrumentationScope {
                            name: "lib".into(),
                            version: "1.0".into(),
                            attributes: values[..1].to_vec(),
                            dropped_attributes_count: 8,
                        }),
                        spans: vec![span("a"), span("b"), Span::default()],
                        schema_url: "https://example.invalid/s".into(),
                    },
                    ScopeSpans::default(),
                ],
                schema_url: "https://example.invalid/r".into(),
            },
            ResourceSpans::default(),
        ],
    }
}

#[test]
fn decodes_every_field_as_prost_does_on_the_fast_path() {
    let request = full();
    let bytes = request.encode_to_vec();
    assert!(super::request(&bytes).is_some(), "the fast path takes it");
    assert!(agrees(&bytes), "and the scan counts what it decodes");
    assert_eq!(decode_request(&bytes).unwrap(), request);
    assert_eq!(
        decode_request(&[]).unwrap(),
        ExportTraceServiceRequest::default()
    );
}

#[test]
fn leaves_unusual_encodings_to_prost_with_the_same_answer() {
    let mut with_entity = full();
    with_entity.resource_spans[0]
        .resource
        .as_mut()
        .unwrap()
        .entity_refs
        .push(EntityRef {
            r#type: "service".into(),
            ..Default::default()
        });
    let mut strindex = full();
    strindex.resource_spans[0].scope_spans[0].spans[0].attributes[0].value = Some(AnyValue {
        value: Some(any_value::Value::StringValueStrindex(4)),
    });
    let mut deep = AnyValue {
        value: Some(any_value::Value::IntValue(1)),
    };
    for _ in 0..40 {
        deep = AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: vec![deep],
            })),
        };
    }
    let mut nested = full();
    nested.resource_spans[0].scope_spans[0].spans[0].attributes[0].value = Some(deep);
    let base = full().encode_to_vec();
    // A field given twice: prost merges a message, keeps the last scalar.
    let twice = [base.clone(), base.clone()].concat();
    let span_twice = {
        let span = full().resource_spans[0].scope_spans[0].spans[0].encode_to_vec();
        let mut request = Vec::new();
        // resource_spans { scope_spans { spans: span ++ span } }
        let spans = [
            vec![0x12],
            varint(2 * span.len()),
            [span.clone(), span].concat(),
        ]
        .concat();
        let scope = [vec![0x12], varint(spans.len()), spans].concat();
        request.extend([vec![0x0a], varint(scope.len()), scope].concat());
        request
    };
    for (what, bytes, fast) in [
        ("an entity reference", with_entity.encode_to_vec(), false),
        ("a string-table value", strindex.encode_to_vec(), false),
        ("deep nesting", nested.encode_to_vec(), false),
        ("a request given twice", twice, true),
        ("a span whose fields come twice", span_twice, false),
        (
            "an unknown field",
            [base.clone(), vec![0xf8, 0x01, 0x05]].concat(),
            false,
        ),
        ("a group", [base.clone(), vec![0x0b, 0x0c]].concat(), false),
        ("a wrong wire type", vec![0x08, 0x01], false),
        ("truncation", base[..base.len() - 3].to_vec(), false),
        (
            "bad UTF-8",
            vec![0x0a, 0x05, 0x1a, 0x03, 0xc3, 0x28, 0x61],
            false,
        ),
        ("field zero", vec![0x00, 0x01], false),
    ] {
        assert_eq!(super::request(&bytes).is_some(), fast, "{what}: fast path");
        assert!(agrees(&bytes), "{what}: same answer as prost");
    }
}

fn varint(mut value: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A small deterministic generator (xorshift), so the mutations are the same on every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `base` with one to three random changes: a byte replaced, a bit flipped, the end cut
    /// off, or a byte inserted.
    pub(crate) fn mutate(&mut self, base: &[u8]) -> Vec<u8> {
        let mut bytes = base.to_vec();
        for _ in 0..=self.below(3) {
            if bytes.is_empty() {
                break;
            }
            let at = self.below(bytes.len());
            match self.below(4) {
                0 => bytes[at] = self.next() as u8,
                1 => bytes[at] ^= 1 << self.below(8),
                2 => bytes.truncate(at),
                _ => bytes.insert(at, self.next() as u8),
            }
        }
        bytes
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn agrees_with_prost_on_mutated_requests() {
    let base = full().encode_to_vec();
    let mut rng = Rng(0x5eed_cafe_f00d);
    let (mut fast, mut prost_ok) = (0, 0);
    for _ in 0..20_000 {
        let bytes = rng.mutate(&base);
        assert!(agrees(&bytes), "differs from prost on {bytes:02x?}");
        fast += usize::from(super::request(&bytes).is_some());
        prost_ok += usize::from(ExportTraceServiceRequest::decode(bytes.as_slice()).is_ok());
    }
    // The mutations reach both paths.
    assert!(
        fast > 100 && prost_ok > fast,
        "fast {fast}, prost {prost_ok}"
    );
}
