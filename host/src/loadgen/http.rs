//! Sending encoded requests with OTLP/HTTP (protobuf bodies).

use super::{GenError, Sent, with_scheme};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use std::time::Duration;

pub(super) struct HttpSender {
    url: hyper::Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl HttpSender {
    pub(super) fn new(endpoint: &str, timeout: Duration) -> Result<Self, GenError> {
        let mut url = with_scheme(endpoint);
        let has_path = url
            .split_once("://")
            .is_some_and(|(_, rest)| rest.trim_end_matches('/').contains('/'));
        if !has_path {
            url = format!("{}/v1/traces", url.trim_end_matches('/'));
        }
        let url: hyper::Uri = url.parse().map_err(|e| GenError::Endpoint {
            endpoint: endpoint.to_owned(),
            reason: format!("not a valid URL: {e}"),
        })?;
        if url.scheme_str() != Some("http") {
            return Err(GenError::Endpoint {
                endpoint: endpoint.to_owned(),
                reason: "only plain-text http:// is supported".into(),
            });
        }
        Ok(Self {
            url,
            client: Client::builder(TokioExecutor::new()).build_http(),
            timeout,
        })
    }

    /// Where requests go.
    #[cfg(test)]
    pub(super) fn url(&self) -> &hyper::Uri {
        &self.url
    }

    pub(super) async fn send(&self, body: Bytes) -> Sent {
        let request = hyper::Request::post(self.url.clone())
            .header(hyper::header::CONTENT_TYPE, "application/x-protobuf")
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(self.timeout, async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("cannot reach {}: {e}", self.url))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, body))
        })
        .await
        .map_err(|_| format!("no answer within {:?}", self.timeout))??;
        let (status, body) = response;
        if !status.is_success() {
            return Err(format!(
                "{status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
        }
        let answer = ExportTraceServiceResponse::decode(body)
            .map_err(|e| format!("the answer is not an OTLP response: {e}"))?;
        Ok(answer
            .partial_success
            .map_or(0, |p| p.rejected_spans.max(0) as u64))
    }
}
