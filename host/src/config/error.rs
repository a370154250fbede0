//! [`ConfigError`]: every config problem names the file, the key and the reason.

use std::path::PathBuf;

/// A config that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}{reason}", file.display(), if key.is_empty() { String::new() } else { format!("{key}: ") })]
pub struct ConfigError {
    /// The config file (or `<embedded>` for the demo's built-in config).
    pub file: PathBuf,
    /// The dotted key, such as `processors.wasm/url.limits.deadline`; empty for the whole file.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    /// An error at `key` of `file`.
    pub fn new(
        file: impl Into<PathBuf>,
        key: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            key: key.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_key_and_reason() {
        let e = ConfigError::new("spanwise.yaml", "processors.batch.timeout", "bad duration");
        assert_eq!(
            e.to_string(),
            "spanwise.yaml: processors.batch.timeout: bad duration"
        );
        let e = ConfigError::new("spanwise.yaml", "", "not YAML");
        assert_eq!(e.to_string(), "spanwise.yaml: not YAML");
    }
}
