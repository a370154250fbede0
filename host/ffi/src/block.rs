//! Reading a processor's block: one plugin (the block of `processors.wasm/NAME`), or a chain of
//! them (`chain: [block, ...]`) run one after the other behind one crossing of the ABI.

use crate::guard::Failure;
use spanwise::config::WasmProcessorConfig;

/// One plugin of a processor: its id (for counters and messages), the key its block is at,
/// and the block.
pub(crate) struct Link {
    pub id: String,
    pub key: String,
    pub config: WasmProcessorConfig,
}

/// The block `block_json` of processor `id` (such as `spanwise/redact`), parsed and checked
/// without loading anything: its plugins, in order. An empty `id` makes the keys of errors
/// relative to the block (`limits.memory`, `chain.1.plugin`).
pub(crate) fn parse(id: &str, block_json: &str) -> Result<Vec<Link>, Failure> {
    let key = if id.is_empty() {
        String::new()
    } else {
        format!("processors.{id}")
    };
    let value: serde_json::Value = serde_json::from_str(block_json)
        .map_err(|e| Failure::invalid(keyed(&key, &format!("not JSON: {e}"))))?;
    let chain = match value.as_object().and_then(|block| block.get("chain")) {
        None => None,
        Some(chain) => {
            let block = value.as_object().expect("checked above");
            if let Some(other) = block.keys().find(|k| *k != "chain") {
                return Err(Failure::invalid(keyed(
                    &join(&key, other),
                    "a block with `chain` has nothing else: give each plugin its keys in its own \
                     entry of the chain",
                )));
            }
            match chain {
                serde_json::Value::Array(links) if !links.is_empty() => Some(links.clone()),
                _ => {
                    return Err(Failure::invalid(keyed(
                        &join(&key, "chain"),
                        "must be a list of one or more plugin blocks",
                    )));
                }
            }
        }
    };
    let one = |value: serde_json::Value, key: &str, id: String| {
        WasmProcessorConfig::from_value(value, key)
            .map(|config| Link {
                id,
                key: key.to_owned(),
                config,
            })
            .map_err(|(key, reason)| Failure::invalid(keyed(&key, &reason)))
    };
    match chain {
        None => Ok(vec![one(value, &key, id.to_owned())?]),
        Some(links) => links
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                let key = join(&key, &format!("chain.{i}"));
                one(value, &key, format!("{id}.chain.{i}"))
            })
            .collect(),
    }
}

/// `key.field`, or `field` when the key is empty.
fn join(key: &str, field: &str) -> String {
    if key.is_empty() {
        field.to_owned()
    } else {
        format!("{key}.{field}")
    }
}

/// `key: reason`, or the reason alone when the key is empty (the whole block).
pub(crate) fn keyed(key: &str, reason: &str) -> String {
    if key.is_empty() {
        reason.to_owned()
    } else {
        format!("{key}: {reason}")
    }
}
