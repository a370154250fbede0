//! `spanwise run` and `spanwise validate`: a config turned into running pipelines
//! ([`prepare`]: everything checked and built short of listening), then into listening receivers
//! ([`Prepared::serve`]), and a graceful shutdown that flushes what the batchers hold.

use crate::config::endpoint::Endpoint;
use crate::config::{
    AuthConfig, Config, ConfigError, ExtensionConfig, ReceiverConfig, ServerTlsConfig,
};
use crate::pipeline::{Live, Pipeline, build_pipelines};
use crate::receiver::{BearerAuth, Consumer, grpc, http, serve};
use crate::runtime::{LoadError, Runtime};
use crate::tls::TlsIncoming;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The config (or a plugin it names) is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A receiver could not listen.
    #[error(transparent)]
    Bind(Box<BindError>),
}

/// A receiver (or the metrics or health endpoint) that could not listen.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: cannot listen on {endpoint} ({address}): {reason}")]
pub struct BindError {
    /// The config file.
    pub file: String,
    /// The key of the endpoint in the config.
    pub key: String,
    /// The receiver id.
    pub receiver: String,
    /// `grpc` or `http`.
    pub protocol: &'static str,
    /// The configured endpoint.
    pub endpoint: String,
    /// The address it resolved to.
    pub address: SocketAddr,
    /// Why it could not listen (the operating system's words).
    pub reason: String,
}

/// A listening receiver, or the metrics or health endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The receiver id (`telemetry` for `/metrics`, the extension id for health).
    pub receiver: String,
    /// `grpc`, `http`, `metrics` or `health`.
    pub protocol: &'static str,
    /// The address actually bound (useful with port 0).
    pub address: SocketAddr,
}

/// One protocol of one receiver (or the metrics or health endpoint), ready to listen.
struct Planned {
    receiver: String,
    protocol: &'static str,
    key: String,
    endpoint: String,
    address: SocketAddr,
    serve: Serve,
}

/// What a planned listener serves.
enum Serve {
    Grpc {
        consumer: Consumer,
        max_message: usize,
        security: Security,
    },
    Http {
        consumer: Consumer,
        path: String,
        max_body: usize,
        security: Security,
        timeouts: serve::Timeouts,
    },
    Metrics,
    Health {
        path: String,
        pipeline_check: crate::config::PipelineCheckConfig,
    },
}

/// TLS and the token check of one receiver protocol.
#[derive(Clone, Default)]
struct Security {
    tls: Option<Arc<rustls::ServerConfig>>,
    auth: Option<BearerAuth>,
}

/// A config checked and built as far as it goes without listening: the runtime, every plugin
/// loaded and configured, every pipeline and exporter built, every endpoint resolved. What
/// `spanwise validate` checks is exactly this; `spanwise run` then listens.
pub struct Prepared {
    file: String,
    config: Config,
    runtime: Arc<Runtime>,
    pipelines: Vec<Pipeline>,
    consumers: Vec<(String, Consumer)>,
    planned: Vec<Planned>,
}

impl Prepared {
    /// The pipelines, built and started (batchers run; nothing listens yet).
    pub fn pipelines(&self) -> &[Pipeline] {
        &self.pipelines
    }

    /// Where each receiver protocol will listen: `(receiver, protocol, address)`.
    pub fn addresses(&self) -> Vec<(&str, &'static str, SocketAddr)> {
        self.planned
            .iter()
            .map(|p| (p.receiver.as_str(), p.protocol, p.address))
            .collect()
    }

    /// Stop without serving: flush the pipelines.
    pub async fn shutdown(self) {
        for pipeline in &self.pipelines {
            pipeline.shutdown().await;
        }
    }

