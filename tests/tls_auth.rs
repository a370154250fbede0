//! TLS and bearer tokens, with certificates made at test time: the Python SDK's real OTLP
//! exporters send to TLS receivers (with a token, and with client certificates), and spanwise's
//! own exporters send to them over TLS and mutual TLS. A wrong token, a missing or untrusted
//! client certificate, and a server the exporter cannot verify are each refused, and nothing
//! they sent is exported.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use spanwise::service::Running;
use spanwise_batch::{BatchBuilder, kv};
use spanwise_tests::pki::Pki;
use spanwise_tests::{python, root};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

const TOKEN: &str = "a-test-token-for-the-platform";

/// A backend whose receiver `otlp/secure` takes `tls` (a YAML flow map) and optionally the
/// token check, both protocols, writing what it receives to `output`.
fn backend_yaml(tls: &str, token: bool, output: &Path) -> String {
    let auth = if token {
        ", auth: { authenticator: bearertokenauth }"
    } else {
        ""
    };
    format!(
        r#"
receivers:
  otlp/secure:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:0", tls: {tls}{auth} }}
      http: {{ endpoint: "127.0.0.1:0", tls: {tls}{auth} }}
extensions:
  bearertokenauth:
    token: ${{env:TEST_TOKEN}}
exporters:
  file: {{ path: "{output}" }}
service:
  extensions: [bearertokenauth]
  pipelines:
    traces: {{ receivers: [otlp/secure], exporters: [file] }}
"#,
        output = output.display()
    )
}

async fn start(yaml: &str) -> Running {
    let config = spanwise::config::Config::parse(yaml, Path::new("tls-test.yaml"), &|name| {
        (name == "TEST_TOKEN").then(|| TOKEN.to_owned())
    })
    .expect("the test config is valid");
    spanwise::service::start(&config)
        .await
        .expect("the service starts")
}

fn server_tls(pki: &Pki, client_ca: bool) -> String {
    let mut tls = format!(
        "{{ cert_file: \"{}\", key_file: \"{}\"",
        pki.file("server.pem").display(),
        pki.file("server-key.pem").display()
    );
    if client_ca {
        tls.push_str(&format!(
            ", client_ca_file: \"{}\"",
            pki.file("ca.pem").display()
        ));
    }
    tls.push_str(" }");
    tls
}

