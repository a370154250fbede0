//! Precompiled components on disk, in a folder an operator can trust.
//!
//! The `.cwasm` a component compiles to is machine code that wasmtime loads without checking
//! it (deserializing is `unsafe`), so the cache guards what it loads:
//!
//! - **Private folder.** The folder is created `0700`; an existing one must belong to this user
//!   and be writable by nobody else, or the runtime refuses to start (`runtime.cache_dir`), since
//!   anyone who can write there could make the host run their code.
//! - **Stable keys.** A file's name is the SHA-256 of the component's own SHA-256 and of the
//!   engine's fingerprint: wasmtime's compatibility hash (its version and every setting that
//!   changes the code) fed through SHA-256, not through a hasher that may change between Rust
//!   releases.
//! - **Integrity.** Beside each `KEY.cwasm` (exactly what wasmtime wrote, so it is mapped into
//!   memory as it is, not read and copied) is `KEY.sum`: its key and a checksum of the code
//!   (XXH3-128). A file that is truncated, corrupted, renamed from another key or missing its
//!   checksum fails the check, is logged and recompiled. The checksum is there for accidents (a
//!   full disk, a bad copy), not for attacks: whoever could change the code could change the
//!   checksum too, whatever the hash; the folder's permissions are what keep others out. (It
//!   was SHA-256 in a header of the code file: a third of a cached load, and a copy of the code.)
//! - **Digests.** A component file's SHA-256 is remembered by the file's identity
//!   (`KEYPATH.digest`, see `digests.rs`), so loading an unchanged component whose code is cached
//!   reads and hashes nothing but the checksum's code.
//! - **Eviction.** Files are written atomically (`0600`, temporary name, rename), so a file
//!   once in place never changes (wasmtime maps it); loading one marks it used; when the folder holds more than `runtime.cache_max_size`, the least recently
//!   used files go. Temporary files left by a crash are removed after an hour.

use super::digests::DigestMemo;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use wasmtime::component::Component;
use wasmtime::{Engine, Result};

/// The first bytes of every checksum file, naming its layout.
const MAGIC: &[u8; 16] = b"spanwise-cwasm/3";
/// A checksum file: magic, the key, the XXH3-128 of the code (little-endian), its length.
const SUM_LEN: usize = MAGIC.len() + 32 + 16 + 8;
/// Remembered digests older than this are removed when the cache is trimmed.
const STALE_DIGEST: Duration = Duration::from_secs(30 * 24 * 3600);
/// Temporary files older than this are left from a crash.
const STALE_TEMPORARY: Duration = Duration::from_secs(3600);

/// Why the cache folder cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cache folder {}: {reason}", dir.display())]
pub struct CacheDirError {
    /// The folder.
    pub dir: PathBuf,
    /// What is wrong with it, and what to do.
    pub reason: String,
}

/// A folder of `.cwasm` files written by this host.
#[derive(Debug)]
pub(super) struct ComponentCache {
    dir: PathBuf,
    digests: DigestMemo,
    engine_fingerprint: [u8; 32],
    max_size: u64,
}

