//! Sending encoded requests with OTLP/gRPC: the `Export` call with a codec that writes the
//! bytes as they are (no encode per request).

use super::{GenError, Sent, with_scheme};
use bytes::{Buf, BufMut, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use std::time::Duration;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Endpoint};

const EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

pub(super) struct GrpcSender {
    channel: Channel,
    timeout: Duration,
}

impl GrpcSender {
    pub(super) fn new(endpoint: &str, timeout: Duration) -> Result<Self, GenError> {
        let uri = with_scheme(endpoint);
        let bad = |reason: String| GenError::Endpoint {
            endpoint: endpoint.to_owned(),
            reason,
        };
        if !uri.starts_with("http://") {
            return Err(bad("only plain-text http:// is supported".into()));
        }
        let channel = Endpoint::from_shared(uri)
            .map_err(|e| bad(format!("not a valid URI: {e}")))?
            .connect_timeout(timeout)
            .connect_lazy();
        Ok(Self { channel, timeout })
    }

    pub(super) async fn send(&self, body: Bytes) -> Sent {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        let call = async {
            grpc.ready()
                .await
                .map_err(|e| format!("cannot reach the receiver: {e}"))?;
            let mut request = tonic::Request::new(body);
            request.set_timeout(self.timeout);
            grpc.unary(
                request,
                http::uri::PathAndQuery::from_static(EXPORT),
                RawCodec,
            )
            .await
            .map_err(|status| format!("{:?}: {}", status.code(), status.message()))
        };
        let answer = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))??;
        Ok(answer
            .into_inner()
            .partial_success
            .map_or(0, |p| p.rejected_spans.max(0) as u64))
    }
}

/// Writes an encoded request; reads an OTLP response.
#[derive(Clone, Copy)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = ExportTraceServiceResponse;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        ExportTraceServiceResponse::decode(src.copy_to_bytes(src.remaining()))
            .map(Some)
            .map_err(|e| Status::internal(format!("the answer is not an OTLP response: {e}")))
    }
}