    /// Listen on every endpoint and serve until [`Running::shutdown`].
    pub fn serve(self) -> Result<Running, ServiceError> {
        let (stop, stopped) = watch::channel(false);
        // The metrics and health endpoints stop last: they answer while the pipelines drain.
        let (stop_telemetry, telemetry_stopped) = watch::channel(false);
        let mut telemetry = Vec::new();
        let mut live = Live::new(self.pipelines);
        live.receivers = self
            .consumers
            .iter()
            .map(|(id, consumer)| (id.clone(), consumer.stats.clone()))
            .collect();
        let health = crate::metrics::Health::default();
        let mut servers = Vec::new();
        let mut listeners = Vec::new();
        for planned in self.planned {
            let listener = std::net::TcpListener::bind(planned.address)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .and_then(tokio::net::TcpListener::from_std)
                .map_err(|e| {
                    ServiceError::Bind(Box::new(BindError {
                        file: self.file.clone(),
                        key: planned.key.clone(),
                        receiver: planned.receiver.clone(),
                        protocol: planned.protocol,
                        endpoint: planned.endpoint.clone(),
                        address: planned.address,
                        reason: e.to_string(),
                    }))
                })?;
            let address = listener.local_addr().unwrap_or(planned.address);
            let mut stopped = stopped.clone();
            let until_stopped = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            match planned.serve {
                Serve::Grpc {
                    consumer,
                    max_message,
                    security,
                } => {
                    let service = grpc::TraceService::new(consumer, max_message, security.auth);
                    let server = tonic::transport::Server::builder().add_service(service);
                    let tls = security.tls.is_some();
                    servers.push(tokio::spawn(async move {
                        let result = match security.tls {
                            Some(config) => {
                                let incoming = TlsIncoming::new(listener, config).into_stream();
                                server
                                    .serve_with_incoming_shutdown(incoming, until_stopped)
                                    .await
                            }
                            None => {
                                server
                                    .serve_with_incoming_shutdown(
                                        tonic::transport::server::TcpIncoming::from(listener),
                                        until_stopped,
                                    )
                                    .await
                            }
                        };
                        if let Err(e) = result {
                            tracing::error!("OTLP/gRPC receiver stopped: {e}");
                        }
                    }));
                    tracing::info!(receiver = %planned.receiver, %address, tls, "OTLP/gRPC receiver listening");
                }
                Serve::Metrics | Serve::Health { .. } => {
                    let (router, what, path) = match planned.serve {
                        Serve::Health {
                            path,
                            pipeline_check,
                        } => (
                            crate::metrics::health_router(
                                &path,
                                health.clone(),
                                pipeline_check.enabled.then(|| {
                                    Arc::new(crate::metrics::ExporterCheck::new(
                                        live.clone(),
                                        pipeline_check.interval,
                                        pipeline_check.exporter_failure_threshold,
                                    ))
                                }),
                            ),
                            "health check",
                            path,
                        ),
                        _ => (
                            crate::metrics::metrics_router(live.clone()),
                            "metrics",
                            "/metrics".to_owned(),
                        ),
                    };
                    let mut stopped = telemetry_stopped.clone();
                    telemetry.push(tokio::spawn(serve::serve(
                        listener,
                        router,
                        serve::Timeouts::default(),
                        async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        },
                    )));
                    tracing::info!(%address, %path, "{what} endpoint listening");
                }
                Serve::Http {
                    consumer,
                    path,
                    max_body,
                    security,
                    timeouts,
                } => {
                    let router = http::router(consumer, &path, max_body, security.auth);
                    let tls = security.tls.is_some();
                    servers.push(tokio::spawn(async move {
                        match security.tls {
                            Some(config) => {
                                let incoming = TlsIncoming::new(listener, config);
                                serve::serve(incoming, router, timeouts, until_stopped).await;
                            }
                            None => serve::serve(listener, router, timeouts, until_stopped).await,
                        }
                    }));
                    tracing::info!(receiver = %planned.receiver, %address, %path, tls, "OTLP/HTTP receiver listening");
                }
            }
            listeners.push(Listener {
                receiver: planned.receiver,
                protocol: planned.protocol,
                address,
            });
        }
        health.set(true);
        Ok(Running {
            live,
            consumers: self.consumers,
            state: tokio::sync::Mutex::new(crate::reload::State::new(self.config)),
            servers,
            stop,
            listeners,
            runtime: self.runtime,
            health,
            telemetry,
            stop_telemetry,
        })
    }
}

/// A running service. Dropping it stops the receivers (as [`Running::shutdown`] does, without
/// waiting) and then the pipelines.
pub struct Running {
    live: Live,
    consumers: Vec<(String, Consumer)>,
    state: tokio::sync::Mutex<crate::reload::State>,
    servers: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    listeners: Vec<Listener>,
    runtime: Arc<Runtime>,
    health: crate::metrics::Health,
    telemetry: Vec<JoinHandle<()>>,
    stop_telemetry: watch::Sender<bool>,
}

impl Running {
    /// The addresses the receivers listen on.
    pub fn listeners(&self) -> &[Listener] {
        &self.listeners
    }

    /// The pipelines running now (a reload replaces them).
    pub fn pipelines(&self) -> Arc<Vec<Pipeline>> {
        self.live.get()
    }

    /// The running pipelines and the reloads' counters, as `/metrics` reads them.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// Reload to `config`, the config file read again, while everything keeps running: see
    /// [`crate::reload`]. A reload that fails changes nothing. Reloads run one at a time.
    pub async fn reload(&self, config: &Config) -> Result<crate::reload::Reloaded, ConfigError> {
        let mut state = self.state.lock().await;
        let result = crate::reload::reload(
            &mut state,
            config,
            &self.live,
            &self.consumers,
            self.runtime.clone(),
        )
        .await;
        match &result {
            Ok(_) => self.live.reloads.add("reloads", 1),
            Err(_) => self.live.reloads.add("reloads_failed", 1),
        }
        result
    }

