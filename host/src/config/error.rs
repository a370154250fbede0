//! [`ConfigError`]: every config problem names the file, where in it, the key and the reason.

use std::path::PathBuf;

/// A config that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}{reason}", file.display(), match position { Some((line, column)) => format!(":{line}:{column}"), None => String::new() }, if key.is_empty() { String::new() } else { format!("{key}: ") })]
pub struct ConfigError {
    /// The config file (or `<embedded>` for the demo's built-in config).
    pub file: PathBuf,
    /// The line and column (from 1) of the offending key, when it is in the file.
    pub position: Option<(usize, usize)>,
    /// The dotted key, such as `processors.wasm/url.limits.deadline`; empty for the whole file.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    /// An error at `key` of `file`, without a position.
    pub fn new(
        file: impl Into<PathBuf>,
        key: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            position: None,
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// The same error, placed at `position` (line and column from 1).
    pub fn at(mut self, position: Option<(usize, usize)>) -> Self {
        self.position = position;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_position_key_and_reason() {
        let e = ConfigError::new("spanwise.yaml", "processors.batch.timeout", "bad duration");
        assert_eq!(
            e.to_string(),
            "spanwise.yaml: processors.batch.timeout: bad duration"
        );
        let e = e.at(Some((14, 5)));
        assert_eq!(
            e.to_string(),
            "spanwise.yaml:14:5: processors.batch.timeout: bad duration"
        );
        let e = ConfigError::new("spanwise.yaml", "", "not YAML").at(Some((3, 1)));
        assert_eq!(e.to_string(), "spanwise.yaml:3:1: not YAML");
    }
}
