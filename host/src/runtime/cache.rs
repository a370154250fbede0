//! Precompiled components on disk, keyed by the component's sha256 and the engine's
//! compatibility hash (which covers the wasmtime version and every setting that affects code).

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use wasmtime::component::Component;
use wasmtime::{Engine, Result};

/// A folder of `.cwasm` files written by this host.
pub(super) struct ComponentCache {
    dir: PathBuf,
    engine_key: String,
}

impl ComponentCache {
    pub(super) fn new(dir: PathBuf, engine: &Engine) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The compiled component: from the cache when present and loadable, otherwise compiled and
    /// written to the cache. A cache that cannot be written is a warning, not an error.
    pub(super) fn get_or_compile(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<Component> {
        let file = self.dir.join(format!("{sha256}-{}.cwasm", self.engine_key));
        if file.exists() {
            // SAFETY: the file was written by `precompile_component` of an engine with the same
            // compatibility hash (it is in the name), into a folder of this host's own; wasmtime
            // checks the header and refuses a file of another engine configuration.
            #[allow(unsafe_code)]
            match unsafe { Component::deserialize_file(engine, &file) } {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(file = %file.display(), "ignoring unloadable cached component: {e}")
                }
            }
        }
        let compiled = engine.precompile_component(bytes)?;
        if let Err(e) = self.write(&file, &compiled) {
            tracing::warn!(dir = %self.dir.display(), "cannot cache the compiled component: {e}");
        }
        // SAFETY: the bytes were just produced by `precompile_component` of this engine.
        #[allow(unsafe_code)]
        unsafe {
            Component::deserialize(engine, &compiled)
        }
    }

    fn write(&self, file: &std::path::Path, compiled: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, compiled)?;
        std::fs::rename(&tmp, file)
    }
}