    /// The plugin files the running config names (for noticing that one changed).
    pub async fn plugin_files(&self) -> Vec<std::path::PathBuf> {
        crate::reload::plugin_files(self.state.lock().await.config())
    }

    /// Stop taking requests (the health check answers 503 from now on), let requests in flight
    /// finish, flush every pipeline, then stop the metrics and health endpoints.
    pub async fn shutdown(self) {
        let _ = self.shutdown_within(None).await;
    }

    /// [`Running::shutdown`], giving up on the receivers and pipelines after `timeout`: then
    /// what was still on its way is returned (and dropped with the process).
    pub async fn shutdown_within(self, timeout: Option<Duration>) -> Result<(), Undelivered> {
        self.health.set(false);
        let _ = self.stop.send(true);
        let drained = std::sync::Mutex::new(Vec::new());
        let pipelines = self.live.get();
        let drain = async {
            for server in self.servers {
                let _ = server.await;
            }
            for pipeline in pipelines.iter() {
                pipeline.shutdown().await;
                drained
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(pipeline.id().to_owned());
            }
        };
        let outcome = match timeout {
            Some(timeout) => tokio::time::timeout(timeout, drain)
                .await
                .map_err(|_| timeout),
            None => {
                drain.await;
                Ok(())
            }
        };
        let result = outcome.map_err(|timeout| {
            let drained = drained.into_inner().unwrap_or_else(|e| e.into_inner());
            Undelivered::of(&pipelines, &drained, timeout)
        });
        let _ = self.stop_telemetry.send(true);
        for server in self.telemetry {
            let _ = server.await;
        }
        result
    }
}

/// What a shutdown that ran out of time left undelivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the shutdown did not finish within shutdown_timeout ({timeout:?}): pipelines not drained: {}; spans accepted by sending queues and not delivered: {}",
    if pipelines.is_empty() { "none".to_owned() } else { pipelines.join(", ") },
    if queued.is_empty() { "none".to_owned() } else {
        queued.iter().map(|(id, n)| format!("{id} {n}")).collect::<Vec<_>>().join(", ")
    }
)]
pub struct Undelivered {
    /// The time allowed.
    pub timeout: Duration,
    /// Pipelines whose processors and exporters had not finished flushing.
    pub pipelines: Vec<String>,
    /// Per exporter with a sending queue, the spans it took and had neither delivered nor
    /// given up on.
    pub queued: Vec<(String, u64)>,
}

impl Undelivered {
    fn of(pipelines: &[Pipeline], drained: &[String], timeout: Duration) -> Self {
        let mut queued = Vec::new();
        for pipeline in pipelines {
            for exporter in pipeline.exporters() {
                let Some(stats) = exporter.stats() else {
                    continue;
                };
                let left = stats.get("spans_queued").saturating_sub(
                    stats.get("spans_sent") + stats.get("spans_lost") + stats.get("spans_kept"),
                );
                if left > 0 && !queued.iter().any(|(id, _)| id == exporter.id()) {
                    queued.push((exporter.id().to_owned(), left));
                }
            }
        }
        Self {
            timeout,
            pipelines: pipelines
                .iter()
                .map(|p| p.id().to_owned())
                .filter(|id| !drained.contains(id))
                .collect(),
            queued,
        }
    }
}

/// Check and build everything `config` describes short of listening; see [`Prepared`]. Must run
/// inside a Tokio runtime.
///
/// Loading runs on a blocking thread: compiling takes a while, and a plugin's `configure` may
/// write to its stdout, which WASI serves by blocking on a runtime of its own (not allowed on an
/// async worker thread).
pub async fn prepare(config: &Config) -> Result<Prepared, ServiceError> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || prepare_blocking(&config))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

