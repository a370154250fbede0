//! The `otlphttp` exporter: OTLP/HTTP with protobuf or JSON bodies, over HTTPS or plain
//! HTTP/1.1 as the URL says.

use super::{BoxFuture, ExportError, Exporter, Retry};
use crate::config::{Compression, Encoding, OtlpHttpExporterConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use spanwise_batch::Batch;
use std::io::Write;
use std::time::Duration;

/// Posts batches to an OTLP/HTTP `/v1/traces` endpoint.
pub struct OtlpHttpExporter {
    id: String,
    url: hyper::Uri,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
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
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(format!(
                "{field}: {url:?} must start with https:// or http://"
            ));
        }
        let connector =
            crate::tls::connector(url.starts_with("https://").then_some(&config.tls), false)
                .map_err(|e| e.to_string())?;
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
            client: Client::builder(TokioExecutor::new()).build(connector),
            compression: config.compression,
            encoding: config.encoding,
            timeout: config.timeout,
            headers,
        })
    }

    /// The request body: protobuf as the batch's bytes (those it came as, while unedited), or
    /// OTLP-JSON written straight from the spans (`json.rs`, fields at their defaults left
    /// out); gzipped if configured.
    fn body(&self, request: &Batch) -> Result<Bytes, String> {
        let body = match self.encoding {
            Encoding::Proto => request.to_bytes(),
            Encoding::Json => {
                let mut json = Vec::new();
                super::json::write_request(request.decoded().resource_spans(), &mut json);
                json.into()
            }
        };
        match self.compression {
            Compression::None => Ok(body),
            Compression::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&body).map_err(|e| e.to_string())?;
                gz.finish().map(Bytes::from).map_err(|e| e.to_string())
            }
        }
    }
}

impl Exporter for OtlpHttpExporter {
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
            let body = self.body(request).map_err(|e| fail(e, Retry::Never))?;
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
                .body(Full::new(body))
                .map_err(|e| fail(e.to_string(), Retry::Never))?;
            let later = Retry::Later { after: None };
            let response = tokio::time::timeout(self.timeout, self.client.request(http_request))
                .await
                .map_err(|_| fail(format!("no answer within {:?}", self.timeout), later))?
                .map_err(|e| fail(format!("cannot reach {}: {e}", self.url), later))?;
            let status = response.status();
            if !status.is_success() {
                let retry = retry_for(status, response.headers(), std::time::SystemTime::now());
                let text = response
                    .into_body()
                    .collect()
                    .await
                    .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                    .unwrap_or_default();
                return Err(fail(
                    format!("{status}: {}", text.chars().take(200).collect::<String>()),
                    retry,
                ));
            }
            Ok(())
        })
    }
}

/// Whether an HTTP failure may pass, as the collector's `otlphttp` exporter decides: 429, 502,
/// 503 and 504 may, after the `Retry-After` the server sent (seconds or an HTTP date, read at
/// `now`) if any; the rest do not.
fn retry_for(
    status: hyper::StatusCode,
    headers: &hyper::HeaderMap,
    now: std::time::SystemTime,
) -> Retry {
    use hyper::StatusCode;
    if !matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    ) {
        return Retry::Never;
    }
    let after = headers
        .get(hyper::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let v = v.trim();
            match v.parse::<u64>() {
                Ok(seconds) => Some(Duration::from_secs(seconds)),
                Err(_) => httpdate::parse_http_date(v)
                    .ok()
                    .map(|at| at.duration_since(now).unwrap_or_default()),
            }
        });
    Retry::Later { after }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::{HeaderMap, StatusCode};

    #[test]
    fn retryable_statuses_are_the_collectors_with_retry_after_in_seconds_or_a_date() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let none = HeaderMap::new();
        for status in [400, 401, 404, 413, 500] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(retry_for(status, &none, now), Retry::Never, "{status}");
        }
        for status in [429, 502, 503, 504] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(
                retry_for(status, &none, now),
                Retry::Later { after: None },
                "{status}"
            );
        }
        let mut seconds = HeaderMap::new();
        seconds.insert(hyper::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(
            retry_for(StatusCode::SERVICE_UNAVAILABLE, &seconds, now),
            Retry::Later {
                after: Some(Duration::from_secs(7))
            }
        );
        let mut date = HeaderMap::new();
        let at = httpdate::fmt_http_date(now + Duration::from_secs(90));
        date.insert(hyper::header::RETRY_AFTER, at.parse().unwrap());
        assert_eq!(
            retry_for(StatusCode::TOO_MANY_REQUESTS, &date, now),
            Retry::Later {
                after: Some(Duration::from_secs(90))
            }
        );
    }
}
