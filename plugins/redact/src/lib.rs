//! `redact`: the masking processor. Patient and user identifiers must not leave the cluster in
//! clear text.
//!
//! It accepts the OpenTelemetry Collector's own vocabulary, so existing configs move over:
//! the `attributes` processor's `actions` (insert, update, upsert, delete, hash, extract,
//! convert) with `include` / `exclude`, and the `redaction` processor's block under
//! `redaction`. spanwise adds where each rule applies (`apply_to`: span, resource, scope, event
//! attributes) and keyed hashing (`hmac-sha256` through the host, which holds the key). See
//! `README.md` for the reference, and what happens to values of unexpected types.
//!
//! Counters: `inserted`, `updated`, `deleted`, `hashed`, `extracted`, `converted` (values the
//! actions changed), `redacted`, `masked`, `allowed`, `ignored` (attributes, by redaction).

pub mod actions;
pub mod config;
mod digest;
pub mod matcher;
pub mod redaction;
mod scan;
mod working;

use actions::Action;
use matcher::Matcher;
use redaction::Redaction;
use spanwise_sdk::{
    ConfigError, HashFunction, Level, ProcessError, Processor, SpanBatch, StrColumn,
};
use working::Working;

/// The masking processor.
#[derive(Debug)]
pub struct Redact {
    actions: Vec<Action>,
    matcher: Matcher,
    redaction: Option<Redaction>,
}

const LEVELS: [Level; 4] = [Level::Resource, Level::Scope, Level::Span, Level::Event];

impl Processor for Redact {
    fn configure(json: &str) -> Result<Self, ConfigError> {
        let config = config::parse(json)?;
        let mut actions = config
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| Action::compile(i, a))
            .collect::<Result<Vec<_>, _>>()?;
        let matcher = Matcher::compile(config.include.as_ref(), config.exclude.as_ref())?;
        let redaction = config
            .redaction
            .as_ref()
            .map(Redaction::compile)
            .transpose()?;
        actions::host_hashes(
            &mut actions,
            redaction.as_ref().map_or(&[], |r| &r.levels[..]),
        );
        if actions.is_empty() && redaction.is_none() {
            return Err(ConfigError::new(
                "",
                "has nothing to do: give `actions`, a `redaction` block, or both",
            ));
        }
        // A key named for HMAC must exist now, not at the first batch.
        let keyed = actions
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match &a.op {
                actions::Op::Hash(_, config::Digest::HmacSha256(name)) => {
                    Some((format!("actions[{i}].key_name"), name.as_str()))
                }
                _ => None,
            })
            .chain(
                redaction
                    .as_ref()
                    .and_then(Redaction::key_name)
                    .map(|name| ("redaction.key_name".to_owned(), name)),
            );
        for (field, name) in keyed {
            spanwise_sdk::keyed_hash(name, &StrColumn::new())
                .map_err(|reason| ConfigError::new(field, reason))?;
        }
        Ok(Self {
            actions,
            matcher,
            redaction,
        })
    }

    fn process<B: SpanBatch + ?Sized>(&mut self, batch: &mut B) -> Result<(), ProcessError> {
        if batch.is_empty() {
            return Ok(());
        }
        let selected = (!self.matcher.selects_all()).then(|| self.matcher.select(batch));
        let mut action_counts = actions::Counts::default();
        let mut redaction_counts = redaction::Counts::default();
        for level in LEVELS {
            let (host, actions): (Vec<&Action>, Vec<&Action>) = self
                .actions
                .iter()
                .filter(|a| a.levels.contains(&level))
                .partition(|a| a.host_levels.contains(&level));
            let redaction = self
                .redaction
                .as_ref()
                .filter(|r| r.levels.contains(&level));
            if actions.is_empty() && host.is_empty() && redaction.is_none() {
                continue;
            }
            let mut working = Working::load(
                batch,
                level,
                &keys_to_load(batch, level, &actions, redaction.is_some()),
            );
            if working.rows() == 0 {
                continue;
            }
            // Which rows of this level the actions may touch: a resource or scope when any of
            // its spans is selected, an event when its span is.
            let rows_selected: Option<Vec<bool>> = selected.as_ref().map(|spans| {
                if let Some(groups) = working.groups() {
                    let mut any = vec![false; working.rows()];
                    for (span, &group) in groups.iter().enumerate() {
                        any[group] |= spans[span];
                    }
                    return any;
                }
                let owners = match level {
                    Level::Event => batch.event_spans(),
                    Level::Link => batch.link_spans(),
                    _ => return spans.clone(),
                };
                owners.iter().map(|&s| spans[s as usize]).collect()
            });
            let select = |row: usize| rows_selected.as_ref().is_none_or(|s| s[row]);
            for action in actions {
                action
                    .apply(&mut working, &select, &mut action_counts)
                    .map_err(ProcessError::Internal)?;
            }
            if let Some(redaction) = redaction {
                redaction
                    .apply(&mut working, &mut redaction_counts)
                    .map_err(ProcessError::Internal)?;
            }
            working.write(batch);
            if !host.is_empty() {
                let rows: Vec<u32> = (0..working.rows())
                    .filter(|&r| select(r))
                    .map(|r| working.batch_row(r))
                    .collect();
                if !rows.is_empty() {
                    hash_in_host(batch, level, &host, &rows);
                }
            }
        }
        if let Some(redaction) = &self.redaction {
            redaction_counts.masked += redaction
                .apply_to_fields(batch)
                .map_err(ProcessError::Internal)?;
        }
        for (name, value) in [
            ("inserted", action_counts.inserted),
            ("updated", action_counts.updated),
            ("deleted", action_counts.deleted),
            ("hashed", action_counts.hashed),
            ("extracted", action_counts.extracted),
            ("converted", action_counts.converted),
            ("redacted", redaction_counts.redacted),
            ("masked", redaction_counts.masked),
            ("allowed", redaction_counts.allowed),
            ("ignored", redaction_counts.ignored),
        ] {
            spanwise_sdk::count(name, value);
        }
        Ok(())
    }
}