/// Run the Python SDK sender for `protocol` against `endpoint` with the SDK's environment
/// variables `env`; true when every export succeeded.
async fn python_sends(
    protocol: &str,
    endpoint: String,
    prefix: &str,
    env: Vec<(&'static str, String)>,
) -> bool {
    let prefix = prefix.to_owned();
    let protocol = protocol.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(python());
        command
            .arg(root().join("tests/e2e/send_secure_spans.py"))
            .args([protocol.as_str(), endpoint.as_str(), prefix.as_str(), "3"])
            .current_dir(root().join("tests/e2e"))
            .env("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "3")
            // `requests` lets these override the CA the exporter gives its session.
            .env_remove("REQUESTS_CA_BUNDLE")
            .env_remove("CURL_CA_BUNDLE");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().expect("python runs");
        let code = output.status.code();
        assert!(
            code == Some(0) || code == Some(3),
            "the sender crashed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        code == Some(0)
    })
    .await
    .expect("the sender thread")
}

fn endpoint(running: &Running, protocol: &str) -> String {
    let address = spanwise_tests::address(running, protocol);
    match protocol {
        "grpc" => format!("127.0.0.1:{}", address.port()),
        _ => format!("https://127.0.0.1:{}/v1/traces", address.port()),
    }
}

/// Span names in the file exporter's output, by prefix (`good-grpc` of `good-grpc-0`).
fn names_by_prefix(output: &Path) -> BTreeMap<String, usize> {
    let mut by_prefix = BTreeMap::new();
    for request in spanwise_tests::read_jsonl(output) {
        for span in request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
        {
            let prefix = span.name.rsplit_once('-').map_or(&*span.name, |(p, _)| p);
            *by_prefix.entry(prefix.to_owned()).or_default() += 1;
        }
    }
    by_prefix
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_sends_over_tls_with_the_token_and_a_wrong_token_is_refused() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let backend = start(&backend_yaml(&server_tls(&pki, false), true, &output)).await;
    let ca = pki.file("ca.pem").display().to_string();
    let with = |headers: Option<&str>| {
        let mut env = vec![("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", ca.clone())];
        if let Some(h) = headers {
            env.push(("OTEL_EXPORTER_OTLP_TRACES_HEADERS", h.to_owned()));
        }
        env
    };
    let good = format!("authorization=Bearer%20{TOKEN}");
    for protocol in ["grpc", "http"] {
        let at = endpoint(&backend, protocol);
        assert!(
            python_sends(
                protocol,
                at.clone(),
                &format!("good-{protocol}"),
                with(Some(&good))
            )
            .await,
            "{protocol} with the token over TLS is refused"
        );
        assert!(
            !python_sends(
                protocol,
                at.clone(),
                &format!("wrong-{protocol}"),
                with(Some("authorization=Bearer%20not-the-token"))
            )
            .await,
            "{protocol} with a wrong token is accepted"
        );
        assert!(
            !python_sends(
                protocol,
                at.clone(),
                &format!("none-{protocol}"),
                with(None)
            )
            .await,
            "{protocol} without a token is accepted"
        );
    }
    // Plain text to a TLS port: no handshake, nothing taken.
    let plain = spanwise_tests::address(&backend, "http");
    let refused = Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>()
        .request(
            hyper::Request::post(format!("http://{plain}/v1/traces"))
                .header("content-type", "application/x-protobuf")
                .body(Full::new(Bytes::from(request_body(1))))
                .unwrap(),
        )
        .await;
    assert!(
        refused.is_err(),
        "plain HTTP to a TLS receiver got {refused:?}"
    );
    backend.shutdown().await;
    let expected = BTreeMap::from([("good-grpc".to_owned(), 3), ("good-http".to_owned(), 3)]);
    assert_eq!(names_by_prefix(&output), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_takes_only_clients_with_a_certificate_from_the_trusted_ca() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let backend = start(&backend_yaml(&server_tls(&pki, true), false, &output)).await;
    let file = |name: &str| pki.file(name).display().to_string();
    let client = |cert: Option<&str>| {
        let mut env = vec![("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", file("ca.pem"))];
        if let Some(cert) = cert {
            env.push((
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                file(&format!("{cert}.pem")),
            ));
            env.push((
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
                file(&format!("{cert}-key.pem")),
            ));
        }
        env
    };
    for protocol in ["grpc", "http"] {
        let at = endpoint(&backend, protocol);
        assert!(
            python_sends(
                protocol,
                at.clone(),
                &format!("trusted-{protocol}"),
                client(Some("client"))
            )
            .await,
            "{protocol} with a trusted client certificate is refused"
        );
        assert!(
            !python_sends(
                protocol,
                at.clone(),
                &format!("anonymous-{protocol}"),
                client(None)
            )
            .await,
            "{protocol} without a client certificate is accepted"
        );
        assert!(
            !python_sends(
                protocol,
                at.clone(),
                &format!("stranger-{protocol}"),
                client(Some("stranger"))
            )
            .await,
            "{protocol} with a certificate from another CA is accepted"
        );
    }
    backend.shutdown().await;
    let expected = BTreeMap::from([
        ("trusted-grpc".to_owned(), 3),
        ("trusted-http".to_owned(), 3),
    ]);
    assert_eq!(names_by_prefix(&output), expected);
}

fn request_body(spans: usize) -> Vec<u8> {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "forwarded")]);
    for i in 0..spans {
        builder = builder.span(&format!("forwarded-{i}"), vec![kv("n", i as i64)]);
    }
    builder.build().into_request().encode_to_vec()
}

