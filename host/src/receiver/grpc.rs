//! The OTLP/gRPC receiver: the `TraceService/Export` call, served by tonic with a codec that
//! decodes straight into the OTLP request and reports malformed protobuf as `INVALID_ARGUMENT`.
//! The size limit applies after decompression: an oversized or decompression-bomb message gets
//! `RESOURCE_EXHAUSTED`. With an authenticator, a call without a valid token gets
//! `UNAUTHENTICATED` before its message is read.

use super::status::response;
use super::{BearerAuth, Consumer};
use crate::pipeline::ConsumeError;
use bytes::{Buf, BufMut};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use spanwise_batch::Batch;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::Status;
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder,
};
use tonic::server::NamedService;

/// The gRPC path of the OTLP trace export call.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// The `TraceService` with spanwise's codec and limits.
#[derive(Clone)]
pub struct TraceService {
    consumer: Consumer,
    max_message_size: usize,
    auth: Option<BearerAuth>,
}

impl TraceService {
    /// A service feeding `consumer`, refusing messages over `max_message_size` bytes after
    /// decompression, and calls that `auth` (when given) refuses.
    pub fn new(consumer: Consumer, max_message_size: usize, auth: Option<BearerAuth>) -> Self {
        Self {
            consumer,
            max_message_size,
            auth,
        }
    }
}

impl NamedService for TraceService {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}

type Response = http::Response<tonic::body::Body>;

impl<B> tower_service::Service<http::Request<B>> for TraceService
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move {
            if request.uri().path() != EXPORT_PATH {
                return Ok(Status::unimplemented(format!(
                    "{} is not served here; spanwise takes traces only",
                    request.uri().path()
                ))
                .into_http());
            }
            if let Some(auth) = &service.auth
                && let Err(refused) = auth.check(request.headers())
            {
                return Ok(Status::unauthenticated(refused.to_string()).into_http());
            }
            let mut gzip = EnabledCompressionEncodings::default();
            gzip.enable(CompressionEncoding::Gzip);
            let mut grpc = tonic::server::Grpc::new(OtlpCodec(service.consumer.clone()))
                .apply_compression_config(gzip, gzip)
                .apply_max_message_size_config(Some(service.max_message_size), None);
            let mut response = grpc
                .unary(ExportCall(service.consumer.clone()), request)
                .await;
            // tonic answers a message over the limit with OUT_OF_RANGE before decompressing it;
            // OTLP says RESOURCE_EXHAUSTED, which is what a decompression bomb already gets.
            let headers = response.headers_mut();
            if headers
                .get("grpc-status")
                .is_some_and(|v| v.as_bytes() == b"11")
            {
                headers.insert("grpc-status", http::HeaderValue::from_static("8"));
            }
            Ok(response)
        })
    }
}

#[derive(Clone)]
struct ExportCall(Consumer);

impl tonic::server::UnaryService<Batch> for ExportCall {
    type Response = ExportTraceServiceResponse;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<Self::Response>, Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<Batch>) -> Self::Future {
        let consumer = self.0.clone();
        Box::pin(async move {
            let batch = request.into_inner();
            match consumer.consume(batch).await {
                Ok(report) => Ok(tonic::Response::new(response(&report))),
                Err(
                    e @ (ConsumeError::Export(_)
                    | ConsumeError::ShuttingDown(_)
                    | ConsumeError::Refused(_)),
                ) => Err(Status::unavailable(e.to_string())),
            }
        })
    }
}

/// Takes OTLP requests as batches (as [`Consumer::take`] makes them; malformed ones are
/// `INVALID_ARGUMENT`) and encodes responses.
#[derive(Clone)]
struct OtlpCodec(Consumer);

impl Codec for OtlpCodec {
    type Encode = ExportTraceServiceResponse;
    type Decode = Batch;
    type Encoder = OtlpCodec;
    type Decoder = OtlpCodec;

    fn encoder(&mut self) -> Self::Encoder {
        self.clone()
    }

    fn decoder(&mut self) -> Self::Decoder {
        self.clone()
    }
}

impl Encoder for OtlpCodec {
    type Item = ExportTraceServiceResponse;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        if dst.remaining_mut() < item.encoded_len() {
            dst.reserve(item.encoded_len());
        }
        item.encode(dst)
            .map_err(|e| Status::internal(format!("cannot encode the response: {e}")))
    }
}

impl Decoder for OtlpCodec {
    type Item = Batch;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        let batch = self
            .0
            .take(src.copy_to_bytes(src.remaining()))
            .map_err(|e| Status::invalid_argument(format!("malformed OTLP protobuf: {e}")))?;
        Ok(Some(batch))
    }
}
