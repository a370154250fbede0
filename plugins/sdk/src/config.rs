//! Turning a processor's JSON config into a typed struct, with errors that name the field.

use serde::de::DeserializeOwned;
use spanwise_abi::ConfigError;

/// Parse a JSON config into `T`, naming the field on error. Give `T`
/// `#[serde(deny_unknown_fields)]` so that a misspelt key is an error rather than ignored.
pub fn parse_config<T: DeserializeOwned>(json: &str) -> Result<T, ConfigError> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { field };
        // serde_json appends " at line L column C", which means nothing to someone who wrote
        // YAML: the host turned it into JSON.
        let message = e.inner().to_string();
        let message = match message.rfind(" at line ") {
            Some(at) => message[..at].to_owned(),
            None => message,
        };
        ConfigError { field, message }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        #[serde(default)]
        inner: Inner,
    }

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        #[serde(default)]
        size: u32,
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse_config::<Outer>(r#"{"inner": {"size": "big"}}"#).unwrap_err();
        assert_eq!(err.field, "inner.size");
        assert!(err.message.contains("invalid type"), "{err}");
        let err = parse_config::<Outer>(r#"{"inner": {"sise": 1}}"#).unwrap_err();
        assert!(err.message.contains("unknown field `sise`"), "{err}");
        assert!(parse_config::<Outer>("").is_ok());
    }
}
