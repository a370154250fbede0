//! Where a plugin's words go: the `log` import and the guest's stdout and stderr, all into the
//! host log, tagged with the processor's name and capped so that a chatty plugin cannot flood it.

use spanwise_abi::LogLevel;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The longest line kept; the rest is cut with a marker.
const MAX_LINE: usize = 4096;
/// Lines per window before the rest of the window is suppressed.
const LINES_PER_WINDOW: u64 = 200;
const WINDOW: Duration = Duration::from_secs(1);

/// The capped log of one processor, shared by its instances.
#[derive(Debug, Clone)]
pub struct PluginLog {
    inner: Arc<LogInner>,
}

#[derive(Debug)]
struct LogInner {
    name: String,
    window: Mutex<(Instant, u64)>,
    suppressed: AtomicU64,
}

impl PluginLog {
    /// The log of processor `name`.
    pub fn new(name: &str) -> Self {
        Self {
            inner: Arc::new(LogInner {
                name: name.to_owned(),
                window: Mutex::new((Instant::now(), 0)),
                suppressed: AtomicU64::new(0),
            }),
        }
    }

    /// How many lines were suppressed by the rate cap so far.
    pub fn suppressed(&self) -> u64 {
        self.inner.suppressed.load(Ordering::Relaxed)
    }

    /// Write one line at `level`, unless the rate cap is reached.
    pub fn line(&self, level: LogLevel, message: &str) {
        {
            let mut window = self.inner.window.lock().unwrap_or_else(|e| e.into_inner());
            if window.0.elapsed() > WINDOW {
                *window = (Instant::now(), 0);
            }
            window.1 += 1;
            if window.1 > LINES_PER_WINDOW {
                self.inner.suppressed.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut end = message.len().min(MAX_LINE);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let cut = if end < message.len() { " [cut]" } else { "" };
        let text = &message[..end];
        let processor = self.inner.name.as_str();
        match level {
            LogLevel::Trace => tracing::trace!(target: "plugin", processor, "{text}{cut}"),
            LogLevel::Debug => tracing::debug!(target: "plugin", processor, "{text}{cut}"),
            LogLevel::Info => tracing::info!(target: "plugin", processor, "{text}{cut}"),
            LogLevel::Warn => tracing::warn!(target: "plugin", processor, "{text}{cut}"),
            LogLevel::Error => tracing::error!(target: "plugin", processor, "{text}{cut}"),
        }
    }
}

/// A guest's stdout or stderr: split into lines that go to the [`PluginLog`]. Output beyond
/// [`CappedOutput::CAP`] bytes per instance is accepted and thrown away, so that a guest's
/// `println!` never fails (which would panic it).
#[derive(Debug, Clone)]
pub struct CappedOutput {
    log: PluginLog,
    state: Arc<Mutex<OutputState>>,
}

#[derive(Debug, Default)]
struct OutputState {
    pending: Vec<u8>,
    written: usize,
}

impl CappedOutput {
    /// Bytes of output kept per instance.
    pub const CAP: usize = 1 << 20;

    /// Output into `log`.
    pub fn new(log: PluginLog) -> Self {
        Self {
            log,
            state: Arc::default(),
        }
    }

    fn write(&self, buf: &[u8]) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let room = Self::CAP.saturating_sub(state.written);
        let take = buf.len().min(room);
        state.written += take;
        state.pending.extend_from_slice(&buf[..take]);
        while let Some(newline) = state.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = state.pending.drain(..=newline).collect();
            self.log.line(
                LogLevel::Info,
                String::from_utf8_lossy(&line[..line.len() - 1]).as_ref(),
            );
        }
        if state.pending.len() > MAX_LINE {
            let line = std::mem::take(&mut state.pending);
            self.log
                .line(LogLevel::Info, String::from_utf8_lossy(&line).as_ref());
        }
    }
}

impl wasmtime_wasi::cli::IsTerminal for CappedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for CappedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for CappedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