fn prepare_blocking(config: &Config) -> Result<Prepared, ServiceError> {
    let file = config.file.display().to_string();
    let runtime = Runtime::new(config.runtime_settings()).map_err(|e| match e {
        LoadError::CacheDir(e) => config.error("runtime.cache_dir", e.to_string()),
        other => config.error("runtime", other.to_string()),
    })?;
    let pipelines = build_pipelines(config, &runtime)?;
    let mut planned = Vec::new();
    let mut consumers = Vec::new();
    for (id, receiver) in &config.receivers {
        let fed: Vec<Pipeline> = config
            .service
            .pipelines
            .iter()
            .filter(|(_, p)| p.receivers.contains(id))
            .filter_map(|(pid, _)| pipelines.iter().find(|p| p.id() == pid).cloned())
            .collect();
        if fed.is_empty() {
            tracing::warn!(receiver = %id, "receiver is in no pipeline; not starting it");
            continue;
        }
        let consumer = Consumer::new(fed);
        consumers.push((id.clone(), consumer.clone()));
        let ReceiverConfig::Otlp(otlp) = receiver;
        let resolve = |protocol: &'static str, endpoint: &str| {
            Endpoint::parse(endpoint)
                .and_then(|e| e.resolve())
                .map_err(|reason| {
                    config.error(
                        format!("receivers.{id}.protocols.{protocol}.endpoint"),
                        reason,
                    )
                })
        };
        let security = |protocol: &str,
                        tls: &Option<ServerTlsConfig>,
                        auth: &Option<AuthConfig>,
                        alpn: &[u8]|
         -> Result<Security, ConfigError> {
            let tls = match tls {
                Some(tls) => Some(crate::tls::server_config(tls, &[alpn]).map_err(|e| {
                    config.error(
                        format!("receivers.{id}.protocols.{protocol}.tls.{}", e.field),
                        e.reason,
                    )
                })?),
                None => None,
            };
            let auth =
                auth.as_ref()
                    .and_then(|auth| match config.extensions.get(&auth.authenticator) {
                        Some(ExtensionConfig::BearerTokenAuth(bearer)) => {
                            Some(BearerAuth::new(bearer))
                        }
                        _ => None,
                    });
            Ok(Security { tls, auth })
        };
        if let Some(grpc_config) = &otlp.protocols.grpc {
            planned.push(Planned {
                receiver: id.clone(),
                protocol: "grpc",
                key: format!("receivers.{id}.protocols.grpc.endpoint"),
                endpoint: grpc_config.endpoint.clone(),
                address: resolve("grpc", &grpc_config.endpoint)?,
                serve: Serve::Grpc {
                    consumer: consumer.clone(),
                    max_message: grpc_config.max_recv_msg_size_mib << 20,
                    security: security("grpc", &grpc_config.tls, &grpc_config.auth, b"h2")?,
                },
            });
        }
        if let Some(http_config) = &otlp.protocols.http {
            planned.push(Planned {
                receiver: id.clone(),
                protocol: "http",
                key: format!("receivers.{id}.protocols.http.endpoint"),
                endpoint: http_config.endpoint.clone(),
                address: resolve("http", &http_config.endpoint)?,
                serve: Serve::Http {
                    consumer: consumer.clone(),
                    path: http_config.traces_url_path.clone(),
                    max_body: http_config.max_request_body_size,
                    security: security("http", &http_config.tls, &http_config.auth, b"http/1.1")?,
                    timeouts: serve::Timeouts {
                        read_header: http_config.read_header_timeout,
                        write: http_config.write_timeout,
                    },
                },
            });
        }
    }
    let resolve = |key: &str, endpoint: &str| {
        Endpoint::parse(endpoint)
            .and_then(|e| e.resolve())
            .map_err(|reason| config.error(key, reason))
    };
    if let Some(address) = &config.service.telemetry.metrics.address {
        let key = "service.telemetry.metrics.address";
        planned.push(Planned {
            receiver: "telemetry".to_owned(),
            protocol: "metrics",
            key: key.to_owned(),
            endpoint: address.clone(),
            address: resolve(key, address)?,
            serve: Serve::Metrics,
        });
    }
    for id in &config.service.extensions {
        let Some(ExtensionConfig::HealthCheck(health)) = config.extensions.get(id) else {
            continue;
        };
        let key = format!("extensions.{id}.endpoint");
        planned.push(Planned {
            receiver: id.clone(),
            protocol: "health",
            address: resolve(&key, &health.endpoint)?,
            key,
            endpoint: health.endpoint.clone(),
            serve: Serve::Health {
                path: health.path.clone(),
                pipeline_check: health.check_collector_pipeline,
            },
        });
    }
    Ok(Prepared {
        file,
        config: config.clone(),
        runtime: Arc::new(runtime),
        pipelines,
        consumers,
        planned,
    })
}

/// Start everything `config` describes: [`prepare`], then listen. Must run inside a
/// multi-threaded Tokio runtime.
pub async fn start(config: &Config) -> Result<Running, ServiceError> {
    prepare(config).await?.serve()
}

/// What a signal asks of `spanwise run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT or SIGTERM: flush and exit.
    Stop,
    /// SIGHUP: read the config again and reload it.
    Reload,
}

/// The signals `spanwise run` listens for, registered once, so none is missed between two
/// waits.
pub struct Signals {
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Start listening. Must run inside a Tokio runtime.
    pub fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                hangup: signal(SignalKind::hangup()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            async fn on(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = on(&mut self.terminate) => Signal::Stop,
                () = on(&mut self.interrupt) => Signal::Stop,
                () = on(&mut self.hangup) => Signal::Reload,
            }
        }
        #[cfg(not(unix))]
        {
            wait_for_signal().await;
            Signal::Stop
        }
    }
}

impl Default for Signals {
    fn default() -> Self {
        Self::new()
    }
}

/// Wait for SIGINT or SIGTERM.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
