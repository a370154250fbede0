//! `url`: a spanwise processor that keeps URLs in spans useful and harmless.
//!
//! It strips query strings and fragments (where tokens and patient identifiers hide) from URL
//! attributes, optionally keeps a few named query parameters, collapses high-cardinality path
//! segments to a placeholder, and cuts long URLs. See `README.md` for the config reference.
//!
//! Counters it reports: `urls_rewritten`, `urls_truncated`, `urls_malformed` (left as they were),
//! `extract_unmatched`, `query_attributes_filtered`, `attributes_removed`, `span_names_rewritten`.

pub mod config;
pub mod rewrite;

use config::Config;
use rewrite::{Outcome, Rewriter};
use spanwise_sdk::{ConfigError, Level, ProcessError, Processor, SpanBatch, StrEdit, StrField};

/// The URL processor.
#[derive(Debug)]
pub struct UrlProcessor {
    config: Config,
    rewriter: Rewriter,
}

impl Processor for UrlProcessor {
    fn configure(json: &str) -> Result<Self, ConfigError> {
        let config = Config::parse(json)?;
        let rewriter = Rewriter::new(&config).map_err(|e| ConfigError::new("extract", e))?;
        Ok(Self { config, rewriter })
    }

    fn process<B: SpanBatch + ?Sized>(&mut self, batch: &mut B) -> Result<(), ProcessError> {
        let mut counts = Counts::default();
        for key in &self.config.attributes {
            let rewritten = batch.map_str_attribute(Level::Span, key, |_, value| {
                match self.rewriter.url(value) {
                    Outcome::Unchanged => None,
                    Outcome::Rewritten { text, truncated } => {
                        counts.truncated += u64::from(truncated);
                        Some(text)
                    }
                    Outcome::Malformed => {
                        counts.malformed += 1;
                        None
                    }
                    Outcome::Unmatched => {
                        counts.unmatched += 1;
                        None
                    }
                }
            });
            counts.rewritten += rewritten as u64;
        }
        for key in &self.config.query_attributes {
            let edited = batch.edit_str_attribute(Level::Span, key, |_, query| {
                match self.rewriter.query(query) {
                    Some(kept) => StrEdit::Set(kept),
                    None => StrEdit::Remove,
                }
            });
            counts.queries += (edited.set + edited.removed) as u64;
        }
        for key in &self.config.remove_attributes {
            counts.removed += batch.remove_attribute_everywhere(Level::Span, key) as u64;
        }
        if self.config.span_names {
            counts.names +=
                batch.map_str_field(StrField::Name, |_, name| self.rewriter.span_name(name)) as u64;
        }
        counts.report();
        Ok(())
    }
}

#[derive(Default)]
struct Counts {
    rewritten: u64,
    truncated: u64,
    malformed: u64,
    unmatched: u64,
    queries: u64,
    removed: u64,
    names: u64,
}

impl Counts {
    fn report(&self) {
        spanwise_sdk::count("urls_rewritten", self.rewritten);
        spanwise_sdk::count("urls_truncated", self.truncated);
        spanwise_sdk::count("urls_malformed", self.malformed);
        spanwise_sdk::count("extract_unmatched", self.unmatched);
        spanwise_sdk::count("query_attributes_filtered", self.queries);
        spanwise_sdk::count("attributes_removed", self.removed);
        spanwise_sdk::count("span_names_rewritten", self.names);
    }
}

spanwise_sdk::export_processor!(UrlProcessor);

#[cfg(test)]
mod tests;
