//! `spanwise gen`: a load generator that sends one of the [`spanwise_workload`] workloads to an
//! OTLP receiver over gRPC or HTTP, at a set rate or as fast as requests are acknowledged, for a
//! duration or a number of spans, and reports what was sent, acknowledged and refused.
//!
//! Requests are generated and encoded before the clock starts (`distinct` of them, sent in
//! turn), so the generator spends its time sending, not building spans.

mod grpc;
mod http;

use bytes::Bytes;
use prost::Message;
use spanwise_workload::{Generator, Workload};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The wire protocol to send with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC (`Export` on HTTP/2).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (`POST /v1/traces`).
    Http,
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "grpc" => Ok(Protocol::Grpc),
            "http" | "http/protobuf" => Ok(Protocol::Http),
            _ => Err(format!("unknown protocol {s:?} (known: grpc, http)")),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Grpc => "OTLP/gRPC",
            Protocol::Http => "OTLP/HTTP",
        })
    }
}

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this long.
    After(Duration),
    /// After this many spans have been sent (rounded up to whole requests).
    Spans(u64),
}

/// What to send, where, and how fast.
#[derive(Debug, Clone)]
pub struct Options {
    /// `host:port` or a URL; gRPC sends to it, HTTP posts to its `/v1/traces` unless it names a
    /// path.
    pub endpoint: String,
    /// gRPC or HTTP.
    pub protocol: Protocol,
    /// Which workload.
    pub workload: Workload,
    /// The workload's seed.
    pub seed: u64,
    /// Spans per request.
    pub batch: usize,
    /// How many requests are generated and sent in turn.
    pub distinct: usize,
    /// Spans per second to aim at; `None` sends as fast as requests are acknowledged.
    pub rate: Option<u64>,
    /// When to stop.
    pub stop: Stop,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// How long one request may take.
    pub timeout: Duration,
}

/// What happened, as counted so far or at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Requests sent.
    pub requests: u64,
    /// Spans in the requests sent.
    pub sent: u64,
    /// Spans the receiver took (sent, less refused and failed).
    pub acknowledged: u64,
    /// Spans the receiver said it rejected (OTLP partial success).
    pub refused: u64,
    /// Spans of requests that failed outright (an error status, no answer, no connection).
    pub failed: u64,
    /// How many requests failed outright.
    pub failed_requests: u64,
    /// How long sending took.
    pub elapsed: Duration,
}

impl Report {
    /// Acknowledged spans per second.
    pub fn rate(&self) -> f64 {
        self.acknowledged as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spans sent in {} requests over {:.1} s; {} acknowledged, {} refused, {} failed ({} requests); {:.0} spans/s acknowledged",
            self.sent,
            self.requests,
            self.elapsed.as_secs_f64(),
            self.acknowledged,
            self.refused,
            self.failed,
            self.failed_requests,
            self.rate()
        )
    }
}

/// Why the generator could not run.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// A setting is out of range.
    #[error("{0}")]
    Options(String),
    /// The endpoint cannot be used.
    #[error("endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// As given.
        endpoint: String,
        /// Why.
        reason: String,
    },
}

/// Counters shared by the senders.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    sent: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    failed_requests: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Tally {
    fn report(&self, elapsed: Duration) -> Report {
        let sent = self.sent.load(Ordering::Relaxed);
        let refused = self.refused.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        Report {
            requests: self.requests.load(Ordering::Relaxed),
            sent,
            acknowledged: sent.saturating_sub(refused + failed),
            refused,
            failed,
            failed_requests: self.failed_requests.load(Ordering::Relaxed),
            elapsed,
        }
    }
}

/// The outcome of one request: spans the receiver rejected, or why it failed.
type Sent = Result<u64, String>;

/// Something that sends an encoded request.
enum Sender {
    Grpc(grpc::GrpcSender),
    Http(Box<http::HttpSender>),
}

impl Sender {
    async fn send(&self, body: Bytes) -> Sent {
        match self {
            Sender::Grpc(s) => s.send(body).await,
            Sender::Http(s) => s.send(body).await,
        }
    }
}

