//! The `otlphttp` exporter: OTLP/HTTP with protobuf or JSON bodies (plain-text HTTP/1.1).

use super::{BoxFuture, ExportError, Exporter};
use crate::config::{Compression, Encoding, OtlpHttpExporterConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::io::Write;
use std::time::Duration;

/// Posts batches to an OTLP/HTTP `/v1/traces` endpoint.
pub struct OtlpHttpExporter {
    id: String,
    url: hyper::Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    compression: Compression,
    encoding: Encoding,
    timeout: Duration,
    headers: Vec<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
}

impl OtlpHttpExporter {
    /// An exporter for the configured endpoint.
    pub fn new(id: &str, config: &OtlpHttpExporterConfig) -> Result<Self, String> {
        let (field, url) = match &config.traces_endpoint {
            Some(url) => ("traces_endpoint", url.clone()),
            None => (
                "endpoint",
                format!("{}/v1/traces", config.endpoint.trim_end_matches('/')),
            ),
        };
        if !url.starts_with("http://") {
            return Err(format!(
                "{field}: {url:?} must start with http:// (TLS is not supported yet)"
            ));
        }
        let url: hyper::Uri = url
            .parse()
            .map_err(|e| format!("{field}: {url:?} is not a valid URL: {e}"))?;
        let mut headers = Vec::new();
        for (name, value) in &config.headers {
            let name = hyper::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("headers.{name}: not a valid header name"))?;
            let value = hyper::header::HeaderValue::from_str(value)
                .map_err(|_| format!("headers.{name}: not a valid header value"))?;
            headers.push((name, value));
        }
        Ok(Self {
            id: id.to_owned(),
            url,
            client: Client::builder(TokioExecutor::new()).build_http(),
            compression: config.compression,
            encoding: config.encoding,
            timeout: config.timeout,
            headers,
        })
    }

    fn body(&self, request: &ExportTraceServiceRequest) -> Result<Vec<u8>, String> {
        let body = match self.encoding {
            Encoding::Proto => request.encode_to_vec(),
            Encoding::Json => serde_json::to_vec(request).map_err(|e| e.to_string())?,
        };
        match self.compression {
            Compression::None => Ok(body),
            Compression::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&body).map_err(|e| e.to_string())?;
                gz.finish().map_err(|e| e.to_string())
            }
        }
    }
}

impl Exporter for OtlpHttpExporter {
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
            let body = self.body(request).map_err(&fail)?;
            let mut builder = hyper::Request::post(self.url.clone()).header(
                hyper::header::CONTENT_TYPE,
                match self.encoding {
                    Encoding::Proto => "application/x-protobuf",
                    Encoding::Json => "application/json",
                },
            );
            if self.compression == Compression::Gzip {
                builder = builder.header(hyper::header::CONTENT_ENCODING, "gzip");
            }
            for (name, value) in &self.headers {
                builder = builder.header(name, value);
            }
            let http_request = builder
                .body(Full::new(Bytes::from(body)))
                .map_err(|e| fail(e.to_string()))?;
            let response = tokio::time::timeout(self.timeout, self.client.request(http_request))
                .await
                .map_err(|_| fail(format!("no answer within {:?}", self.timeout)))?
                .map_err(|e| fail(format!("cannot reach {}: {e}", self.url)))?;
            let status = response.status();
            if !status.is_success() {
                let text = response
                    .into_body()
                    .collect()
                    .await
                    .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                    .unwrap_or_default();
                return Err(fail(format!(
                    "{status}: {}",
                    text.chars().take(200).collect::<String>()
                )));
            }
            Ok(())
        })
    }
}
