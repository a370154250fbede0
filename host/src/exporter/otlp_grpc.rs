//! The `otlp` exporter: OTLP/gRPC to another collector or backend (plain-text HTTP/2).

use super::{BoxFuture, ExportError, Exporter};
use crate::config::{Compression, OtlpExporterConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use std::time::Duration;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};

/// Sends batches with the OTLP/gRPC `Export` call.
pub struct OtlpGrpcExporter {
    id: String,
    client: TraceServiceClient<Channel>,
    timeout: Duration,
    metadata: MetadataMap,
}

impl OtlpGrpcExporter {
    /// An exporter that connects lazily to the configured endpoint.
    pub fn new(id: &str, config: &OtlpExporterConfig) -> Result<Self, String> {
        let uri = if config.endpoint.contains("://") {
            config.endpoint.clone()
        } else {
            format!("http://{}", config.endpoint)
        };
        if uri.starts_with("https://") {
            return Err("endpoint: TLS is not supported yet; use a plain-text endpoint on a trusted network or a sidecar".into());
        }
        let channel = Endpoint::from_shared(uri.clone())
            .map_err(|e| format!("endpoint: {uri:?} is not a valid URI: {e}"))?
            .connect_timeout(config.timeout)
            .connect_lazy();
        let mut client = TraceServiceClient::new(channel);
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

impl Exporter for OtlpGrpcExporter {
    fn id(&self) -> &str {
        &self.id
    }

    fn export<'a>(
        &'a self,
        request: &'a ExportTraceServiceRequest,
    ) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let fail = |reason: String| ExportError::Destination {
                exporter: self.id.clone(),
                reason,
            };
            let mut call = tonic::Request::new(request.clone());
            *call.metadata_mut() = self.metadata.clone();
            call.set_timeout(self.timeout);
            let mut client = self.client.clone();
            let response = tokio::time::timeout(self.timeout, client.export(call))
                .await
                .map_err(|_| fail(format!("no answer within {:?}", self.timeout)))?
                .map_err(|status| fail(format!("{:?}: {}", status.code(), status.message())))?;
            if let Some(partial) = response.into_inner().partial_success
                && partial.rejected_spans > 0
            {
                tracing::warn!(exporter = %self.id, rejected = partial.rejected_spans, "destination rejected spans: {}", partial.error_message);
            }
            Ok(())
        })
    }
}
