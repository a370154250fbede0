//! The SHA-256 of a component file, remembered by the file's identity so that a load whose
//! compiled code is cached reads neither the file nor hashes it (that was half of a cached
//! load: a 1.5 MB plugin is 1.5 MB of SHA-256).
//!
//! A remembered digest is used only while the file's device, inode, size, modification time
//! and change time are all what they were, as git's index does. The change time cannot be set
//! by anyone but root, and every write, rename over or `touch` moves it, so a different file or
//! new content under the same path never matches. Timestamps come from a coarse clock: two
//! writes a few milliseconds apart can leave the same change time. So a digest is remembered
//! only for a file whose change time is at least [`SETTLED`] old when it is hashed; a file
//! changed later gets a later change time. The memo files live in the cache folder, which is
//! private to this user (see `cache.rs`).

use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first bytes of a memo file, naming its layout.
const MAGIC: &[u8; 16] = b"spanwise-digest1";
/// Magic, seven identity fields (8 bytes each), the SHA-256 in hex.
const MEMO_LEN: usize = MAGIC.len() + 7 * 8 + 64;
/// How old a file's change time must be for its digest to be remembered.
pub(super) const SETTLED: Duration = Duration::from_secs(2);

/// The identity of a file's contents, as far as the file system tells without reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileStamp([u64; 7]);

impl FileStamp {
    /// The stamp of `metadata`.
    pub(super) fn of(metadata: &fs::Metadata) -> Self {
        FileStamp([
            metadata.dev(),
            metadata.ino(),
            metadata.size(),
            metadata.mtime() as u64,
            metadata.mtime_nsec() as u64,
            metadata.ctime() as u64,
            metadata.ctime_nsec() as u64,
        ])
    }

    /// Whether the file changed at least [`SETTLED`] before `now`.
    fn settled(&self, now: SystemTime) -> bool {
        let changed = Duration::new(self.0[5], self.0[6] as u32);
        now.duration_since(UNIX_EPOCH)
            .is_ok_and(|now| now >= changed + SETTLED)
    }
}

/// Remembered digests, one small file per component path, in `dir`.
#[derive(Debug)]
pub(super) struct DigestMemo {
    dir: PathBuf,
}

impl DigestMemo {
    /// Memos kept in `dir` (the private cache folder).
    pub(super) fn new(dir: PathBuf) -> Self {
        DigestMemo { dir }
    }

    /// The remembered SHA-256 (hex) of `path`, if its stamp is still `stamp`.
    pub(super) fn get(&self, path: &Path, stamp: FileStamp) -> Option<String> {
        let memo = fs::read(self.file(path)?).ok()?;
        let (stored, sha256) = decode(&memo)?;
        (stored == stamp).then_some(sha256)
    }

    /// Remember `sha256` for `path` as of `stamp`, if the file had settled by then (see the
    /// module's documentation); failing to write is not an error, the next load hashes again.
    pub(super) fn put(&self, path: &Path, stamp: FileStamp, sha256: &str) {
        if !stamp.settled(SystemTime::now()) {
            return;
        }
        let Some(file) = self.file(path) else { return };
        let tmp = file.with_extension(format!("tmp{}digest", std::process::id()));
        let written =
            write_private(&tmp, &encode(stamp, sha256)).and_then(|()| fs::rename(&tmp, &file));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            tracing::debug!(file = %file.display(), "cannot remember a component's digest: {e}");
        }
    }

    /// The memo file of `path`: named by the SHA-256 of its canonical form.
    fn file(&self, path: &Path) -> Option<PathBuf> {
        let canonical = fs::canonicalize(path).ok()?;
        let name = hex::encode(Sha256::digest(canonical.as_os_str().as_encoded_bytes()));
        Some(self.dir.join(format!("{name}.digest")))
    }
}

fn write_private(file: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)?;
    out.write_all(contents)
}

fn encode(stamp: FileStamp, sha256: &str) -> Vec<u8> {
    let mut memo = Vec::with_capacity(MEMO_LEN);
    memo.extend_from_slice(MAGIC);
    for field in stamp.0 {
        memo.extend_from_slice(&field.to_le_bytes());
    }
    memo.extend_from_slice(sha256.as_bytes());
    memo
}

fn decode(memo: &[u8]) -> Option<(FileStamp, String)> {
    if memo.len() != MEMO_LEN || &memo[..MAGIC.len()] != MAGIC {
        return None;
    }
    let mut fields = [0u64; 7];
    for (i, chunk) in memo[MAGIC.len()..MAGIC.len() + 56]
        .chunks_exact(8)
        .enumerate()
    {
        fields[i] = u64::from_le_bytes(chunk.try_into().ok()?);
    }
    let sha256 = std::str::from_utf8(&memo[MAGIC.len() + 56..]).ok()?;
    sha256
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        .then(|| (FileStamp(fields), sha256.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled_file(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
        let file = dir.join(name);
        fs::write(&file, contents).unwrap();
        file
    }

    #[test]
    fn a_digest_is_remembered_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let memo = DigestMemo::new(dir.path().join("memo"));
        fs::create_dir(dir.path().join("memo")).unwrap();
        let file = settled_file(dir.path(), "a.wasm", b"one");
        let stamp = FileStamp::of(&fs::metadata(&file).unwrap());
        let sha = "ab".repeat(32);

        // Just written: not settled, not remembered.
        memo.put(&file, stamp, &sha);
        assert_eq!(memo.get(&file, stamp), None);

        // As if written long ago: remembered, for that stamp only.
        let mut old = stamp;
        old.0[5] = 1_000_000;
        memo.put(&file, old, &sha);
        assert_eq!(memo.get(&file, old), Some(sha.clone()));
        let mut touched = old;
        touched.0[6] += 1;
        assert_eq!(memo.get(&file, touched), None, "a new change time");
        let mut grown = old;
        grown.0[2] += 1;
        assert_eq!(memo.get(&file, grown), None, "a new size");
        // Another path has its own memo.
        let other = settled_file(dir.path(), "b.wasm", b"one");
        assert_eq!(memo.get(&other, old), None);
    }

    #[test]
    fn memos_round_trip_and_bad_ones_are_ignored() {
        let stamp = FileStamp([1, 2, 3, 4, 5, 6, 7]);
        let sha = "0f".repeat(32);
        let memo = encode(stamp, &sha);
        assert_eq!(decode(&memo), Some((stamp, sha)));
        assert_eq!(decode(&memo[..memo.len() - 1]), None);
        let mut upper = memo.clone();
        *upper.last_mut().unwrap() = b'F';
        assert_eq!(decode(&upper), None);
        let mut other = memo;
        other[0] ^= 1;
        assert_eq!(decode(&other), None);
    }

    #[test]
    fn only_settled_files_count() {
        let now = UNIX_EPOCH + Duration::from_secs(100);
        assert!(FileStamp([0, 0, 0, 0, 0, 98, 0]).settled(now));
        assert!(!FileStamp([0, 0, 0, 0, 0, 98, 1]).settled(now));
        assert!(!FileStamp([0, 0, 0, 0, 0, 100, 0]).settled(now));
    }
}
