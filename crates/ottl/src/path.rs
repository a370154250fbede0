//! What a path means on a span or a span event: the collector's `ottlspan` and `ottlspanevent`
//! contexts (contrib v0.161.0), the part of them this crate reads.

use crate::{Field, Key};
use std::fmt;

/// The rows a condition runs over: `traces.span` conditions see spans, `traces.spanevent`
/// conditions see span events (and the span, resource and scope each one belongs to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// One row per span.
    Span,
    /// One row per span event.
    SpanEvent,
}

/// Where attributes live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrLevel {
    /// `resource.attributes`.
    Resource,
    /// `instrumentation_scope.attributes`.
    Scope,
    /// The span's own `attributes` (`span.attributes` on a span event).
    Span,
    /// A span event's `attributes`.
    Event,
}

/// One thing a row is read for. A processor loads each source a set of conditions names once
/// per batch; conditions then read it row by row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// An attribute's value: `nil` when the row does not have it.
    Attribute(AttrLevel, String),
    /// The span name (string).
    Name,
    /// The span kind as an integer (`SPAN_KIND_SERVER` is 2).
    Kind,
    /// The span kind as the collector prints it (`Server`), `kind.string`.
    KindString,
    /// `status.code` as an integer (`STATUS_CODE_ERROR` is 2).
    StatusCode,
    /// `status.message` (string).
    StatusMessage,
    /// `trace_id`: 16 bytes.
    TraceId,
    /// `trace_id.string`: 32 lower-case hex digits.
    TraceIdString,
    /// `span_id`: 8 bytes.
    SpanId,
    /// `span_id.string`.
    SpanIdString,
    /// `parent_span_id`: 8 bytes, all zero for a root span.
    ParentSpanId,
    /// `parent_span_id.string`: sixteen zeros for a root span.
    ParentSpanIdString,
    /// `trace_state` (string).
    TraceState,
    /// `flags` (integer).
    Flags,
    /// `start_time_unix_nano` (integer).
    StartTime,
    /// `end_time_unix_nano` (integer).
    EndTime,
    /// `duration`: `end_time_unix_nano - start_time_unix_nano`, a spanwise shorthand.
    Duration,
    /// `instrumentation_scope.name` (string).
    ScopeName,
    /// `instrumentation_scope.version` (string).
    ScopeVersion,
    /// A span event's `name`.
    EventName,
    /// A span event's `time_unix_nano` (integer).
    EventTime,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Source::Attribute(level, key) => {
                let prefix = match level {
                    AttrLevel::Resource => "resource.",
                    AttrLevel::Scope => "instrumentation_scope.",
                    AttrLevel::Span => "span.",
                    AttrLevel::Event => "",
                };
                return write!(f, "{prefix}attributes[{key:?}]");
            }
            Source::Name => "name",
            Source::Kind => "kind",
            Source::KindString => "kind.string",
            Source::StatusCode => "status.code",
            Source::StatusMessage => "status.message",
            Source::TraceId => "trace_id",
            Source::TraceIdString => "trace_id.string",
            Source::SpanId => "span_id",
            Source::SpanIdString => "span_id.string",
            Source::ParentSpanId => "parent_span_id",
            Source::ParentSpanIdString => "parent_span_id.string",
            Source::TraceState => "trace_state",
            Source::Flags => "flags",
            Source::StartTime => "start_time_unix_nano",
            Source::EndTime => "end_time_unix_nano",
            Source::Duration => "duration",
            Source::ScopeName => "instrumentation_scope.name",
            Source::ScopeVersion => "instrumentation_scope.version",
            Source::EventName => "spanevent.name",
            Source::EventTime => "spanevent.time_unix_nano",
        };
        f.write_str(text)
    }
}

/// A path resolved: what to load, and the indexes to apply to each row's value
/// (`attributes["http"]["route"]` is the attribute `http` indexed by `"route"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// What to load.
    pub source: Source,
    /// Indexes into the value, map keys or list positions.
    pub keys: Vec<Index>,
}

/// An index into a map or a list.
#[derive(Debug, Clone, PartialEq)]
pub enum Index {
    /// A map key.
    Key(String),
    /// A list position.
    Position(i64),
}

/// Resolve a path in a context, or say why it is not one this crate reads.
pub fn resolve(context: Context, fields: &[Field]) -> Result<Resolved, String> {
    let text = path_text(fields);
    let unknown = || match context {
        Context::Span => format!("`{text}` is not a span path this filter reads"),
        Context::SpanEvent => format!("`{text}` is not a span event path this filter reads"),
    };
    let (first, rest) = fields.split_first().ok_or_else(unknown)?;
    let explicit = |name: &str| first.name == name && first.keys.is_empty() && !rest.is_empty();
    match context {
        Context::Span if explicit("span") => span_path(rest).ok_or_else(unknown)?,
        Context::Span => span_path(fields).ok_or_else(unknown)?,
        Context::SpanEvent if explicit("span") => span_path(rest).ok_or_else(unknown)?,
        Context::SpanEvent if explicit("spanevent") => event_path(rest).ok_or_else(unknown)?,
        Context::SpanEvent => event_path(fields).ok_or_else(unknown)?,
    }
    .map_err(|why| format!("`{text}`: {why}"))
}

type Found = Option<Result<Resolved, String>>;