/// Record the `hash-attributes` edits of the actions the host runs on its own, on `rows` (one
/// per resource or scope at those levels): one edit per hash function. The host counts the
/// values it hashes in `hashed`.
fn hash_in_host<B: SpanBatch + ?Sized>(
    batch: &mut B,
    level: Level,
    actions: &[&Action],
    rows: &[u32],
) {
    let mut by_function: Vec<(HashFunction, Vec<&str>)> = Vec::new();
    for action in actions {
        let function = action
            .host_hash()
            .expect("only hash actions run in the host");
        match by_function.iter_mut().find(|(f, _)| *f == function) {
            Some((_, keys)) => keys.push(&action.key),
            None => by_function.push((function, vec![&action.key])),
        }
    }
    for (function, keys) in by_function {
        batch.hash_attributes(level, &keys, rows, &function);
    }
}

/// The keys of `level` to read: every key when redaction applies there (it decides about all
/// of them), else the keys the actions name and those their patterns match.
fn keys_to_load<B: SpanBatch + ?Sized>(
    batch: &B,
    level: Level,
    actions: &[&Action],
    everything: bool,
) -> Vec<String> {
    let patterns = actions.iter().any(|a| a.key_pattern().is_some());
    // The list of keys present costs a pass over every attribute; only patterns and redaction
    // need it. Named keys are read as they are (a key nobody has reads as absent everywhere).
    let present = if everything || patterns {
        Some(batch.attribute_keys(level))
    } else {
        None
    };
    if everything {
        return present.unwrap_or_default();
    }
    let mut keys: Vec<String> = Vec::new();
    let mut add = |key: &str| {
        let there = present.as_ref().is_none_or(|p| p.iter().any(|p| p == key));
        if there && !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
    };
    for action in actions {
        for key in action.keys() {
            add(key);
        }
        if let (Some(pattern), Some(present)) = (action.key_pattern(), &present) {
            for key in present.iter().filter(|k| pattern.is_match(k)) {
                add(key);
            }
        }
    }
    keys
}

spanwise_sdk::export_processor!(Redact);

#[cfg(test)]
mod tests;
