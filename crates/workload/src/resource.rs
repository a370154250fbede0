//! The services spans come from: each one resource with the standard resource attributes.

use crate::text::{int, str};
use opentelemetry_proto::tonic::resource::v1::Resource;

/// A service of the generated platform.
pub(crate) struct Service {
    pub resource: Resource,
    /// The instrumentation scope its spans are reported under.
    pub scope: &'static str,
}

const SERVICES: [(&str, &str, &str); 4] = [
    ("sleep-api", "python", "opentelemetry.instrumentation.flask"),
    (
        "patient-portal",
        "nodejs",
        "@opentelemetry/instrumentation-http",
    ),
    (
        "therapy-engine",
        "go",
        "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
    ),
    (
        "notification-worker",
        "java",
        "io.opentelemetry.kafka-clients-2.6",
    ),
];

pub(crate) fn services(rng: &mut fastrand::Rng) -> Vec<Service> {
    SERVICES
        .iter()
        .map(|&(name, language, scope)| {
            let instance = format!("{name}-{:08x}", rng.u32(..));
            Service {
                resource: Resource {
                    attributes: vec![
                        str("service.name", name),
                        str("service.version", "4.2.0"),
                        str("service.namespace", "dtx"),
                        str("service.instance.id", &instance),
                        str("deployment.environment.name", "prod"),
                        str(
                            "host.name",
                            &format!("node-{:02}.eu-west-1.internal", rng.u8(..40)),
                        ),
                        str("host.arch", "amd64"),
                        str("os.type", "linux"),
                        int("process.pid", rng.i64(100..60_000)),
                        str("telemetry.sdk.name", "opentelemetry"),
                        str("telemetry.sdk.language", language),
                        str("telemetry.sdk.version", "1.38.0"),
                        str("k8s.namespace.name", "dtx-prod"),
                        str("k8s.pod.name", &instance),
                    ],
                    dropped_attributes_count: 0,
                    entity_refs: Vec::new(),
                },
                scope,
            }
        })
        .collect()
}
