//! The `file` exporter: one OTLP-JSON `Batch` per line, appended and flushed
//! per batch, as the collector's file exporter writes. Like protobuf's JSON mapping, fields at
//! their default value (empty strings and lists, zeros, absent messages) are left out, except
//! inside attribute values, where an empty string or a `false` is the value itself. The line is
//! written straight from the spans (`json.rs`).

use super::{BoxFuture, ExportError, Exporter};
use spanwise_batch::Batch;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Appends OTLP-JSON lines to a file.
pub struct FileExporter {
    id: String,
    path: PathBuf,
    file: Mutex<BufWriter<File>>,
}

impl FileExporter {
    /// Open (or create) `path` for appending.
    pub fn new(id: &str, path: &Path) -> Result<Self, String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open {} for writing: {e}", path.display()))?;
        Ok(Self {
            id: id.to_owned(),
            path: path.to_owned(),
            file: Mutex::new(BufWriter::new(file)),
        })
    }

    fn write(&self, request: &Batch) -> std::io::Result<()> {
        let mut line = Vec::new();
        super::json::write_request(request.decoded().resource_spans(), &mut line);
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&line)?;
        file.flush()
    }
}

impl Exporter for FileExporter {
    fn id(&self) -> &str {
        &self.id
    }

    fn export<'a>(&'a self, request: &'a Batch) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            self.write(request).map_err(|e| ExportError::Destination {
                exporter: self.id.clone(),
                reason: format!("cannot write {}: {e}", self.path.display()),
                retry: super::Retry::Never,
            })
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = file.flush().and_then(|()| file.get_ref().sync_all()) {
                tracing::error!(exporter = %self.id, "cannot flush {}: {e}", self.path.display());
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spanwise_batch::{BatchBuilder, kv};

    #[test]
    fn writes_compact_otlp_json_that_reads_back_the_same() {
        let request = BatchBuilder::new()
            .resource(vec![kv("service.name", "svc")])
            .span(
                "GET",
                vec![kv("empty", ""), kv("no", false), kv("zero", 0i64)],
            )
            .build();
        let dir = std::env::temp_dir().join(format!("spanwise-file-{}", std::process::id()));
        let path = dir.join("out.jsonl");
        let exporter = FileExporter::new("file", &path).unwrap();
        exporter.write(&request).unwrap();
        let line = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            !line.contains("null") && !line.contains("traceState"),
            "{line}"
        );
        assert!(
            line.contains(r#"{"key":"empty","value":{"stringValue":""}}"#),
            "{line}"
        );
        assert!(
            line.contains(r#"{"key":"no","value":{"boolValue":false}}"#),
            "{line}"
        );
        let back: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest =
            serde_json::from_str(line.trim()).unwrap();
        assert_eq!(back, request.to_request());
    }
}
