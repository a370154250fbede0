//! The collector `redaction` processor's rules, applied to a [`Working`] set holding every
//! attribute of a level: remove keys that are not allowed, mask values whose key or content is
//! blocked, leave ignored keys and allowed values alone, and say what was done in
//! `redaction.*` attributes.

use crate::config::{self, Digest, LevelName, RedactionConfig};
use crate::digest::digests;
use crate::scan::{Joined, Scan};
use crate::working::{Val, Working};
use regex::Regex;
use spanwise_sdk::value::AttrValue;
use spanwise_sdk::{ConfigError, Level, SpanBatch, StrField};
use std::borrow::Cow;
use std::collections::HashSet;

const REDACTED_KEYS: &str = "redaction.redacted.keys";
const REDACTED_COUNT: &str = "redaction.redacted.count";
const MASKED_KEYS: &str = "redaction.masked.keys";
const MASKED_COUNT: &str = "redaction.masked.count";
const ALLOWED_KEYS: &str = "redaction.allowed.keys";
const ALLOWED_COUNT: &str = "redaction.allowed.count";
const IGNORED_COUNT: &str = "redaction.ignored.count";

/// How much the redaction says about itself on each attribute map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// Nothing.
    Silent,
    /// Counts.
    Info,
    /// Counts and the keys (sorted, comma-separated).
    Debug,
}

/// The compiled `redaction` block.
#[derive(Debug)]
pub struct Redaction {
    allow_all_keys: bool,
    allowed_keys: HashSet<String>,
    ignored_keys: HashSet<String>,
    ignored_key_patterns: Vec<Regex>,
    blocked_key_patterns: Vec<Regex>,
    blocked_values: Vec<Scan>,
    allowed_values: Vec<Regex>,
    digest: Digest,
    redact_all_types: bool,
    summary: Summary,
    whole_value: Regex,
    /// The attribute levels it applies to.
    pub levels: Vec<Level>,
    /// The string fields whose values it masks.
    pub fields: Vec<StrField>,
}

/// What the key rules say of a key, on every row.
enum KeyRule {
    /// Left alone (`ignored_keys`).
    Ignored,
    /// Removed: not an allowed key.
    Redacted,
    /// Kept, subject to the value rules; `whole`: masked in whole (`blocked_key_patterns`).
    Values { whole: bool },
}

/// What the redaction did in one batch, for the counters.
#[derive(Debug, Default)]
pub struct Counts {
    /// Attributes removed because their key is not allowed.
    pub redacted: u64,
    /// Attributes whose value was masked, in whole or in part.
    pub masked: u64,
    /// Attributes kept because their value is allowed.
    pub allowed: u64,
    /// Attributes left alone because their key is ignored.
    pub ignored: u64,
}

impl Redaction {
    /// Compile the block; errors name `redaction.FIELD`.
    pub fn compile(c: &RedactionConfig) -> Result<Self, ConfigError> {
        let at = |field: &str| format!("redaction.{field}");
        if c.hmac_key.is_some() {
            return Err(ConfigError::new(
                at("hmac_key"),
                "spanwise keeps keys out of plugins: put the key in the processor's `keys:` block (as ${env:...}) and name it here with `key_name`",
            ));
        }
        if c.url_sanitizer.is_some() {
            return Err(ConfigError::new(
                at("url_sanitizer"),
                "is not supported here: the `url` plugin strips query strings and collapses ids",
            ));
        }
        if c.db_sanitizer.is_some() {
            return Err(ConfigError::new(at("db_sanitizer"), "is not supported"));
        }
        let summary = match c.summary.as_deref() {
            None | Some("" | "silent") => Summary::Silent,
            Some("info") => Summary::Info,
            Some("debug") => Summary::Debug,
            Some(other) => {
                return Err(ConfigError::new(
                    at("summary"),
                    format!("{other:?} is not a summary level: give debug, info or silent"),
                ));
            }
        };
        let targets = config::targets(
            &at("apply_to"),
            &c.apply_to,
            &[
                LevelName::Resource,
                LevelName::Scope,
                LevelName::Span,
                LevelName::Event,
            ],
            true,
        )?;
        let mut allowed_keys: HashSet<String> = c.allowed_keys.iter().cloned().collect();
        // The collector keeps its own summary attributes even when they are not listed.
        for key in [
            REDACTED_KEYS,
            REDACTED_COUNT,
            MASKED_KEYS,
            MASKED_COUNT,
            IGNORED_COUNT,
        ] {
            allowed_keys.insert(key.to_owned());
        }
        Ok(Self {
            allow_all_keys: c.allow_all_keys,
            allowed_keys,
            ignored_keys: c.ignored_keys.iter().cloned().collect(),
            ignored_key_patterns: config::regexes(
                &at("ignored_key_patterns"),
                &c.ignored_key_patterns,
            )?,
            blocked_key_patterns: config::regexes(
                &at("blocked_key_patterns"),
                &c.blocked_key_patterns,
            )?,
            blocked_values: config::regexes(&at("blocked_values"), &c.blocked_values)?
                .into_iter()
                .map(Scan::new)
                .collect(),
            allowed_values: config::regexes(&at("allowed_values"), &c.allowed_values)?,
            digest: config::digest(
                &at("hash_function"),
                c.hash_function.as_deref(),
                Digest::Stars,
                &at("key_name"),
                c.key_name.as_deref(),
            )?,
            redact_all_types: c.redact_all_types,
            summary,
            whole_value: Regex::new(".*").expect("a valid pattern"),
            levels: targets.levels,
            fields: targets.fields,
        })
    }