/// The requests to send, generated and encoded from the workload.
pub fn requests(options: &Options) -> Vec<Bytes> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(spanwise_workload::DEFAULT_START_UNIX_NANO, |d| {
            d.as_nanos() as u64
        });
    let mut generator = Generator::new(options.workload, options.seed).starting_at(now);
    (0..options.distinct)
        .map(|_| Bytes::from(generator.request(options.batch).encode_to_vec()))
        .collect()
}

fn check(options: &Options) -> Result<(), GenError> {
    let bad = |m: &str| Err(GenError::Options(m.into()));
    if options.batch == 0 {
        return bad("--batch must be at least 1");
    }
    if options.distinct == 0 {
        return bad("--distinct must be at least 1");
    }
    if options.concurrency == 0 {
        return bad("--concurrency must be at least 1");
    }
    if options.rate == Some(0) {
        return bad("--rate must be more than 0 (leave it out to send as fast as acknowledged)");
    }
    match options.stop {
        Stop::After(d) if d.is_zero() => bad("--duration must be more than 0"),
        Stop::Spans(0) => bad("--spans must be at least 1"),
        _ => Ok(()),
    }
}

/// Send load as `options` say. `progress` is called about once a second with the counts so
/// far. Returns the final counts; failed requests are counted, not fatal.
pub async fn run(options: &Options, mut progress: impl FnMut(&Report)) -> Result<Report, GenError> {
    check(options)?;
    let sender = Arc::new(match options.protocol {
        Protocol::Grpc => Sender::Grpc(grpc::GrpcSender::new(&options.endpoint, options.timeout)?),
        Protocol::Http => Sender::Http(Box::new(http::HttpSender::new(
            &options.endpoint,
            options.timeout,
        )?)),
    });
    let bodies: Arc<Vec<Bytes>> = Arc::new(requests(options));
    let batch = options.batch as u64;
    let limit = match options.stop {
        Stop::Spans(spans) => Some(spans.div_ceil(batch)),
        Stop::After(_) => None,
    };
    let mut deadline = match options.stop {
        Stop::After(duration) => Some(duration),
        Stop::Spans(_) => None,
    };
    let interval = options
        .rate
        .map(|rate| Duration::from_secs_f64(batch as f64 / rate as f64));

    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..options.concurrency {
        let (sender, bodies, tally, next, stop) = (
            sender.clone(),
            bodies.clone(),
            tally.clone(),
            next.clone(),
            stop.clone(),
        );
        workers.spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if limit.is_some_and(|limit| k >= limit) || stop.load(Ordering::Relaxed) {
                    return;
                }
                if let Some(interval) = interval {
                    tokio::time::sleep_until((started + interval * k as u32).into()).await;
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                }
                let body = bodies[k as usize % bodies.len()].clone();
                tally.requests.fetch_add(1, Ordering::Relaxed);
                tally.sent.fetch_add(batch, Ordering::Relaxed);
                match sender.send(body).await {
                    Ok(rejected) => {
                        tally
                            .refused
                            .fetch_add(rejected.min(batch), Ordering::Relaxed);
                    }
                    Err(reason) => {
                        tally.failed.fetch_add(batch, Ordering::Relaxed);
                        tally.failed_requests.fetch_add(1, Ordering::Relaxed);
                        tally
                            .first_error
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(reason);
                    }
                }
            }
        });
    }

    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    loop {
        let until_deadline = deadline.map(|d| d.saturating_sub(started.elapsed()));
        tokio::select! {
            joined = workers.join_next() => match joined {
                Some(result) => result.expect("a sender never panics"),
                None => break,
            },
            _ = ticker.tick() => progress(&tally.report(started.elapsed())),
            () = async {
                match until_deadline {
                    Some(left) => tokio::time::sleep(left).await,
                    None => std::future::pending().await,
                }
            } => {
                // In-flight requests finish (or time out); nothing new starts.
                stop.store(true, Ordering::Relaxed);
                deadline = None;
            }
        }
    }
    let report = tally.report(started.elapsed());
    if let Some(reason) = tally
        .first_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        tracing::warn!(
            failed_requests = report.failed_requests,
            "requests failed; the first: {reason}"
        );
    }
    Ok(report)
}

/// `endpoint` as a URI with a scheme (`http://` when it has none).
fn with_scheme(endpoint: &str) -> String {
    if endpoint.contains("://") {
        endpoint.to_owned()
    } else {
        format!("http://{endpoint}")
    }
}

#[cfg(test)]
mod tests;