impl ComponentCache {
    /// Open (creating it private if missing) the cache folder `dir`, refusing one that others
    /// could write to.
    pub(super) fn open(
        dir: PathBuf,
        engine: &Engine,
        max_size: u64,
    ) -> Result<Self, CacheDirError> {
        let refuse = |reason: String| CacheDirError {
            dir: dir.clone(),
            reason,
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| refuse(format!("cannot create it: {e}")))?;
        let metadata = fs::metadata(&dir).map_err(|e| refuse(format!("cannot read it: {e}")))?;
        if !metadata.is_dir() {
            return Err(refuse("is not a folder".into()));
        }
        let me = rustix::process::geteuid().as_raw();
        if metadata.uid() != me {
            return Err(refuse(format!(
                "belongs to user {} but spanwise runs as user {me}; compiled plugins are only \
                 loaded from a folder of the user that runs them: choose another runtime.cache_dir",
                metadata.uid()
            )));
        }
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(refuse(format!(
                "is writable by its group or by everyone (mode {mode:03o}), so others could \
                 plant code that spanwise would run: `chmod 700 {}`, or choose another \
                 runtime.cache_dir",
                dir.display()
            )));
        }
        let mut hasher = Sha256Hasher::default();
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
        let engine_fingerprint = hasher.0.finalize().into();
        Ok(Self {
            digests: DigestMemo::new(dir.clone()),
            dir,
            engine_fingerprint,
            max_size,
        })
    }

    /// The compiled component: from the cache when a file for it passes the checks, otherwise
    /// compiled and written to the cache. A cache that cannot be written is a warning.
    pub(super) fn get_or_compile(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<Component> {
        match self.get(engine, sha256) {
            Some(component) => Ok(component),
            None => self.compile(engine, sha256, bytes),
        }
    }

    /// The cached component of the component file whose SHA-256 is `sha256`, if a file for it
    /// passes the checks (one that fails them is logged).
    pub(super) fn get(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let key = cache_key(sha256, &self.engine_fingerprint);
        let code_file = self.code_file(&key);
        match self.cached(engine, &code_file, &key) {
            Ok(Some(component)) => {
                mark_used(&code_file);
                Some(component)
            }
            Ok(None) => None,
            Err(reason) => {
                tracing::warn!(
                    file = %code_file.display(),
                    "cached component not used ({reason}); compiling again"
                );
                None
            }
        }
    }

    /// Compile `bytes` (whose SHA-256 is `sha256`) and write the code to the cache.
    fn compile(&self, engine: &Engine, sha256: &str, bytes: &[u8]) -> Result<Component> {
        let key = cache_key(sha256, &self.engine_fingerprint);
        let code_file = self.code_file(&key);
        let compiled = engine.precompile_component(bytes)?;
        match self.write(&code_file, &key, &compiled) {
            Ok(()) => self.evict(&code_file),
            Err(e) => tracing::warn!(
                dir = %self.dir.display(),
                "cannot cache the compiled component: {e}"
            ),
        }
        // SAFETY: the bytes were just produced by `precompile_component` of this engine.
        #[allow(unsafe_code)]
        unsafe {
            Component::deserialize(engine, &compiled)
        }
    }

    /// The remembered digests of component files (kept in this folder).
    pub(super) fn digests(&self) -> &DigestMemo {
        &self.digests
    }

    fn code_file(&self, key: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.cwasm", hex::encode(key)))
    }

    /// The component in `code_file` if its checksum file vouches for it; `None` when it is not
    /// cached; an error (to log) when it is there but fails a check or does not load.
    fn cached(
        &self,
        engine: &Engine,
        code_file: &Path,
        key: &[u8; 32],
    ) -> std::result::Result<Option<Component>, String> {
        let sum = match fs::read(code_file.with_extension("sum")) {
            Ok(sum) => sum,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if code_file.exists() {
                    // Written by a spanwise before checksum files, or interrupted: expected
                    // once after an upgrade, so not a warning.
                    tracing::info!(
                        file = %code_file.display(),
                        "cached component has no checksum file; compiling again"
                    );
                }
                return Ok(None);
            }
            Err(e) => return Err(format!("cannot read its checksum file: {e}")),
        };
        let code = fs::File::open(code_file).map_err(|e| format!("cannot open it: {e}"))?;
        // SAFETY: a read-only mapping of a file in a folder only this user can write to, and
        // cache files are replaced by renaming, never changed in place.
        #[allow(unsafe_code)]
        let mapped =
            unsafe { memmap2::Mmap::map(&code) }.map_err(|e| format!("cannot map it: {e}"))?;
        check_sum(&sum, key, &mapped)?;
        drop(mapped);
        // SAFETY: the code is what this host compiled for this component and this engine
        // configuration (the key in the checksum file says so), it is unchanged since (its
        // checksum matches), and it is in a folder only this user can write to, where files are
        // never changed in place. wasmtime checks its own header as well.
        #[allow(unsafe_code)]
        unsafe { Component::deserialize_file(engine, code_file) }
            .map(Some)
            .map_err(|e| format!("it does not load: {e:#}"))
    }

    /// Write the code, then its checksum file, each under a temporary name then renamed.
    fn write(&self, code_file: &Path, key: &[u8; 32], code: &[u8]) -> std::io::Result<()> {
        write_atomically(code_file, code)?;
        write_atomically(&code_file.with_extension("sum"), &sum_file(key, code))
    }

    /// Remove the least recently used files until the folder fits `max_size` (never `keep`),
    /// and temporary files left by a crash.
    fn evict(&self, keep: &Path) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            let modified = metadata.modified().unwrap_or(now);
            let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if extension == "cwasm" {
                files.push((modified, metadata.len(), path));
            } else if extension == "sum" && !path.with_extension("cwasm").exists() {
                // A checksum whose code is gone (written last, so never one being written).
                let _ = fs::remove_file(&path);
            } else if extension == "digest"
                && now.duration_since(modified).unwrap_or_default() > STALE_DIGEST
            {
                // Written when a component was last hashed: one not hashed for this long may
                // be gone; one still in use is hashed again once (see `digests.rs`).
                let _ = fs::remove_file(&path);
            } else if extension.starts_with("tmp")
                && now.duration_since(modified).unwrap_or_default() > STALE_TEMPORARY
            {
                let _ = fs::remove_file(&path);
            }
        }
        let mut total: u64 = files.iter().map(|(_, size, _)| size).sum();
        files.sort();
        for (_, size, path) in files {
            if total <= self.max_size {
                break;
            }
            if path == keep {
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => {
                    let _ = fs::remove_file(path.with_extension("sum"));
                    total -= size;
                    tracing::info!(file = %path.display(), "evicted from the component cache");
                }
                Err(e) => tracing::warn!(file = %path.display(), "cannot evict: {e}"),
            }
        }
    }
}