/// A path of the span context (after any `span.`), including `resource` and
/// `instrumentation_scope`.
fn span_path(fields: &[Field]) -> Found {
    let plain = |source: Source| Some(leaf(fields, 1, source));
    let (first, rest) = fields.split_first()?;
    let next = rest.first().map(|f| f.name.as_str());
    match (first.name.as_str(), next) {
        ("resource" | "instrumentation_scope", _) => shared_path(fields),
        ("attributes", None) => Some(attribute(first, AttrLevel::Span)),
        ("name", None) => plain(Source::Name),
        ("kind", None) => plain(Source::Kind),
        ("kind", Some("string")) => Some(leaf(fields, 2, Source::KindString)),
        ("status", Some("code")) => Some(leaf(fields, 2, Source::StatusCode)),
        ("status", Some("message")) => Some(leaf(fields, 2, Source::StatusMessage)),
        ("trace_id", None) => plain(Source::TraceId),
        ("trace_id", Some("string")) => Some(leaf(fields, 2, Source::TraceIdString)),
        ("span_id", None) => plain(Source::SpanId),
        ("span_id", Some("string")) => Some(leaf(fields, 2, Source::SpanIdString)),
        ("parent_span_id", None) => plain(Source::ParentSpanId),
        ("parent_span_id", Some("string")) => Some(leaf(fields, 2, Source::ParentSpanIdString)),
        ("trace_state", None) => plain(Source::TraceState),
        ("flags", None) => plain(Source::Flags),
        ("start_time_unix_nano", None) => plain(Source::StartTime),
        ("end_time_unix_nano", None) => plain(Source::EndTime),
        ("duration", None) => plain(Source::Duration),
        (
            "start_time" | "end_time" | "events" | "links" | "dropped_attributes_count"
            | "dropped_events_count" | "dropped_links_count",
            _,
        )
        | ("status", None) => Some(Err(
            "the collector has this path, but this filter does not read it (see the filter's README for the paths it reads)".into(),
        )),
        _ => None,
    }
}

/// A path of the span event context (after any `spanevent.`).
fn event_path(fields: &[Field]) -> Found {
    let (first, rest) = fields.split_first()?;
    match (first.name.as_str(), rest.first()) {
        ("resource" | "instrumentation_scope", _) => shared_path(fields),
        ("attributes", None) => Some(attribute(first, AttrLevel::Event)),
        ("name", None) => Some(leaf(fields, 1, Source::EventName)),
        ("time_unix_nano", None) => Some(leaf(fields, 1, Source::EventTime)),
        ("time" | "dropped_attributes_count" | "event_index", _) => Some(Err(
            "the collector has this path, but this filter does not read it (see the filter's README for the paths it reads)".into(),
        )),
        _ => None,
    }
}

/// `resource.attributes[...]`, `instrumentation_scope.{name,version,attributes[...]}`.
fn shared_path(fields: &[Field]) -> Found {
    let [first, second] = fields else {
        return None;
    };
    if !first.keys.is_empty() {
        return Some(Err(format!("`{}` takes no index", first.name)));
    }
    match (first.name.as_str(), second.name.as_str()) {
        ("resource", "attributes") => Some(attribute(second, AttrLevel::Resource)),
        ("instrumentation_scope", "attributes") => Some(attribute(second, AttrLevel::Scope)),
        ("instrumentation_scope", "name") => Some(leaf(&fields[1..], 1, Source::ScopeName)),
        ("instrumentation_scope", "version") => Some(leaf(&fields[1..], 1, Source::ScopeVersion)),
        _ => None,
    }
}

/// A path of `depth` fields that names a plain value: no more fields, no indexes.
fn leaf(fields: &[Field], depth: usize, source: Source) -> Result<Resolved, String> {
    if fields.len() > depth {
        return Err(format!(
            "`{}` has no field `{}`",
            source, fields[depth].name
        ));
    }
    if fields.iter().any(|f| !f.keys.is_empty()) {
        return Err(format!(
            "`{source}` is not a map or a list; it takes no index"
        ));
    }
    Ok(Resolved {
        source,
        keys: Vec::new(),
    })
}

/// `attributes["k"]...` at a level: the first key names the attribute.
fn attribute(field: &Field, level: AttrLevel) -> Result<Resolved, String> {
    let mut keys = field.keys.iter().map(|key| match key {
        Key::Str(s) => Ok(Index::Key(s.clone())),
        Key::Int(i) => Ok(Index::Position(*i)),
        Key::Expr(_) => Err(
            "computed indexes are outside what this filter reads; write the key as a string"
                .to_string(),
        ),
    });
    let name = match keys.next() {
        None => {
            return Err(
                "the whole attribute map is outside what this filter reads; index it (`attributes[\"key\"]`)"
                    .into(),
            );
        }
        Some(Ok(Index::Key(name))) => name,
        Some(Ok(Index::Position(_))) => return Err("attributes are indexed by string keys".into()),
        Some(Err(why)) => return Err(why),
    };
    Ok(Resolved {
        source: Source::Attribute(level, name),
        keys: keys.collect::<Result<_, _>>()?,
    })
}

/// The path as written, for messages.
fn path_text(fields: &[Field]) -> String {
    let mut text = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        text.push_str(&field.name);
        for key in &field.keys {
            match key {
                Key::Str(s) => text.push_str(&format!("[{s:?}]")),
                Key::Int(n) => text.push_str(&format!("[{n}]")),
                Key::Expr(_) => text.push_str("[...]"),
            }
        }
    }
    text
}

/// The value of an enum symbol, as the span contexts define them.
pub fn enum_value(name: &str) -> Option<i64> {
    Some(match name {
        "SPAN_KIND_UNSPECIFIED" => 0,
        "SPAN_KIND_INTERNAL" => 1,
        "SPAN_KIND_SERVER" => 2,
        "SPAN_KIND_CLIENT" => 3,
        "SPAN_KIND_PRODUCER" => 4,
        "SPAN_KIND_CONSUMER" => 5,
        "STATUS_CODE_UNSET" => 0,
        "STATUS_CODE_OK" => 1,
        "STATUS_CODE_ERROR" => 2,
        _ => return None,
    })
}
