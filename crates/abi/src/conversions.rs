//! The one place that converts between the types of this crate and the types a bindings
//! generator makes of the same WIT.
//!
//! The host's bindings (`wasmtime::component::bindgen!`) and the guest's (`wit_bindgen::generate!`)
//! each generate their own Rust types for `level`, `value`, `str-column` and the rest, with the
//! same names and the same variants. [`wit_conversions!`](crate::wit_conversions) writes the
//! `From` impls between those and this crate's types; each side invokes it once on its generated
//! modules, so no side writes a conversion by hand.

/// Write `From` impls, both ways, between this crate's types and the generated types of the
/// WIT's `types` and `host` interfaces.
///
/// `types:` and `host:` name the generated modules (in scope at the call site). With
/// `columns: converted` the record types `str-column`, `bytes-column`, `int-column`,
/// `double-column` and `bool-column` are converted too (field by field, moving the vectors); with `columns: mapped`
/// they are left out, for bindings that already use this crate's column types (wit-bindgen's
/// `with` option does that, which spares a copy of every column the guest sends).
///
/// ```text
/// use bindings::spanwise::processor::{host as wit_host, types as wit};
/// spanwise_abi::wit_conversions!(types: wit, host: wit_host, columns: converted);
/// ```
#[macro_export]
macro_rules! wit_conversions {
    (types: $t:ident, host: $h:ident, columns: converted) => {
        $crate::wit_conversions!(types: $t, host: $h, columns: mapped);
        $crate::wit_conversions!(@record $t, StrColumn, [offsets, data, present]);
        $crate::wit_conversions!(@record $t, IntColumn, [values, present]);
        $crate::wit_conversions!(@record $t, DoubleColumn, [values, present]);
        $crate::wit_conversions!(@record $t, BoolColumn, [values, present]);
        $crate::wit_conversions!(@record $t, BytesColumn, [offsets, data, present]);
    };
    (types: $t:ident, host: $h:ident, columns: mapped) => {
        $crate::wit_conversions!(@enum $t, Level, [Resource, Scope, Span, Event, Link]);
        $crate::wit_conversions!(@enum $t, StrField, [
            Name, StatusMessage, TraceState, ScopeName, ScopeVersion, SchemaUrl, EventName,
            LinkTraceState
        ]);
        $crate::wit_conversions!(@enum $h, LogLevel, [Trace, Debug, Info, Warn, Error]);
        $crate::wit_conversions!(@record $t, ConfigError, [field, message]);
        $crate::wit_conversions!(@record $t, TraceDecision, [keep, probability, policy]);
        $crate::wit_conversions!(@record $t, TraceRows, [rows, ends]);
        $crate::wit_conversions!(@record $t, TraceDecisions, [probability, policy, policies]);
        $crate::wit_conversions!(@record $t, HeadView, [trace_ids, trace_state_count, priority_count]);
        $crate::wit_conversions!(@record $t, HeadEdits, [trace_state_rows, trace_state, dropped]);

        impl ::core::convert::From<$crate::ProcessError> for $t::ProcessError {
            fn from(error: $crate::ProcessError) -> Self {
                match error {
                    $crate::ProcessError::InvalidData(m) => $t::ProcessError::InvalidData(m),
                    $crate::ProcessError::Internal(m) => $t::ProcessError::Internal(m),
                }
            }
        }
        impl ::core::convert::From<$t::ProcessError> for $crate::ProcessError {
            fn from(error: $t::ProcessError) -> Self {
                match error {
                    $t::ProcessError::InvalidData(m) => $crate::ProcessError::InvalidData(m),
                    $t::ProcessError::Internal(m) => $crate::ProcessError::Internal(m),
                }
            }
        }

        impl ::core::convert::From<$crate::HashFunction> for $t::HashFunction {
            fn from(function: $crate::HashFunction) -> Self {
                match function {
                    $crate::HashFunction::Sha256 => $t::HashFunction::Sha256,
                    $crate::HashFunction::HmacSha256(key) => $t::HashFunction::HmacSha256(key),
                }
            }
        }
        impl ::core::convert::From<$t::HashFunction> for $crate::HashFunction {
            fn from(function: $t::HashFunction) -> Self {
                match function {
                    $t::HashFunction::Sha256 => $crate::HashFunction::Sha256,
                    $t::HashFunction::HmacSha256(key) => $crate::HashFunction::HmacSha256(key),
                }
            }
        }

        // The WIT calls the boolean case `boolean`; this crate calls it `Bool`.
        impl ::core::convert::From<$crate::Value> for $t::Value {
            fn from(value: $crate::Value) -> Self {
                match value {
                    $crate::Value::Str(v) => $t::Value::Str(v),
                    $crate::Value::Int(v) => $t::Value::Int(v),
                    $crate::Value::Double(v) => $t::Value::Double(v),
                    $crate::Value::Bool(v) => $t::Value::Boolean(v),
                    $crate::Value::Bytes(v) => $t::Value::Bytes(v),
                    $crate::Value::Complex(v) => $t::Value::Complex(v),
                }
            }
        }
        impl ::core::convert::From<$t::Value> for $crate::Value {
            fn from(value: $t::Value) -> Self {
                match value {
                    $t::Value::Str(v) => $crate::Value::Str(v),
                    $t::Value::Int(v) => $crate::Value::Int(v),
                    $t::Value::Double(v) => $crate::Value::Double(v),
                    $t::Value::Boolean(v) => $crate::Value::Bool(v),
                    $t::Value::Bytes(v) => $crate::Value::Bytes(v),
                    $t::Value::Complex(v) => $crate::Value::Complex(v),
                }
            }
        }
    };
    (@enum $m:ident, $ty:ident, [$($case:ident),* $(,)?]) => {
        impl ::core::convert::From<$crate::$ty> for $m::$ty {
            fn from(value: $crate::$ty) -> Self {
                match value {
                    $($crate::$ty::$case => $m::$ty::$case,)*
                }
            }
        }
        impl ::core::convert::From<$m::$ty> for $crate::$ty {
            fn from(value: $m::$ty) -> Self {
                match value {
                    $($m::$ty::$case => $crate::$ty::$case,)*
                }
            }
        }
    };
    (@record $m:ident, $ty:ident, [$($field:ident),* $(,)?]) => {
        impl ::core::convert::From<$crate::$ty> for $m::$ty {
            fn from(value: $crate::$ty) -> Self {
                $m::$ty { $($field: value.$field,)* }
            }
        }
        impl ::core::convert::From<$m::$ty> for $crate::$ty {
            fn from(value: $m::$ty) -> Self {
                $crate::$ty { $($field: value.$field,)* }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    /// Stand-ins shaped like generated bindings, to check the macro expands and round-trips.
    #[allow(dead_code, missing_docs)]
    mod generated {
        pub mod types {
            #[derive(Debug, Clone, Copy, PartialEq)]
            pub enum Level {
                Resource,
                Scope,
                Span,
                Event,
                Link,
            }
            #[derive(Debug, Clone, Copy, PartialEq)]
            pub enum StrField {
                Name,
                StatusMessage,
                TraceState,
                ScopeName,
                ScopeVersion,
                SchemaUrl,
                EventName,
                LinkTraceState,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub enum Value {
                Str(String),
                Int(i64),
                Double(f64),
                Boolean(bool),
                Bytes(Vec<u8>),
                Complex(Vec<u8>),
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct StrColumn {
                pub offsets: Vec<u32>,
                pub data: Vec<u8>,
                pub present: Vec<u8>,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct IntColumn {
                pub values: Vec<i64>,
                pub present: Vec<u8>,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct DoubleColumn {
                pub values: Vec<f64>,
                pub present: Vec<u8>,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct BoolColumn {
                pub values: Vec<bool>,
                pub present: Vec<u8>,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct BytesColumn {
                pub offsets: Vec<u32>,
                pub data: Vec<u8>,
                pub present: Vec<u8>,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct ConfigError {
                pub field: String,
                pub message: String,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct TraceDecision {
                pub keep: bool,
                pub probability: f64,
                pub policy: String,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct TraceRows {
                pub rows: Vec<u32>,
                pub ends: Vec<u32>,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct TraceDecisions {
                pub probability: Vec<f64>,
                pub policy: Vec<u32>,
                pub policies: Vec<String>,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct HeadView {
                pub trace_ids: Vec<u8>,
                pub trace_state_count: u32,
                pub priority_count: u32,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub struct HeadEdits {
                pub trace_state_rows: Vec<u32>,
                pub trace_state: String,
                pub dropped: Vec<u32>,
            }
            #[derive(Debug, Clone, PartialEq)]
            pub enum HashFunction {
                Sha256,
                HmacSha256(String),
            }
            #[derive(Debug, Clone, PartialEq)]
            pub enum ProcessError {
                InvalidData(String),
                Internal(String),
            }
        }
        pub mod host {
            #[derive(Debug, Clone, Copy, PartialEq)]
            pub enum LogLevel {
                Trace,
                Debug,
                Info,
                Warn,
                Error,
            }
        }
    }

    use generated::{host, types};
    crate::wit_conversions!(types: types, host: host, columns: converted);

    #[test]
    fn every_type_round_trips() {
        let value = crate::Value::Bool(true);
        let wit: types::Value = value.clone().into();
        assert_eq!(wit, types::Value::Boolean(true));
        assert_eq!(crate::Value::from(wit), value);
        for level in [
            crate::Level::Resource,
            crate::Level::Scope,
            crate::Level::Span,
            crate::Level::Event,
            crate::Level::Link,
        ] {
            assert_eq!(crate::Level::from(types::Level::from(level)), level);
        }
        let column = crate::StrColumn::from_options([Some("a"), None]);
        let wit: types::StrColumn = column.clone().into();
        assert_eq!(wit.offsets, vec![0, 1, 1]);
        assert_eq!(crate::StrColumn::from(wit), column);
        assert_eq!(
            host::LogLevel::from(crate::LogLevel::Warn),
            host::LogLevel::Warn
        );
        let keyed = crate::HashFunction::HmacSha256("k".into());
        assert_eq!(
            crate::HashFunction::from(types::HashFunction::from(keyed.clone())),
            keyed
        );
        let decision = crate::TraceDecision::keep(0.5, "slow");
        assert_eq!(
            crate::TraceDecision::from(types::TraceDecision::from(decision.clone())),
            decision
        );
        let traces = crate::TraceRows::from_lists(&[vec![1, 0], vec![2]]);
        assert_eq!(
            crate::TraceRows::from(types::TraceRows::from(traces.clone())),
            traces
        );
        let decisions = crate::TraceDecisions::from(vec![decision, crate::TraceDecision::drop("")]);
        assert_eq!(
            crate::TraceDecisions::from(types::TraceDecisions::from(decisions.clone())),
            decisions
        );
        let view = crate::HeadView {
            trace_ids: vec![1; 16],
            trace_state_count: 2,
            priority_count: 3,
        };
        assert_eq!(
            crate::HeadView::from(types::HeadView::from(view.clone())),
            view
        );
        let edits = crate::HeadEdits {
            trace_state_rows: vec![0, 2],
            trace_state: "ot=th:8".into(),
            dropped: vec![1],
        };
        assert_eq!(
            crate::HeadEdits::from(types::HeadEdits::from(edits.clone())),
            edits
        );
        let error = crate::ProcessError::from(types::ProcessError::Internal("x".into()));
        assert_eq!(error, crate::ProcessError::Internal("x".into()));
    }
}