    /// The key named for `hmac-sha256`, if any, to check at load.
    pub fn key_name(&self) -> Option<&str> {
        match &self.digest {
            Digest::HmacSha256(name) => Some(name),
            _ => None,
        }
    }

    /// Apply the rules to every row of `working`, which holds every attribute of its level.
    pub fn apply(&self, working: &mut Working, counts: &mut Counts) -> Result<(), String> {
        let rows = working.rows();
        // What a key's rules say, the same on every row: worked out once per column.
        let rules: Vec<KeyRule> = working
            .keys()
            .iter()
            .map(|key| self.key_rule(key))
            .collect();
        // Per row: the keys redacted, masked, allowed, ignored (in attribute order).
        let mut per_row: Vec<[Vec<usize>; 4]> = vec![Default::default(); rows];
        // Cells whose whole value is masked, and cells whose value the blocked patterns check,
        // with their texts (read once, here).
        let (mut whole, mut whole_texts) = (Vec::new(), Vec::new());
        let (mut checked, mut checked_texts) = (Vec::new(), Vec::new());
        for (row, lists) in per_row.iter_mut().enumerate() {
            for (column, rule) in rules.iter().enumerate() {
                let Some(value) = working.get(column, row) else {
                    continue;
                };
                match rule {
                    KeyRule::Ignored => lists[3].push(column),
                    KeyRule::Redacted => lists[0].push(column),
                    KeyRule::Values { whole: whole_key } => {
                        let text = self.text_of(value);
                        if self.allowed_values.iter().any(|r| r.is_match(&text)) {
                            lists[2].push(column);
                        } else if *whole_key {
                            lists[1].push(column);
                            whole.push((column, row));
                            whole_texts.push(text);
                        } else {
                            checked.push((column, row));
                            checked_texts.push(text);
                        }
                    }
                }
            }
        }

        let whole_masked = self.mask(&self.whole_value, &whole_texts)?;
        let masked = self.mask_values(&checked_texts)?;
        drop((whole_texts, checked_texts));
        for ((column, row), text) in whole.into_iter().zip(whole_masked) {
            working.set(column, row, Some(AttrValue::Str(text)));
        }
        for ((column, row), text) in checked.into_iter().zip(masked) {
            if let Some(text) = text {
                per_row[row][1].push(column);
                working.set(column, row, Some(AttrValue::Str(text)));
            }
        }

        for (row, lists) in per_row.into_iter().enumerate() {
            if lists.iter().all(Vec::is_empty) {
                continue;
            }
            let [redacted, masked, allowed, ignored] = lists;
            for &column in &redacted {
                working.set(column, row, None);
            }
            counts.redacted += redacted.len() as u64;
            counts.masked += masked.len() as u64;
            counts.allowed += allowed.len() as u64;
            counts.ignored += ignored.len() as u64;
            let names = |columns: &[usize]| -> Vec<String> {
                columns.iter().map(|&c| working.keys()[c].clone()).collect()
            };
            let (redacted, masked, allowed) = (names(&redacted), names(&masked), names(&allowed));
            self.summarize(working, row, redacted, Some(REDACTED_KEYS), REDACTED_COUNT);
            self.summarize(working, row, masked, Some(MASKED_KEYS), MASKED_COUNT);
            self.summarize(working, row, allowed, Some(ALLOWED_KEYS), ALLOWED_COUNT);
            let ignored = vec![String::new(); ignored.len()];
            self.summarize(working, row, ignored, None, IGNORED_COUNT);
        }
        Ok(())
    }

    /// Mask, in the chosen string fields (span names, status messages, event names), what the
    /// value rules find: `allowed_values` keep a value as it is, `blocked_values` mask the parts
    /// they match. Returns how many values changed.
    pub fn apply_to_fields<B: SpanBatch + ?Sized>(&self, batch: &mut B) -> Result<u64, String> {
        let mut changed = 0;
        for &field in &self.fields {
            let column = batch.str_field(field);
            let mut rows = Vec::new();
            let mut texts = Vec::new();
            for (row, text) in column.iter().enumerate() {
                if let Some(text) = text
                    && !self.allowed_values.iter().any(|r| r.is_match(text))
                {
                    rows.push(row);
                    texts.push(Cow::Borrowed(text));
                }
            }
            let masked = self.mask_values(&texts)?;
            let mut new = std::collections::HashMap::new();
            for (row, after) in rows.into_iter().zip(masked) {
                if let Some(after) = after {
                    new.insert(row as u32, after);
                }
            }
            changed += batch.map_str_field(field, |row, _| new.remove(&row)) as u64;
        }
        Ok(changed)
    }

