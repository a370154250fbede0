//! `my-plugin`: removes one attribute from every span that has it, and lower-cases another.

use spanwise_sdk::{ConfigError, Level, ProcessError, Processor, SpanBatch};

/// The `config:` block. `deny_unknown_fields` makes a misspelt key an error.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The attribute to remove, whatever its type.
    remove: String,
    /// A string attribute to lower-case, if any.
    #[serde(default)]
    lowercase: Option<String>,
}

/// The processor: built once from its config, then called for every batch.
pub struct MyPlugin(Config);

impl Processor for MyPlugin {
    fn configure(json: &str) -> Result<Self, ConfigError> {
        // Errors name the field: `remove: invalid type: integer `1`, expected a string`.
        Ok(MyPlugin(spanwise_sdk::parse_config(json)?))
    }

    fn process<B: SpanBatch + ?Sized>(&mut self, batch: &mut B) -> Result<(), ProcessError> {
        // One read (the rows that have the key) and one edit, whatever the batch holds.
        let removed = batch.remove_attribute_everywhere(Level::Span, &self.0.remove);
        // Reads the column once; writes only the values that change.
        let lowered = match &self.0.lowercase {
            Some(key) => {
                batch.map_str_attribute(Level::Span, key, |_, value| Some(value.to_lowercase()))
            }
            None => 0,
        };
        spanwise_sdk::count("removed", removed as u64);
        spanwise_sdk::count("lowercased", lowered as u64);
        Ok(())
    }
}

spanwise_sdk::export_processor!(MyPlugin);

#[cfg(test)]
mod tests {
    use super::*;
    use spanwise_batch::{BatchBuilder, kv};
    use spanwise_sdk::native;

    #[test]
    fn removes_and_lowercases_and_counts() {
        let mut batch = BatchBuilder::new()
            .span(
                "GET",
                vec![kv("secret", "x"), kv("email", "Ana@Example.org")],
            )
            .span(
                "POST",
                vec![kv("secret", 42i64), kv("email", "bo@example.org")],
            )
            .span("PUT", vec![])
            .build();
        let config = r#"{"remove": "secret", "lowercase": "email"}"#;
        let mut processor = MyPlugin::configure(config).unwrap();
        native::take_counters();
        native::process(&mut processor, &mut batch).unwrap();

        assert!(batch.attribute_rows(Level::Span, &["secret"])[0].is_empty());
        let emails = batch.str_attribute(Level::Span, "email");
        assert_eq!(
            emails.iter().collect::<Vec<_>>(),
            vec![Some("ana@example.org"), Some("bo@example.org"), None]
        );
        let counters = native::take_counters();
        assert_eq!((counters["removed"], counters["lowercased"]), (2, 1));
    }

    #[test]
    fn a_misspelt_key_is_refused_by_name() {
        let Err(error) = MyPlugin::configure(r#"{"remvoe": "secret"}"#) else {
            panic!("accepted a misspelt key");
        };
        assert!(error.message.contains("unknown field `remvoe`"), "{error}");
    }
}