/// POST `spans` spans to a plain OTLP/HTTP receiver; the status.
async fn post(address: SocketAddr, spans: usize) -> u16 {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = hyper::Request::post(format!("http://{address}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(request_body(spans))))
        .unwrap();
    client.request(request).await.unwrap().status().as_u16()
}

/// A forwarder: plain OTLP/HTTP in, the `exporters` (YAML lines under `exporters:`, ids
/// `ids`) out, each sending straight on the request path so a failure reaches the client.
fn forwarder_yaml(exporters: &str, ids: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:0" }}
exporters:
{exporters}
service:
  pipelines:
    traces: {{ receivers: [otlp], exporters: [{ids}] }}
"#
    )
}

const DIRECT: &str = "retry_on_failure: { enabled: false }, sending_queue: { enabled: false }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exporters_send_over_mutual_tls_with_a_token() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let backend = start(&backend_yaml(&server_tls(&pki, true), true, &output)).await;
    let grpc = spanwise_tests::address(&backend, "grpc");
    let http = spanwise_tests::address(&backend, "http");
    let tls = format!(
        "{{ ca_file: \"{}\", cert_file: \"{}\", key_file: \"{}\" }}",
        pki.file("ca.pem").display(),
        pki.file("client.pem").display(),
        pki.file("client-key.pem").display()
    );
    let headers = format!("{{ authorization: \"Bearer {TOKEN}\" }}");
    // The gRPC endpoint has no scheme: TLS, as the collector decides.
    let forwarder = start(&forwarder_yaml(
        &format!(
            "  otlp: {{ endpoint: \"127.0.0.1:{}\", tls: {tls}, headers: {headers}, {DIRECT} }}\n  \
             otlphttp: {{ endpoint: \"https://localhost:{}\", tls: {tls}, headers: {headers}, {DIRECT} }}",
            grpc.port(),
            http.port()
        ),
        "otlp, otlphttp",
    ))
    .await;
    assert_eq!(
        post(spanwise_tests::address(&forwarder, "http"), 4).await,
        200
    );
    forwarder.shutdown().await;
    backend.shutdown().await;
    // Each exporter delivered the 4 spans.
    assert_eq!(
        names_by_prefix(&output),
        BTreeMap::from([("forwarded".to_owned(), 8)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exporter_refuses_a_server_it_cannot_verify_unless_told_to_skip_the_check() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let backend = start(&backend_yaml(&server_tls(&pki, false), false, &output)).await;
    let grpc = spanwise_tests::address(&backend, "grpc").port();
    let http = spanwise_tests::address(&backend, "http").port();
    let other_ca = pki.file("other-ca.pem").display().to_string();
    let cases = [
        // Signed by a CA it does not trust.
        (
            format!(
                "otlp: {{ endpoint: \"127.0.0.1:{grpc}\", tls: {{ ca_file: \"{other_ca}\" }}, {DIRECT} }}"
            ),
            "otlp",
            503,
        ),
        (
            format!(
                "otlphttp: {{ endpoint: \"https://127.0.0.1:{http}\", tls: {{ ca_file: \"{other_ca}\" }}, {DIRECT} }}"
            ),
            "otlphttp",
            503,
        ),
        // The system's CAs do not know the test CA either.
        (
            format!("otlp: {{ endpoint: \"https://127.0.0.1:{grpc}\", {DIRECT} }}"),
            "otlp",
            503,
        ),
        // Plain text to a TLS server.
        (
            format!(
                "otlp: {{ endpoint: \"127.0.0.1:{grpc}\", tls: {{ insecure: true }}, {DIRECT} }}"
            ),
            "otlp",
            503,
        ),
        // The wrong name, unless overridden.
        (
            format!(
                "otlphttp: {{ endpoint: \"https://127.0.0.2:{http}\", tls: {{ ca_file: \"{}\" }}, timeout: 2s, {DIRECT} }}",
                pki.file("ca.pem").display()
            ),
            "otlphttp",
            503,
        ),
        (
            format!(
                "otlp: {{ endpoint: \"127.0.0.1:{grpc}\", tls: {{ ca_file: \"{}\", server_name_override: localhost }}, {DIRECT} }}",
                pki.file("ca.pem").display()
            ),
            "otlp",
            200,
        ),
        // Told not to check.
        (
            format!(
                "otlp: {{ endpoint: \"127.0.0.1:{grpc}\", tls: {{ insecure_skip_verify: true }}, {DIRECT} }}"
            ),
            "otlp",
            200,
        ),
        (
            format!(
                "otlphttp: {{ endpoint: \"https://127.0.0.1:{http}\", tls: {{ insecure_skip_verify: true }}, {DIRECT} }}"
            ),
            "otlphttp",
            200,
        ),
    ];
    let mut delivered = 0;
    for (exporter, id, status) in &cases {
        let forwarder = start(&forwarder_yaml(&format!("  {exporter}"), id)).await;
        let answer = post(spanwise_tests::address(&forwarder, "http"), 2).await;
        assert_eq!(answer, *status, "{exporter}");
        if answer == 200 {
            delivered += 2;
        }
        forwarder.shutdown().await;
    }
    backend.shutdown().await;
    assert_eq!(
        names_by_prefix(&output),
        BTreeMap::from([("forwarded".to_owned(), delivered)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_auth_mistakes_name_the_key() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let refused = async |yaml: String, key: &str, reason: &str| {
        let error =
            match spanwise::config::Config::parse(&yaml, Path::new("tls-test.yaml"), &|name| {
                (name == "TEST_TOKEN").then(|| TOKEN.to_owned())
            }) {
                Err(e) => e.to_string(),
                Ok(config) => match spanwise::service::prepare(&config).await {
                    Err(e) => e.to_string(),
                    Ok(prepared) => {
                        prepared.shutdown().await;
                        panic!("accepted: {yaml}")
                    }
                },
            };
        assert!(
            error.contains(&format!(": {key}: ")),
            "{error} does not name {key}"
        );
        assert!(error.contains(reason), "{error} does not say {reason:?}");
    };
    // A certificate and key that cannot be used: each case names the file at fault.
    for (cert, key, field, reason) in [
        (
            pki.file("server.pem"),
            dir.path().join("absent.pem"),
            "key_file",
            "cannot read",
        ),
        (
            pki.file("server-key.pem"),
            pki.file("server.pem"),
            "cert_file",
            "no PEM certificate",
        ),
        (
            pki.file("server.pem"),
            pki.file("client-key.pem"),
            "key_file",
            "cannot be used with cert_file",
        ),
    ] {
        let tls = format!(
            "{{ cert_file: \"{}\", key_file: \"{}\" }}",
            cert.display(),
            key.display()
        );
        refused(
            backend_yaml(&tls, false, &output),
            &format!("receivers.otlp/secure.protocols.grpc.tls.{field}"),
            reason,
        )
        .await;
    }
    let good = server_tls(&pki, false);
    refused(
        backend_yaml(&good, true, &output).replace("  extensions: [bearertokenauth]\n", ""),
        "receivers.otlp/secure.protocols.grpc.auth.authenticator",
        "add it to service.extensions",
    )
    .await;
    refused(
        backend_yaml(&good, true, &output)
            .replace("token: ${env:TEST_TOKEN}", "token: ${env:UNSET_TOKEN:-}"),
        "extensions.bearertokenauth.token",
        "the token is empty",
    )
    .await;
    refused(
        forwarder_yaml(
            &format!(
                "  otlp: {{ endpoint: \"127.0.0.1:1\", tls: {{ cert_file: \"{}\" }} }}",
                pki.file("client.pem").display()
            ),
            "otlp",
        ),
        "exporters.otlp",
        "tls.key_file: cert_file is set, so key_file must be",
    )
    .await;
}