    /// Each blocked pattern in turn, on what the patterns before it left: for each text, its
    /// masked form, or `None` when no pattern changed it. When no pattern matched any text the
    /// list is empty (most batches: no list as long as the texts is made then).
    fn mask_values(&self, texts: &[Cow<'_, str>]) -> Result<Vec<Option<String>>, String> {
        let mut now: Vec<Option<String>> = Vec::new();
        // The texts joined for one search, kept for the next pattern until a pattern changes
        // one of them.
        let mut joined: Option<Joined> = None;
        for scan in &self.blocked_values {
            let regex = scan.regex();
            let current = |i: usize| {
                now.get(i)
                    .and_then(|text| text.as_deref())
                    .unwrap_or(&texts[i])
            };
            let matching = if scan.joinable() && texts.len() >= 2 {
                let joined = joined.get_or_insert_with(|| Joined::new(texts.len(), current));
                scan.matching_joined(joined, current)
            } else {
                scan.matching(texts.len(), current)
            };
            if matching.is_empty() {
                continue;
            }
            let inputs: Vec<&str> = matching.iter().map(|&i| current(i)).collect();
            let masked = self.mask(regex, &inputs)?;
            if now.is_empty() {
                now.resize(texts.len(), None);
            }
            for (i, text) in matching.into_iter().zip(masked) {
                now[i] = Some(text);
            }
            joined = None;
        }
        // A replacement may spell what it replaced: only a different text is a change.
        for (text, original) in now.iter_mut().zip(texts) {
            if text.as_deref() == Some(&**original) {
                *text = None;
            }
        }
        Ok(now)
    }

    /// Replace every match of `regex` in each text by its digest (or `****`), as Go's
    /// `ReplaceAllStringFunc` does, hashing every match of every text in one host call.
    fn mask<T: AsRef<str>>(&self, regex: &Regex, texts: &[T]) -> Result<Vec<String>, String> {
        let mut ranges: Vec<Vec<(usize, usize)>> = Vec::with_capacity(texts.len());
        let mut inputs: Vec<&[u8]> = Vec::new();
        for text in texts {
            let text = text.as_ref();
            let found: Vec<(usize, usize)> = regex
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect();
            inputs.extend(found.iter().map(|&(s, e)| &text.as_bytes()[s..e]));
            ranges.push(found);
        }
        let mut replacements = digests(&self.digest, &inputs)?.into_iter();
        let mut out = Vec::with_capacity(texts.len());
        for (text, found) in texts.iter().zip(ranges) {
            let text = text.as_ref();
            let mut masked = String::with_capacity(text.len());
            let mut last = 0;
            for (start, end) in found {
                masked.push_str(&text[last..start]);
                masked.push_str(&replacements.next().unwrap_or_default());
                last = end;
            }
            masked.push_str(&text[last..]);
            out.push(masked);
        }
        Ok(out)
    }

    /// What the key rules say of `key`.
    fn key_rule(&self, key: &str) -> KeyRule {
        if self.ignored_keys.contains(key)
            || self.ignored_key_patterns.iter().any(|r| r.is_match(key))
        {
            KeyRule::Ignored
        } else if !self.allow_all_keys && !self.allowed_keys.contains(key) {
            KeyRule::Redacted
        } else {
            KeyRule::Values {
                whole: self.blocked_key_patterns.iter().any(|r| r.is_match(key)),
            }
        }
    }

    /// The text the value rules see: a string as it is, other types as their string form
    /// with `redact_all_types`, else empty.
    fn text_of<'v>(&self, value: Val<'v>) -> Cow<'v, str> {
        match value {
            Val::Str(s) => Cow::Borrowed(s),
            Val::Other(other) if self.redact_all_types => Cow::Owned(other.as_string()),
            Val::Other(_) => Cow::Borrowed(""),
        }
    }

    /// Add the summary attributes for one list, merging with what a row already holds, as the
    /// collector does.
    fn summarize(
        &self,
        working: &mut Working,
        row: usize,
        mut keys: Vec<String>,
        keys_attribute: Option<&str>,
        count_attribute: &str,
    ) {
        let mut count = keys.len() as i64;
        if count == 0 {
            return;
        }
        if self.summary == Summary::Debug
            && let Some(attribute) = keys_attribute
        {
            if let Some(Val::Str(existing)) = working.get_key(attribute, row)
                && !existing.is_empty()
            {
                keys.extend(existing.split(',').map(String::from));
            }
            keys.sort();
            let column = working.column_or_create(attribute);
            working.set(column, row, Some(AttrValue::Str(keys.join(","))));
        }
        if self.summary != Summary::Silent {
            if let Some(Val::Other(AttrValue::Int(existing))) =
                working.get_key(count_attribute, row)
            {
                count += existing;
            }
            let column = working.column_or_create(count_attribute);
            working.set(column, row, Some(AttrValue::Int(count)));
        }
    }
}
