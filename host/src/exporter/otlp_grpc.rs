//! The `otlp` exporter: OTLP/gRPC to another collector or backend, over TLS or plain-text
//! HTTP/2.

use super::{BoxFuture, ExportError, Exporter, Retry};
use crate::config::{Compression, OtlpExporterConfig};
use bytes::{Buf, BufMut, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use spanwise_batch::Batch;
use std::time::Duration;
use tonic::client::Grpc;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};

/// The OTLP/gRPC `Export` method.
const EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Sends batches with the OTLP/gRPC `Export` call. The request goes out as the batch's
/// protobuf bytes ([`Batch::to_bytes`]): a batch no processor edited is sent as it came, with
/// no decoding or encoding.
pub struct OtlpGrpcExporter {
    id: String,
    client: Grpc<Channel>,
    timeout: Duration,
    metadata: MetadataMap,
}

impl OtlpGrpcExporter {
    /// An exporter that connects lazily to the configured endpoint.
    pub fn new(id: &str, config: &OtlpExporterConfig) -> Result<Self, String> {
        let (uri, tls) = target(&config.endpoint, config.tls.insecure);
        let connector =
            crate::tls::connector(tls.then_some(&config.tls), true).map_err(|e| e.to_string())?;
        let channel = Endpoint::from_shared(uri.clone())
            .map_err(|e| format!("endpoint: {uri:?} is not a valid URI: {e}"))?
            .connect_timeout(config.timeout)
            .connect_with_connector_lazy(connector);
        let mut client = Grpc::new(channel);
        if config.compression == Compression::Gzip {
            client = client.send_compressed(CompressionEncoding::Gzip);
        }
        let mut metadata = MetadataMap::new();
        for (name, value) in &config.headers {
            let key = MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map_err(|_| format!("headers.{name}: not a valid header name"))?;
            let value = MetadataValue::try_from(value.as_str())
                .map_err(|_| format!("headers.{name}: not a valid header value"))?;
            metadata.insert(key, value);
        }
        Ok(Self {
            id: id.to_owned(),
            client,
            timeout: config.timeout,
            metadata,
        })
    }
}

/// The URI to connect to and whether to use TLS, as the collector decides: `https://` is TLS,
/// `http://` plain text, and an endpoint without a scheme TLS unless `insecure`.
fn target(endpoint: &str, insecure: bool) -> (String, bool) {
    if endpoint.starts_with("https://") {
        (endpoint.to_owned(), true)
    } else if endpoint.starts_with("http://") || endpoint.contains("://") {
        (endpoint.to_owned(), false)
    } else if insecure {
        (format!("http://{endpoint}"), false)
    } else {
        (format!("https://{endpoint}"), true)
    }
}

impl Exporter for OtlpGrpcExporter {
    fn id(&self) -> &str {
        &self.id
    }

    fn export<'a>(&'a self, request: &'a Batch) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let fail = |reason: String, retry: Retry| ExportError::Destination {
                exporter: self.id.clone(),
                reason,
                retry,
            };
            let mut call = tonic::Request::new(request.to_bytes());
            *call.metadata_mut() = self.metadata.clone();
            call.set_timeout(self.timeout);
            call.extensions_mut().insert(tonic::GrpcMethod::new(
                "opentelemetry.proto.collector.trace.v1.TraceService",
                "Export",
            ));
            let mut client = self.client.clone();
            let send = async move {
                client.ready().await.map_err(|e| {
                    tonic::Status::unavailable(format!("the channel is not ready: {e}"))
                })?;
                client
                    .unary(
                        call,
                        http::uri::PathAndQuery::from_static(EXPORT),
                        ExportCodec,
                    )
                    .await
            };
            let response = tokio::time::timeout(self.timeout, send)
                .await
                .map_err(|_| {
                    fail(
                        format!("no answer within {:?}", self.timeout),
                        Retry::Later { after: None },
                    )
                })?
                .map_err(|status| {
                    fail(
                        format!("{:?}: {}", status.code(), status.message()),
                        retry_for(&status),
                    )
                })?;
            if let Some(partial) = response.into_inner().partial_success
                && partial.rejected_spans > 0
            {
                tracing::warn!(exporter = %self.id, rejected = partial.rejected_spans, "destination rejected spans: {}", partial.error_message);
            }
            Ok(())
        })
    }
}

/// Sends a request's protobuf bytes as they are, and decodes the response.
#[derive(Debug, Clone, Copy, Default)]
struct ExportCodec;

impl Codec for ExportCodec {
    type Encode = Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = ExportCodec;
    type Decoder = ExportCodec;

    fn encoder(&mut self) -> Self::Encoder {
        ExportCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        ExportCodec
    }
}

impl Encoder for ExportCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for ExportCodec {
    type Item = ExportTraceServiceResponse;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, tonic::Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        ExportTraceServiceResponse::decode(bytes)
            .map(Some)
            .map_err(|e| tonic::Status::internal(format!("malformed response: {e}")))
    }
}

/// Whether a gRPC failure may pass, as the collector's `otlp` exporter decides: `CANCELLED`,
/// `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE`, `UNAVAILABLE` and `DATA_LOSS` may;
/// `RESOURCE_EXHAUSTED` only when the server says when to retry (`RetryInfo`); the rest do not.
fn retry_for(status: &tonic::Status) -> Retry {
    use tonic::Code;
    use tonic_types::StatusExt;
    let asked = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay);
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => Retry::Later { after: asked },
        Code::ResourceExhausted if asked.is_some() => Retry::Later { after: asked },
        _ => Retry::Never,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, StatusExt};

    #[test]
    fn the_scheme_or_insecure_decides_tls_as_in_the_collector() {
        assert_eq!(
            target("collector:4317", false),
            ("https://collector:4317".into(), true)
        );
        assert_eq!(
            target("collector:4317", true),
            ("http://collector:4317".into(), false)
        );
        assert_eq!(
            target("http://collector:4317", false),
            ("http://collector:4317".into(), false)
        );
        assert_eq!(
            target("https://collector:4317", true),
            ("https://collector:4317".into(), true)
        );
    }

    #[test]
    fn retryable_codes_are_the_collectors_and_resource_exhausted_needs_retry_info() {
        let later = Retry::Later { after: None };
        assert_eq!(retry_for(&tonic::Status::unavailable("down")), later);
        assert_eq!(retry_for(&tonic::Status::deadline_exceeded("slow")), later);
        assert_eq!(
            retry_for(&tonic::Status::invalid_argument("bad")),
            Retry::Never
        );
        assert_eq!(
            retry_for(&tonic::Status::unauthenticated("who")),
            Retry::Never
        );
        assert_eq!(
            retry_for(&tonic::Status::resource_exhausted("full")),
            Retry::Never
        );
        let throttled = tonic::Status::with_error_details(
            tonic::Code::ResourceExhausted,
            "full",
            ErrorDetails::with_retry_info(Some(Duration::from_secs(3))),
        );
        assert_eq!(
            retry_for(&throttled),
            Retry::Later {
                after: Some(Duration::from_secs(3))
            }
        );
    }
}
