//! Errors of loading plugins and of calling them.

use std::path::PathBuf;

/// Why a plugin could not be loaded, instantiated or configured.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The plugin file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a WebAssembly component.
    #[error("{path} is not a WebAssembly component: {reason}")]
    NotAComponent {
        /// The plugin file.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The file's sha256 differs from the pin in the config.
    #[error(
        "{path} has sha256 {actual}, but the config pins sha256 {expected}; refusing to load it"
    )]
    PinMismatch {
        /// The plugin file.
        path: PathBuf,
        /// The pinned digest.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// Compiling or linking failed (for example: the component targets another world).
    #[error("cannot compile or link {path}: {reason}")]
    Compile {
        /// The plugin file.
        path: PathBuf,
        /// The runtime's reason, with its causes.
        reason: String,
    },
    /// Instantiation failed (for example: its memory exceeds the cap at start).
    #[error("cannot instantiate {name}: {reason}")]
    Instantiate {
        /// The processor id.
        name: String,
        /// The runtime's reason.
        reason: String,
    },
    /// The plugin rejected its config.
    #[error("{name} rejected its config: {}{message}", if field.is_empty() { String::new() } else { format!("config.{field}: ") })]
    Config {
        /// The processor id.
        name: String,
        /// The field inside the `config:` block, empty for the block as a whole.
        field: String,
        /// The plugin's message.
        message: String,
    },
    /// The engine could not be created.
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    /// The compile cache folder is not safe to load code from, or cannot be created.
    #[error(transparent)]
    CacheDir(#[from] super::cache::CacheDirError),
}

/// Why one call into a plugin failed. The batch is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The call ran past its deadline and was interrupted.
    #[error("deadline of {deadline_ms} ms exceeded; the instance was discarded")]
    Deadline {
        /// The deadline in milliseconds.
        deadline_ms: u64,
    },
    /// The plugin trapped (a panic, a memory cap, an invalid edit); the instance was discarded.
    #[error("trapped: {0}; the instance was discarded")]
    Trap(String),
    /// The plugin returned an error; the instance stays.
    #[error("returned an error: {0}")]
    Failed(String),
    /// No instance could be made for this call.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl CallError {
    /// Whether the instance was discarded.
    pub fn is_trap(&self) -> bool {
        matches!(self, CallError::Deadline { .. } | CallError::Trap(_))
    }
}

/// Render an error with its chain of causes on one line.
pub(crate) fn chain(error: &wasmtime::Error) -> String {
    format!("{error:#}")
}