/// The cache key of a component (its SHA-256, in hex) under an engine fingerprint.
fn cache_key(component_sha256: &str, engine_fingerprint: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(component_sha256.as_bytes())
        .chain_update(engine_fingerprint)
        .finalize()
        .into()
}

/// The contents of the checksum file of `code` under `key`.
fn sum_file(key: &[u8; 32], code: &[u8]) -> Vec<u8> {
    let mut sum = Vec::with_capacity(SUM_LEN);
    sum.extend_from_slice(MAGIC);
    sum.extend_from_slice(key);
    sum.extend_from_slice(&checksum(code));
    sum.extend_from_slice(&(code.len() as u64).to_le_bytes());
    sum
}

/// Whether checksum file `sum` names `key` and vouches for `code`; the reason when not.
fn check_sum(sum: &[u8], key: &[u8; 32], code: &[u8]) -> std::result::Result<(), String> {
    if sum.len() != SUM_LEN || &sum[..MAGIC.len()] != MAGIC {
        return Err("its checksum file is not one this host writes".into());
    }
    let (stored_key, rest) = sum[MAGIC.len()..].split_at(32);
    let (digest, length) = rest.split_at(16);
    if stored_key != key {
        return Err("written for another component or engine".into());
    }
    if length != (code.len() as u64).to_le_bytes() {
        return Err("its length changed after it was written".into());
    }
    if checksum(code) != digest {
        return Err("its contents changed after it was written".into());
    }
    Ok(())
}

/// The checksum of compiled code.
fn checksum(code: &[u8]) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(code).to_le_bytes()
}

/// Write `contents` to `file` (`0600`) under a temporary name, flushed, then renamed over it.
fn write_atomically(file: &Path, contents: &[u8]) -> std::io::Result<()> {
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    let tmp = file.with_extension(format!("tmp{}{extension}", std::process::id()));
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    out.write_all(contents)?;
    out.sync_all()?;
    drop(out);
    fs::rename(&tmp, file)
}

/// Mark a file as just used, for eviction (its modification time is the last use).
fn mark_used(file: &Path) {
    if let Ok(handle) = fs::File::options().append(true).open(file) {
        let _ = handle.set_modified(SystemTime::now());
    }
}

/// A `Hasher` that feeds SHA-256: a stable digest of any `Hash` value.
#[derive(Default)]
struct Sha256Hasher(Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_sha256() {
        // Pinned: a key never changes for the same inputs, whatever the Rust release.
        let key = cache_key(&"ab".repeat(32), &[7; 32]);
        assert_eq!(
            hex::encode(key),
            hex::encode(
                Sha256::new()
                    .chain_update("ab".repeat(32).as_bytes())
                    .chain_update([7u8; 32])
                    .finalize()
            )
        );
        assert_ne!(cache_key(&"ab".repeat(32), &[8; 32]), key);
    }

    #[test]
    fn checksums_refuse_other_keys_and_changed_bytes() {
        let key = [1u8; 32];
        let code = b"compiled code".to_vec();
        let sum = sum_file(&key, &code);
        assert_eq!(sum.len(), SUM_LEN);
        assert_eq!(check_sum(&sum, &key, &code), Ok(()));
        assert!(
            check_sum(&sum, &[2u8; 32], &code)
                .unwrap_err()
                .contains("another")
        );
        let mut flipped = code.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(
            check_sum(&sum, &key, &flipped)
                .unwrap_err()
                .contains("changed")
        );
        assert!(
            check_sum(&sum, &key, &code[..5])
                .unwrap_err()
                .contains("length")
        );
        assert!(check_sum(&sum[..10], &key, &code).is_err());
        let mut old_format = sum.clone();
        old_format[15] = b'2';
        assert!(
            check_sum(&old_format, &key, &code)
                .unwrap_err()
                .contains("not one this host writes")
        );
    }
}
