//! What a plugin answers besides edits: config errors, process errors, log levels.

/// A configuration the processor cannot accept (WIT `config-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The dotted path of the offending field inside the `config:` block (`collapse.placeholder`),
    /// empty when the error is about the block as a whole.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    /// An error about one field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why processing a batch failed (WIT `process-error`). The host discards every edit of the call
/// and applies the processor's `on_error` policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessError {
    /// The batch holds data the processor cannot process.
    InvalidData(String),
    /// The processor itself failed.
    Internal(String),
}

impl std::fmt::Display for ProcessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessError::InvalidData(m) => write!(f, "invalid data: {m}"),
            ProcessError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for ProcessError {}

/// The severity of a log line (WIT `host.log-level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Very detailed diagnostics.
    Trace,
    /// Diagnostics.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the processor handled.
    Warn,
    /// Something the processor could not handle.
    Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            ConfigError::new("keep_params[0]", "must not be empty").to_string(),
            "keep_params[0]: must not be empty"
        );
        assert_eq!(ConfigError::new("", "bad").to_string(), "bad");
        assert_eq!(
            ProcessError::Internal("x".into()).to_string(),
            "internal error: x"
        );
    }
}
