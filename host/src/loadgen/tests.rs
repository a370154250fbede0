//! Options are checked and endpoints understood before anything is sent.

use super::*;

fn options() -> Options {
    Options {
        endpoint: "127.0.0.1:4318".into(),
        protocol: Protocol::Http,
        workload: Workload::W1,
        seed: 1,
        batch: 10,
        distinct: 2,
        rate: None,
        stop: Stop::Spans(100),
        concurrency: 1,
        timeout: Duration::from_secs(1),
    }
}

#[test]
fn settings_out_of_range_are_refused_by_name() {
    type Spoil = fn(&mut Options);
    let cases: [(Spoil, &str); 6] = [
        (|o| o.batch = 0, "--batch"),
        (|o| o.distinct = 0, "--distinct"),
        (|o| o.concurrency = 0, "--concurrency"),
        (|o| o.rate = Some(0), "--rate"),
        (|o| o.stop = Stop::Spans(0), "--spans"),
        (|o| o.stop = Stop::After(Duration::ZERO), "--duration"),
    ];
    for (spoil, name) in cases {
        let mut o = options();
        spoil(&mut o);
        let error = check(&o).unwrap_err().to_string();
        assert!(error.contains(name), "{error}");
    }
    check(&options()).unwrap();
}

#[test]
fn http_posts_to_v1_traces_unless_a_path_is_given_and_tls_is_refused() {
    let url = |endpoint: &str| {
        http::HttpSender::new(endpoint, Duration::from_secs(1)).map(|s| s.url().to_string())
    };
    assert_eq!(
        url("127.0.0.1:4318").unwrap(),
        "http://127.0.0.1:4318/v1/traces"
    );
    assert_eq!(
        url("http://[::1]:4318/").unwrap(),
        "http://[::1]:4318/v1/traces"
    );
    assert_eq!(
        url("http://127.0.0.1:9/otlp/v1/traces").unwrap(),
        "http://127.0.0.1:9/otlp/v1/traces"
    );
    assert!(
        url("https://127.0.0.1:4318")
            .unwrap_err()
            .to_string()
            .contains("plain-text")
    );
    assert!(grpc::GrpcSender::new("https://127.0.0.1:4317", Duration::from_secs(1)).is_err());
}

#[test]
fn the_requests_are_the_workloads_encoded() {
    let o = options();
    let bodies = requests(&o);
    assert_eq!(bodies.len(), 2);
    for body in bodies {
        let request =
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
                body,
            )
            .unwrap();
        let spans: usize = request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        assert_eq!(spans, 10);
    }
}
