//! Reading the config's YAML (with `saphyr`, a maintained YAML 1.2 parser) into a JSON value
//! tree, which the typed config is deserialized from, plus [`Positions`]: where each key sits,
//! so that errors can say `spanwise.yaml:14:5`.
//!
//! Anchors and aliases are resolved (with the parser's cap on how far aliases may expand);
//! duplicate keys are an error; keys that are not strings (`8080: x`) become their text; tags
//! other than YAML's own (`!!str`, ...) are refused.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;

/// A line and a column, both counted from 1.
pub type Position = (usize, usize);

/// Where each key (or sequence item) of a YAML document sits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    at: Option<Position>,
    children: Children,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Children {
    #[default]
    None,
    Map(BTreeMap<String, Positions>),
    Seq(Vec<Positions>),
}

impl Positions {
    /// The position of the dotted key `key` (`processors.wasm/url.limits.deadline`,
    /// `service.pipelines.traces.processors[1]`), or of its deepest ancestor that is in the
    /// file (a missing key is reported where its parent is). Keys may themselves contain dots:
    /// at each level the longest key that fits is taken.
    pub fn find(&self, key: &str) -> Option<Position> {
        let mut node = self;
        let mut rest = key;
        let mut best = self.at;
        while !rest.is_empty() {
            let next = match (&node.children, rest.strip_prefix('[')) {
                (Children::Seq(items), Some(after)) => {
                    let Some((index, after)) = after.split_once(']') else {
                        break;
                    };
                    let Some(item) = index.parse::<usize>().ok().and_then(|i| items.get(i)) else {
                        break;
                    };
                    rest = after.strip_prefix('.').unwrap_or(after);
                    item
                }
                (Children::Map(entries), None) => {
                    let fits = |k: &&String| {
                        rest.strip_prefix(k.as_str()).is_some_and(|r| {
                            r.is_empty() || r.starts_with('.') || r.starts_with('[')
                        })
                    };
                    let Some((name, child)) = entries
                        .iter()
                        .filter(|(k, _)| fits(k))
                        .max_by_key(|(k, _)| k.len())
                    else {
                        break;
                    };
                    let after = &rest[name.len()..];
                    rest = after.strip_prefix('.').unwrap_or(after);
                    child
                }
                _ => break,
            };
            node = next;
            best = node.at.or(best);
        }
        best
    }
}

/// A YAML document as JSON values, with positions.
#[derive(Debug)]
pub struct Document {
    /// The document's contents.
    pub value: Value,
    /// Where its keys sit.
    pub positions: Positions,
}

/// Why a file is not YAML this config can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Where the problem is, when known.
    pub position: Option<Position>,
    /// What it is.
    pub reason: String,
}

/// Parse the first document of `text`; `None` when the file holds no document or only `null`.
pub fn parse(text: &str) -> Result<Option<Document>, YamlError> {
    let documents = MarkedYaml::load_from_str(text).map_err(|e| YamlError {
        position: Some((e.marker().line(), e.marker().col() + 1)),
        reason: format!("not valid YAML: {}", e.info()),
    })?;
    let Some(first) = documents.first() else {
        return Ok(None);
    };
    let (value, positions) = convert(first)?;
    Ok((!value.is_null()).then_some(Document { value, positions }))
}

fn position(node: &MarkedYaml) -> Position {
    (node.span.start.line(), node.span.start.col() + 1)
}

