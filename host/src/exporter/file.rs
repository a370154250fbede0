//! The `file` exporter: one OTLP-JSON `ExportTraceServiceRequest` per line, appended and flushed
//! per batch, as the collector's file exporter writes.

use super::{BoxFuture, ExportError, Exporter};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
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

    fn write(&self, request: &ExportTraceServiceRequest) -> std::io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        serde_json::to_writer(&mut *file, request)?;
        file.write_all(b"\n")?;
        file.flush()
    }
}

impl Exporter for FileExporter {
    fn id(&self) -> &str {
        &self.id
    }

    fn export<'a>(
        &'a self,
        request: &'a ExportTraceServiceRequest,
    ) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            self.write(request).map_err(|e| ExportError::Destination {
                exporter: self.id.clone(),
                reason: format!("cannot write {}: {e}", self.path.display()),
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
