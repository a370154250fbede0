//! The one-screen summary `spanwise validate` prints once a config has been built: for each
//! pipeline its receivers (where they would listen), its processors in the order they run (the
//! plugin file and its sha256, the failure policy, the pool, the limits, the plugin config in
//! short) and its exporters (where they send). Secrets stay out: of `keys:` and `headers:` only
//! the names are shown.

use crate::config::{
    Config, ExporterConfig, LimitsConfig, OnError, ProcessorConfig, QueueConfig, ReceiverConfig,
    RetryConfig, WasmProcessorConfig,
};
use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::net::SocketAddr;

/// The widest a plugin's config key is shown, in characters; longer ones are cut with `…`.
const CONFIG_WIDTH: usize = 180;

/// The summary of `config`, whose receivers would listen on `listening` (`(receiver, protocol,
/// address)`, as [`crate::service::Prepared::addresses`] gives them).
pub fn summary(config: &Config, listening: &[(&str, &'static str, SocketAddr)]) -> String {
    let mut out = String::new();
    for (what, protocol) in [("metrics", "metrics"), ("health check", "health")] {
        for (_, _, address) in listening.iter().filter(|(_, p, _)| *p == protocol) {
            let _ = writeln!(out, "{what} on {address}");
        }
    }
    for (id, pipeline) in &config.service.pipelines {
        let _ = writeln!(out, "pipeline {id}");
        out.push_str("  receivers\n");
        for receiver in &pipeline.receivers {
            let at: Vec<String> = listening
                .iter()
                .filter(|(r, _, _)| r == receiver)
                .map(|(_, protocol, address)| {
                    format!(
                        "{protocol} on {address}{}",
                        receiver_security(config, receiver, protocol)
                    )
                })
                .collect();
            let _ = writeln!(out, "    {receiver:<16} {}", at.join(", "));
        }
        out.push_str("  processors\n");
        for (n, processor) in pipeline.processors.iter().enumerate() {
            let label = format!("{}. {processor}", n + 1);
            match config.processors.get(processor) {
                Some(ProcessorConfig::Batch(batch)) => {
                    let _ = writeln!(
                        out,
                        "    {label:<19} batch: every {:?} or {} spans",
                        batch.timeout, batch.send_batch_size
                    );
                }
                Some(ProcessorConfig::MemoryLimiter(limiter)) => {
                    let _ = match limiter.limits(crate::pipeline::memory::available_memory()) {
                        Ok((soft, hard)) => writeln!(
                            out,
                            "    {label:<19} refuses data above {} MiB resident (hard limit {} MiB), measured every {:?}",
                            soft >> 20,
                            hard >> 20,
                            limiter.check_interval
                        ),
                        Err((field, reason)) => writeln!(out, "    {label:<19} {field}: {reason}"),
                    };
                }
                Some(ProcessorConfig::Wasm(wasm)) => {
                    let _ = writeln!(
                        out,
                        "    {label:<19} {}, pool {}",
                        plugin(wasm),
                        wasm.instances()
                    );
                    config_lines(&mut out, &wasm.config);
                }
                Some(ProcessorConfig::TailSampling(tail)) => {
                    let _ = writeln!(
                        out,
                        "    {label:<19} holds traces {:?} (at most {} traces, {} MiB){}",
                        tail.decision_wait,
                        tail.num_traces,
                        tail.max_buffer_mib,
                        if tail.record_policy {
                            ", records sampling.policy"
                        } else {
                            ""
                        }
                    );
                    let samplers = std::iter::once(("sampler", &tail.sampler))
                        .chain(tail.shadow.as_ref().map(|shadow| ("shadow", shadow)));
                    for (role, sampler) in samplers {
                        let _ = writeln!(out, "{:24}{role} {}", "", plugin(sampler));
                        config_lines(&mut out, &sampler.config);
                    }
                }
                None => {
                    let _ = writeln!(out, "    {label:<19} (not configured)");
                }
            }
        }
        out.push_str("  exporters\n");
        for exporter in &pipeline.exporters {
            let what = match config.exporters.get(exporter) {
                Some(ExporterConfig::File(file)) => {
                    format!("OTLP-JSON lines appended to {}", file.path.display())
                }
                Some(ExporterConfig::Debug(debug)) => {
                    format!("a summary on stderr ({:?})", debug.verbosity).to_lowercase()
                }
                Some(ExporterConfig::Otlp(otlp)) => format!(
                    "OTLP/gRPC to {} ({}, {} compression, timeout {:?}{}){}",
                    otlp.endpoint,
                    if otlp.endpoint.starts_with("https://")
                        || !(otlp.endpoint.contains("://") || otlp.tls.insecure)
                    {
                        "TLS"
                    } else {
                        "plain text"
                    },
                    format!("{:?}", otlp.compression).to_lowercase(),
                    otlp.timeout,
                    header_names(otlp.headers.keys()),
                    delivery(&otlp.retry_on_failure, &otlp.sending_queue)
                ),
                Some(ExporterConfig::OtlpHttp(http)) => format!(
                    "OTLP/HTTP ({}) to {} ({} compression, timeout {:?}{}){}",
                    format!("{:?}", http.encoding).to_lowercase(),
                    http.traces_endpoint
                        .clone()
                        .unwrap_or_else(|| format!("{}/v1/traces", http.endpoint)),
                    format!("{:?}", http.compression).to_lowercase(),
                    http.timeout,
                    header_names(http.headers.keys()),
                    delivery(&http.retry_on_failure, &http.sending_queue)
                ),
                None => "(not configured)".to_owned(),
            };
            let _ = writeln!(out, "    {exporter:<16} {what}");
        }
    }
    out
}

/// ` (TLS, client certificates, token from bearertokenauth)` for a protocol that has them.
fn receiver_security(config: &Config, receiver: &str, protocol: &str) -> String {
    let Some(ReceiverConfig::Otlp(otlp)) = config.receivers.get(receiver) else {
        return String::new();
    };
    let (tls, auth) = match protocol {
        "grpc" => match &otlp.protocols.grpc {
            Some(g) => (&g.tls, &g.auth),
            None => return String::new(),
        },
        "http" => match &otlp.protocols.http {
            Some(h) => (&h.tls, &h.auth),
            None => return String::new(),
        },
        _ => return String::new(),
    };
    let mut parts = Vec::new();
    if let Some(tls) = tls {
        parts.push("TLS".to_owned());
        if tls.client_ca_file.is_some() {
            parts.push("client certificates".to_owned());
        }
    }
    if let Some(auth) = auth {
        parts.push(format!("token from {}", auth.authenticator));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// `url.wasm sha256:0123456789ab, on_error drop, deadline 100ms, memory 64 MiB, keys: identifiers`.
fn plugin(wasm: &WasmProcessorConfig) -> String {
    let name = wasm.plugin.file_name().map_or_else(
        || wasm.plugin.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let sha = std::fs::read(&wasm.plugin)
        .map(|bytes| hex::encode(&Sha256::digest(&bytes)[..6]))
        .unwrap_or_else(|_| "unreadable".to_owned());
    let LimitsConfig {
        deadline, memory, ..
    } = wasm.limits;
    let on_error = match wasm.on_error {
        OnError::Drop => "drop (fail closed)",
        OnError::Pass => "pass (fail open)",
    };
    let mut text = format!(
        "{name} sha256:{sha}, on_error {on_error}, deadline {deadline:?}, memory {} MiB",
        memory >> 20
    );
    if !wasm.keys.is_empty() {
        let names: Vec<&str> = wasm.keys.keys().map(String::as_str).collect();
        let _ = write!(text, ", keys: {}", names.join(", "));
    }
    text
}

/// `; queue of 1000 batches, 10 senders; retries for up to 300s`.
fn delivery(retry: &RetryConfig, queue: &QueueConfig) -> String {
    let queue = if queue.enabled {
        let kept = queue.storage.as_ref().map_or_else(
            || " in memory".to_owned(),
            |dir| format!(" kept in {}", dir.display()),
        );
        format!(
            "queue of {} batches{kept}, {} senders",
            queue.queue_size, queue.num_consumers
        )
    } else {
        "no queue".to_owned()
    };
    let retry = match (retry.enabled, retry.max_elapsed_time.is_zero()) {
        (false, _) => "no retries".to_owned(),
        (true, true) => "retries without end".to_owned(),
        (true, false) => format!("retries for up to {:?}", retry.max_elapsed_time),
    };
    format!("; {queue}; {retry}")
}

fn header_names<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(", headers: {}", names.join(", "))
    }
}

/// A plugin's config: one line per top-level key, each in YAML's flow style.
fn config_lines(out: &mut String, config: &serde_json::Value) {
    match config {
        serde_json::Value::Object(fields) if !fields.is_empty() => {
            for (key, value) in fields {
                let _ = writeln!(out, "{:24}{key}: {}", "", compact(value));
            }
        }
        serde_json::Value::Object(_) | serde_json::Value::Null => {}
        other => {
            let _ = writeln!(out, "{:24}{}", "", compact(other));
        }
    }
}

/// `value` on one line in YAML's flow style, cut at [`CONFIG_WIDTH`] characters.
fn compact(value: &serde_json::Value) -> String {
    let mut text = String::new();
    flow(value, &mut text);
    match text.char_indices().nth(CONFIG_WIDTH) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn flow(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
            if plain {
                out.push_str(s);
            } else {
                out.push_str(&Value::String(s.clone()).to_string());
            }
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, out);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (key, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push_str(": ");
                flow(item, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_is_shown_in_flow_style_and_cut() {
        let value = serde_json::json!({
            "rates": [{"name": "errors", "when": {"status_code": "ERROR"}, "percentage": 50}],
            "note": "a b",
        });
        assert_eq!(
            compact(&value),
            r#"{note: "a b", rates: [{name: errors, percentage: 50, when: {status_code: ERROR}}]}"#
        );
        let long = serde_json::json!({ "x": "y".repeat(500) });
        let shown = compact(&long);
        assert_eq!(shown.chars().count(), CONFIG_WIDTH + 1);
        assert!(shown.ends_with('…'));
    }
}
