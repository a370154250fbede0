//! The persistent sending queue (`sending_queue.storage`): every batch the queue takes is
//! written to a file of its own in the storage directory before the client is answered, and the
//! file is removed once the batch is delivered or given up. After a crash or `kill -9`, the
//! files left are sent again at start, oldest first.
//!
//! A file is `SWQ1`, the payload's length and its xxh3 hash (both u64, little-endian), then the
//! payload: the `Batch` in protobuf. It is written as `N.tmp`, synced and
//! renamed to `N.batch`, so a file that is there whole was acknowledged and a `.tmp` one was
//! not (it is deleted). A `.batch` file that does not check out (a torn disk, a bad copy) is
//! moved to `corrupt/` and reported; the rest are replayed.

use spanwise_batch::Batch;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const MAGIC: &[u8; 4] = b"SWQ1";
const HEADER: usize = 4 + 8 + 8;

/// The files of one exporter's persistent queue.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    next: AtomicU64,
}

/// What opening a store found.
#[derive(Debug, Default)]
pub struct Found {
    /// Batches to send again, oldest first, with their sequence numbers.
    pub batches: Vec<(u64, Batch)>,
    /// Files set aside in `corrupt/`, with why.
    pub corrupt: Vec<(PathBuf, String)>,
}

impl Store {
    /// Open (creating it, private to this user) the queue directory `dir`: delete unfinished
    /// writes, set aside corrupt files, and return the batches to send again.
    pub fn open(dir: &Path) -> Result<(Self, Found), String> {
        create_private(dir)
            .map_err(|e| format!("cannot create the queue directory {}: {e}", dir.display()))?;
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read the queue directory {}: {e}", dir.display()))?;
        let mut numbered = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(stem) = name.strip_suffix(".tmp") {
                if stem.parse::<u64>().is_ok() {
                    let _ = std::fs::remove_file(&path);
                }
            } else if let Some(seq) = name.strip_suffix(".batch").and_then(|s| s.parse().ok()) {
                numbered.push((seq, path));
            }
        }
        numbered.sort();
        let mut found = Found::default();
        for (seq, path) in &numbered {
            match read(path) {
                Ok(request) => found.batches.push((*seq, request)),
                Err(reason) => {
                    let aside = dir.join("corrupt");
                    let moved = std::fs::create_dir_all(&aside).and_then(|()| {
                        std::fs::rename(path, aside.join(path.file_name().unwrap_or_default()))
                    });
                    if let Err(e) = moved {
                        tracing::error!(file = %path.display(), "cannot move a corrupt queue file aside: {e}");
                    }
                    found
                        .corrupt
                        .push((aside.join(path.file_name().unwrap_or_default()), reason));
                }
            }
        }
        let next = numbered.last().map_or(0, |(seq, _)| seq + 1);
        Ok((
            Self {
                dir: dir.to_owned(),
                next: AtomicU64::new(next),
            },
            found,
        ))
    }

    /// Write `request` durably; its sequence number. Blocking (it syncs the file).
    pub fn put(&self, request: &Batch) -> std::io::Result<u64> {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let payload = request.to_bytes();
        let tmp = self.dir.join(format!("{seq:020}.tmp"));
        let mut file = std::fs::File::create(&tmp)?;
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        header.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&payload).to_le_bytes());
        file.write_all(&header)?;
        file.write_all(&payload)?;
        file.sync_data()?;
        drop(file);
        std::fs::rename(&tmp, self.path(seq))?;
        Ok(seq)
    }

    /// Forget batch `seq` (delivered or given up).
    pub fn remove(&self, seq: u64) {
        if let Err(e) = std::fs::remove_file(self.path(seq))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %self.path(seq).display(), "cannot remove a delivered batch: {e}");
        }
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}.batch"))
    }
}

fn read(path: &Path) -> Result<Batch, String> {
    let bytes =
        bytes::Bytes::from(std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?);
    if bytes.len() < HEADER || &bytes[..4] != MAGIC {
        return Err("not a spanwise queue file".into());
    }
    let length = u64::from_le_bytes(bytes[4..12].try_into().unwrap_or_default());
    let hash = u64::from_le_bytes(bytes[12..20].try_into().unwrap_or_default());
    let payload = &bytes[HEADER..];
    if payload.len() as u64 != length {
        return Err(format!(
            "{} payload bytes where the header says {length}",
            payload.len()
        ));
    }
    if xxhash_rust::xxh3::xxh3_64(payload) != hash {
        return Err("the checksum does not match".into());
    }
    Batch::from_encoded(bytes.slice(HEADER..)).map_err(|e| format!("not an OTLP request: {e}"))
}

fn create_private(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn request(name: &str) -> Batch {
        Batch::from_resource_spans(vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: name.into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }])
    }

    #[test]
    fn batches_left_are_found_again_in_order_and_removed_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let (store, found) = Store::open(dir.path()).unwrap();
        assert!(found.batches.is_empty());
        let a = store.put(&request("a")).unwrap();
        let b = store.put(&request("b")).unwrap();
        let c = store.put(&request("c")).unwrap();
        store.remove(b);
        std::fs::write(dir.path().join("00000000000000000099.tmp"), b"half").unwrap();
        drop(store);
        let (store, found) = Store::open(dir.path()).unwrap();
        let names: Vec<(u64, String)> = found
            .batches
            .iter()
            .map(|(seq, r)| {
                (
                    *seq,
                    r.resource_spans()[0].scope_spans[0].spans[0].name.clone(),
                )
            })
            .collect();
        assert_eq!(names, [(a, "a".to_owned()), (c, "c".to_owned())]);
        assert!(!dir.path().join("00000000000000000099.tmp").exists());
        // New batches number after the old ones.
        assert!(store.put(&request("d")).unwrap() > c);
    }

    #[test]
    fn a_corrupt_file_is_set_aside_and_the_rest_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path()).unwrap();
        let good = store.put(&request("good")).unwrap();
        let bad = store.put(&request("bad")).unwrap();
        let path = store.path(bad);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        std::fs::write(dir.path().join("00000000000000000007.batch"), b"junk").unwrap();
        let (_, found) = Store::open(dir.path()).unwrap();
        assert_eq!(found.batches.len(), 1);
        assert_eq!(found.batches[0].0, good);
        let reasons: Vec<&str> = found.corrupt.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            reasons,
            ["the checksum does not match", "not a spanwise queue file"]
        );
        assert!(
            dir.path()
                .join("corrupt")
                .join(path.file_name().unwrap())
                .exists()
        );
        assert!(!path.exists());
    }
}
