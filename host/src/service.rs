//! `spanwise run`: a config turned into listening receivers, running pipelines and a graceful
//! shutdown that flushes what the batchers hold.

use crate::config::{Config, ConfigError, ReceiverConfig};
use crate::pipeline::{Pipeline, build_pipelines};
use crate::receiver::{Consumer, grpc, http};
use crate::runtime::{LoadError, Runtime};
use std::net::SocketAddr;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The config (or a plugin it names) is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The WebAssembly engine could not be created.
    #[error(transparent)]
    Runtime(#[from] LoadError),
    /// A receiver could not listen.
    #[error(
        "{file}: receivers.{receiver}.protocols.{protocol}.endpoint: cannot listen on {endpoint}: {source}"
    )]
    Bind {
        /// The config file.
        file: String,
        /// The receiver id.
        receiver: String,
        /// `grpc` or `http`.
        protocol: &'static str,
        /// The configured endpoint.
        endpoint: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A listening receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The receiver id.
    pub receiver: String,
    /// `grpc` or `http`.
    pub protocol: &'static str,
    /// The address actually bound (useful with port 0).
    pub address: SocketAddr,
}

/// A running service.
pub struct Running {
    pipelines: Vec<Pipeline>,
    servers: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    listeners: Vec<Listener>,
    _runtime: Runtime,
}

impl Running {
    /// The addresses the receivers listen on.
    pub fn listeners(&self) -> &[Listener] {
        &self.listeners
    }

    /// The running pipelines.
    pub fn pipelines(&self) -> &[Pipeline] {
        &self.pipelines
    }

    /// Stop taking requests, let requests in flight finish, then flush every pipeline.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for server in self.servers {
            let _ = server.await;
        }
        for pipeline in &self.pipelines {
            pipeline.shutdown().await;
        }
    }
}

/// Start everything `config` describes. Must run inside a multi-threaded Tokio runtime.
pub async fn start(config: &Config) -> Result<Running, ServiceError> {
    let runtime = Runtime::new(config.runtime.to_settings())?;
    let pipelines = build_pipelines(config, &runtime)?;
    let (stop, stopped) = watch::channel(false);
    let mut servers = Vec::new();
    let mut listeners = Vec::new();
    let file = config.file.display().to_string();

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
        let ReceiverConfig::Otlp(otlp) = receiver;
        let bind = |protocol: &'static str, endpoint: &str| {
            let address: SocketAddr = endpoint.parse().map_err(|e| ServiceError::Bind {
                file: file.clone(),
                receiver: id.clone(),
                protocol,
                endpoint: endpoint.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("not an address: {e}"),
                ),
            })?;
            let listener = std::net::TcpListener::bind(address)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .and_then(tokio::net::TcpListener::from_std)
                .map_err(|source| ServiceError::Bind {
                    file: file.clone(),
                    receiver: id.clone(),
                    protocol,
                    endpoint: endpoint.to_owned(),
                    source,
                })?;
            let address = listener.local_addr().unwrap_or(address);
            Ok::<_, ServiceError>((listener, address))
        };
        if let Some(grpc_config) = &otlp.protocols.grpc {
            let (listener, address) = bind("grpc", &grpc_config.endpoint)?;
            let service =
                grpc::TraceService::new(consumer.clone(), grpc_config.max_recv_msg_size_mib << 20);
            let mut stopped = stopped.clone();
            servers.push(tokio::spawn(async move {
                let result = tonic::transport::Server::builder()
                    .add_service(service)
                    .serve_with_incoming_shutdown(
                        tonic::transport::server::TcpIncoming::from(listener),
                        async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        },
                    )
                    .await;
                if let Err(e) = result {
                    tracing::error!("OTLP/gRPC receiver stopped: {e}");
                }
            }));
            tracing::info!(receiver = %id, %address, "OTLP/gRPC receiver listening");
            listeners.push(Listener {
                receiver: id.clone(),
                protocol: "grpc",
                address,
            });
        }
        if let Some(http_config) = &otlp.protocols.http {
            let (listener, address) = bind("http", &http_config.endpoint)?;
            let router = http::router(
                consumer.clone(),
                &http_config.traces_url_path,
                http_config.max_request_body_size,
            );
            let mut stopped = stopped.clone();
            servers.push(tokio::spawn(async move {
                let result = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    })
                    .await;
                if let Err(e) = result {
                    tracing::error!("OTLP/HTTP receiver stopped: {e}");
                }
            }));
            tracing::info!(receiver = %id, %address, path = %http_config.traces_url_path, "OTLP/HTTP receiver listening");
            listeners.push(Listener {
                receiver: id.clone(),
                protocol: "http",
                address,
            });
        }
    }
    Ok(Running {
        pipelines,
        servers,
        stop,
        listeners,
        _runtime: runtime,
    })
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
