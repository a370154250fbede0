//! The OTLP/HTTP receiver: `POST /v1/traces` with protobuf or JSON bodies, optionally gzipped.
//!
//! Answers: 200 with an `ExportTraceServiceResponse` (partial success when processors dropped
//! spans); 400 for a malformed body; 413 for a body over the limit, counted after decompression
//! so that a gzip bomb is refused without being inflated past the limit; 415 for another content
//! type or encoding; 503 when the pipeline could not export (the client should retry); 401,
//! before the body is read, when an authenticator refuses the request. Error bodies are
//! `google.rpc.Status` in the request's encoding.

use super::status::{RpcStatus, response};
use super::{BearerAuth, Consumer};
use crate::pipeline::ConsumeError;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use prost::Message;
use spanwise_batch::Batch;
use std::io::Read;

/// The body encodings OTLP/HTTP defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Proto,
    Json,
}

#[derive(Clone)]
struct Receiver {
    consumer: Consumer,
    max_body: usize,
    auth: Option<BearerAuth>,
}

/// The router serving `path`, refusing bodies over `max_body` bytes after decompression and
/// requests that `auth` (when given) refuses.
pub fn router(
    consumer: Consumer,
    path: &str,
    max_body: usize,
    auth: Option<BearerAuth>,
) -> axum::Router {
    axum::Router::new()
        .route(path, axum::routing::post(export))
        .with_state(Receiver {
            consumer,
            max_body,
            auth,
        })
}

/// An OTLP error answer: an HTTP status and a `google.rpc.Status` body.
struct Failure {
    status: StatusCode,
    code: i32,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, code: i32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn into_response(self, encoding: Encoding) -> Response {
        let body = RpcStatus {
            code: self.code,
            message: self.message,
        };
        encoded(self.status, encoding, body.encode_to_vec(), &body)
    }
}

// google.rpc.Code values.
const INVALID_ARGUMENT: i32 = 3;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;
const UNIMPLEMENTED: i32 = 12;
const UNAUTHENTICATED: i32 = 16;

fn encoded<T: serde::Serialize>(
    status: StatusCode,
    encoding: Encoding,
    proto: Vec<u8>,
    json: &T,
) -> Response {
    let (content_type, body) = match encoding {
        Encoding::Proto => ("application/x-protobuf", proto),
        Encoding::Json => (
            "application/json",
            serde_json::to_vec(json).unwrap_or_default(),
        ),
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

async fn export(State(receiver): State<Receiver>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let encoding = match content_type.as_str() {
        "application/x-protobuf" | "application/protobuf" => Encoding::Proto,
        "application/json" => Encoding::Json,
        other => {
            let shown = if other.is_empty() { "none" } else { other };
            return Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                UNIMPLEMENTED,
                format!("content type {shown} is not supported: send application/x-protobuf or application/json"),
            )
            .into_response(Encoding::Proto);
        }
    };
    if let Some(auth) = &receiver.auth
        && let Err(refused) = auth.check(&headers)
    {
        let mut response = Failure::new(
            StatusCode::UNAUTHORIZED,
            UNAUTHENTICATED,
            refused.to_string(),
        )
        .into_response(encoding);
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    match receive(&receiver, &headers, body, encoding).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(encoding),
    }
}

async fn receive(
    receiver: &Receiver,
    headers: &HeaderMap,
    body: Body,
    encoding: Encoding,
) -> Result<Response, Failure> {
    let raw = read_limited(body, receiver.max_body).await?;
    let content_encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let plain = match content_encoding.as_str() {
        "" | "identity" => raw,
        "gzip" => gunzip_limited(&raw, receiver.max_body)?,
        other => {
            return Err(Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                UNIMPLEMENTED,
                format!("content encoding {other} is not supported: send gzip or none"),
            ));
        }
    };
    let batch = match encoding {
        Encoding::Proto => receiver.consumer.take(plain).map_err(|e| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                INVALID_ARGUMENT,
                format!("malformed OTLP protobuf: {e}"),
            )
        })?,
        Encoding::Json => Batch::from_request(serde_json::from_slice(&plain).map_err(|e| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                INVALID_ARGUMENT,
                format!("malformed OTLP JSON: {e}"),
            )
        })?),
    };
    let report = receiver
        .consumer
        .consume(batch)
        .await
        .map_err(|e| match e {
            ConsumeError::Export(_) | ConsumeError::ShuttingDown(_) | ConsumeError::Refused(_) => {
                Failure::new(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE, e.to_string())
            }
        })?;
    let answer = response(&report);
    // OTLP/JSON leaves out absent fields and writes int64 as a string: `{}` on full success.
    let json = match &answer.partial_success {
        None => serde_json::json!({}),
        Some(partial) => serde_json::json!({
            "partialSuccess": {
                "rejectedSpans": partial.rejected_spans.to_string(),
                "errorMessage": partial.error_message,
            }
        }),
    };
    Ok(encoded(
        StatusCode::OK,
        encoding,
        answer.encode_to_vec(),
        &json,
    ))
}

fn too_large(limit: usize) -> Failure {
    Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        RESOURCE_EXHAUSTED,
        format!("request body is larger than the limit of {limit} bytes"),
    )
}

async fn read_limited(body: Body, limit: usize) -> Result<Bytes, Failure> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Err(e) => Err(Failure::new(
            StatusCode::BAD_REQUEST,
            INVALID_ARGUMENT,
            format!("cannot read the request body: {e}"),
        )),
    }
}

/// Inflate at most `limit` bytes; one byte more means the body is too large.
fn gunzip_limited(raw: &[u8], limit: usize) -> Result<Bytes, Failure> {
    let mut out = Vec::new();
    let decoder = flate2::read::GzDecoder::new(raw);
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                INVALID_ARGUMENT,
                format!("malformed gzip body: {e}"),
            )
        })?;
    if out.len() > limit {
        return Err(too_large(limit));
    }
    Ok(Bytes::from(out))
}
