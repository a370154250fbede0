//! TLS with rustls: the server side of the receivers and the client side of the exporters,
//! configured with the collector's keys (see [`ServerTlsConfig`] and [`ClientTlsConfig`]).
//!
//! A TLS receiver accepts TCP connections on one task and runs each handshake on a task of its
//! own, bounded in number and in time, so that a client that opens a connection and says
//! nothing holds up no one else.

use crate::config::{ClientTlsConfig, ServerTlsConfig};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to finish the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many handshakes may run at once on one listener; further connections wait to start
/// theirs.
const MAX_HANDSHAKES: usize = 256;

/// A `tls` setting that cannot be used: the key under `tls` and why.
#[derive(Debug, thiserror::Error)]
#[error("tls.{field}: {reason}")]
pub struct TlsError {
    /// The key under `tls` (`cert_file`, `ca_file`...).
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

impl TlsError {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

fn read(field: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path)
        .map_err(|e| TlsError::new(field, format!("cannot read {}: {e}", path.display())))
}

fn certificates(
    field: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(field, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            TlsError::new(
                field,
                format!("{}: not PEM certificates: {e}", path.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(TlsError::new(
            field,
            format!("{} holds no PEM certificate", path.display()),
        ));
    }
    Ok(certs)
}

fn private_key(field: &'static str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(field, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        TlsError::new(
            field,
            format!("{} holds no usable PEM private key: {e}", path.display()),
        )
    })
}

fn roots(field: &'static str, path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(field, path)? {
        roots
            .add(cert)
            .map_err(|e| TlsError::new(field, format!("{}: {e}", path.display())))?;
    }
    Ok(roots)
}

/// The rustls server settings of a receiver, offering `alpn` (`h2` for gRPC, `http/1.1` for
/// OTLP/HTTP).
pub fn server_config(
    tls: &ServerTlsConfig,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = certificates("cert_file", &tls.cert_file)?;
    let key = private_key("key_file", &tls.key_file)?;
    let builder = rustls::ServerConfig::builder();
    let builder = match &tls.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots("client_ca_file", path)?))
                .build()
                .map_err(|e| TlsError::new("client_ca_file", e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::new("key_file", format!("cannot be used with cert_file: {e}")))?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The rustls client settings of an exporter.
pub fn client_config(tls: &ClientTlsConfig) -> Result<rustls::ClientConfig, TlsError> {
    let builder = rustls::ClientConfig::builder();
    let builder = if tls.insecure_skip_verify {
        let provider = builder.crypto_provider().clone();
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServerCertificate(provider)))
    } else {
        let roots = match &tls.ca_file {
            Some(path) => roots("ca_file", path)?,
            None => system_roots(),
        };
        builder.with_root_certificates(roots)
    };
    match (&tls.cert_file, &tls.key_file) {
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(
                certificates("cert_file", cert)?,
                private_key("key_file", key)?,
            )
            .map_err(|e| TlsError::new("key_file", format!("cannot be used with cert_file: {e}"))),
        (Some(_), None) => Err(TlsError::new(
            "key_file",
            "cert_file is set, so key_file must be",
        )),
        (None, Some(_)) => Err(TlsError::new(
            "cert_file",
            "key_file is set, so cert_file must be",
        )),
    }
}

/// The operating system's trusted CAs; those it cannot parse are left out (and logged).
fn system_roots() -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::warn!("reading the system's CA certificates: {error}");
    }
    let mut roots = RootCertStore::empty();
    let (_, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 {
        tracing::warn!("{ignored} system CA certificates could not be parsed and are not trusted");
    }
    roots
}

/// A connector for an exporter's HTTP client: `https://` URIs get TLS with `tls`, `http://`
/// ones plain TCP. `h2` offers HTTP/2 only (gRPC); otherwise HTTP/1.1.
pub fn connector(
    tls: Option<&ClientTlsConfig>,
    h2: bool,
) -> Result<HttpsConnector<HttpConnector>, TlsError> {
    let config = match tls {
        Some(tls) => client_config(tls)?,
        // Plain text: the TLS settings are never used.
        None => rustls::ClientConfig::builder()
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth(),
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let server_name = match tls.and_then(|t| t.server_name_override.as_deref()) {
        Some(name) => Some(
            ServerName::try_from(name.to_owned())
                .map_err(|e| TlsError::new("server_name_override", format!("{name:?}: {e}")))?,
        ),
        None => None,
    };
    let builder = HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http();
    let builder = match server_name {
        Some(name) => builder.with_server_name_resolver(FixedServerNameResolver::new(name)),
        None => builder,
    };
    Ok(if h2 {
        builder.enable_http2().wrap_connector(http)
    } else {
        builder.enable_http1().wrap_connector(http)
    })
}

/// `insecure_skip_verify`: any certificate is accepted; the handshake's signatures are still
/// checked, so the connection is encrypted to whoever holds the certificate's key.
#[derive(Debug)]
struct AnyServerCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// TLS connections accepted on a listener, each handed over once its handshake is done. The
/// accepting stops when this is dropped.
pub struct TlsIncoming {
    connections: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl Drop for TlsIncoming {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl TlsIncoming {
    /// Start accepting on `listener` with `config`. Must run inside a Tokio runtime.
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> Self {
        let local = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (ready, connections) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
        let accepting = tokio::spawn(async move {
            loop {
                let Ok(permit) = handshakes.clone().acquire_owned().await else {
                    return;
                };
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!("cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let ready = ready.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
                    let outcome = handshake.await;
                    drop(permit);
                    match outcome {
                        Ok(Ok(stream)) => {
                            let _ = ready.send((stream, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Self {
            connections,
            local,
            accepting,
        }
    }

    /// The next connection, once its handshake is done; `None` after the accepting stopped.
    pub async fn next(&mut self) -> Option<(TlsStream<TcpStream>, SocketAddr)> {
        self.connections.recv().await
    }

    /// The connections as a stream, for tonic.
    pub fn into_stream(
        self,
    ) -> impl futures_util::Stream<Item = Result<TlsStream<TcpStream>, std::io::Error>> + Send + 'static
    {
        futures_util::stream::unfold(self, |mut incoming| async move {
            let (stream, _) = incoming.next().await?;
            Some((Ok(stream), incoming))
        })
    }
}

impl axum::serve::Listener for TlsIncoming {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.next().await {
            Some(connection) => connection,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