fn convert(node: &MarkedYaml) -> Result<(Value, Positions), YamlError> {
    let fail = |reason: String| YamlError {
        position: Some(position(node)),
        reason,
    };
    Ok(match &node.data {
        YamlData::Value(scalar) => (scalar_value(scalar), Positions::default()),
        YamlData::Representation(text, _, _) => {
            (Value::String(text.to_string()), Positions::default())
        }
        YamlData::Sequence(items) => {
            let mut values = Vec::with_capacity(items.len());
            let mut positions = Vec::with_capacity(items.len());
            for item in items {
                let (value, mut at) = convert(item)?;
                at.at = Some(position(item));
                values.push(value);
                positions.push(at);
            }
            (
                Value::Array(values),
                Positions {
                    at: None,
                    children: Children::Seq(positions),
                },
            )
        }
        YamlData::Mapping(entries) => {
            let mut map = Map::new();
            let mut positions = BTreeMap::new();
            for (key, item) in entries {
                let name = match &key.data {
                    YamlData::Value(Scalar::String(s)) => s.to_string(),
                    YamlData::Value(scalar) => match scalar_value(scalar) {
                        Value::Null => "null".to_owned(),
                        other => other.to_string(),
                    },
                    _ => {
                        return Err(YamlError {
                            position: Some(position(key)),
                            reason: "a key must be a plain value, not a list or a map".into(),
                        });
                    }
                };
                let (value, mut at) = convert(item)?;
                at.at = Some(position(key));
                map.insert(name.clone(), value);
                positions.insert(name, at);
            }
            (
                Value::Object(map),
                Positions {
                    at: None,
                    children: Children::Map(positions),
                },
            )
        }
        YamlData::Tagged(tag, inner) => {
            if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
                convert(inner)?
            } else {
                return Err(fail(format!(
                    "the tag {}{} is not supported; write the value without it",
                    tag.handle, tag.suffix
                )));
            }
        }
        YamlData::Alias(_) | YamlData::BadValue => {
            return Err(fail("an alias that could not be resolved".into()));
        }
    })
}

fn scalar_value(scalar: &Scalar) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            // YAML's .inf and .nan have no JSON form; keep their text.
            .unwrap_or_else(|| Value::String(f.into_inner().to_string())),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
receivers:
  otlp:
    protocols:
      http: { endpoint: \"localhost:4318\" }
processors:
  wasm/url:
    plugin: url.wasm
    config:
      keep_params: [page, lang]
      url.full: 1
service:
  pipelines:
    traces:
      processors:
        - wasm/url
        - batch
";

    #[test]
    fn values_and_positions() {
        let doc = parse(TEXT).unwrap().unwrap();
        assert_eq!(
            doc.value["receivers"]["otlp"]["protocols"]["http"]["endpoint"],
            "localhost:4318"
        );
        assert_eq!(doc.value["processors"]["wasm/url"]["config"]["url.full"], 1);
        let at = |key: &str| doc.positions.find(key);
        assert_eq!(at("processors"), Some((5, 1)));
        assert_eq!(at("processors.wasm/url.plugin"), Some((7, 5)));
        assert_eq!(
            at("processors.wasm/url.config.keep_params[1]"),
            Some((9, 27))
        );
        assert_eq!(
            at("processors.wasm/url.config.url.full"),
            Some((10, 7)),
            "a key with a dot"
        );
        assert_eq!(at("service.pipelines.traces.processors[1]"), Some((16, 11)));
        assert_eq!(
            at("processors.wasm/url.on_error"),
            Some((6, 3)),
            "a key that is not there is reported at its parent"
        );
        assert_eq!(at("receivers.otlp.protocols.http.endpoint"), Some((4, 15)));
    }

    #[test]
    fn anchors_keys_tags_and_errors() {
        let doc = parse("a: &x {b: 1}\nc: *x\n8080: port\nd: !!str 12\n")
            .unwrap()
            .unwrap();
        assert_eq!(doc.value["c"]["b"], 1);
        assert_eq!(doc.value["8080"], "port");
        assert_eq!(doc.value["d"], "12");
        assert!(parse("").unwrap().is_none());
        assert!(parse("~\n").unwrap().is_none());
        let error = parse("a: 1\na: 2\n").unwrap_err();
        assert!(error.reason.contains("duplicate"), "{error:?}");
        let error = parse("a:\n  - b\n c: d\n").unwrap_err();
        assert_eq!(error.position.map(|p| p.0), Some(3), "{error:?}");
        let error = parse("a: !custom 1\n").unwrap_err();
        assert!(error.reason.contains("!custom"), "{error:?}");
    }
}
