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
use spanwise_sdk::{ConfigError, Level, ProcessError, Processor, SpanBatch, StrColumn, StrField};

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
            self.rewrite_urls(batch, key, &mut counts);
        }
        for key in &self.config.query_attributes {
            self.filter_queries(batch, key, &mut counts);
        }
        for key in &self.config.remove_attributes {
            let present = batch.str_attribute(Level::Span, key);
            let rows = present_rows(&present);
            counts.removed += rows.len() as u64;
            if !rows.is_empty() {
                batch.remove_attribute(Level::Span, key, &rows);
            }
        }
        if self.config.span_names {
            self.rewrite_names(batch, &mut counts);
        }
        counts.report();
        Ok(())
    }
}

impl UrlProcessor {
    fn rewrite_urls<B: SpanBatch + ?Sized>(&self, batch: &mut B, key: &str, counts: &mut Counts) {
        let values = batch.str_attribute(Level::Span, key);
        let mut rows = Vec::new();
        let mut rewritten = StrColumn::new();
        for (row, value) in values.iter().enumerate() {
            let Some(value) = value else { continue };
            match self.rewriter.url(value) {
                Outcome::Unchanged => {}
                Outcome::Rewritten { text, truncated } => {
                    rows.push(row as u32);
                    rewritten.push(Some(&text));
                    counts.rewritten += 1;
                    counts.truncated += u64::from(truncated);
                }
                Outcome::Malformed => counts.malformed += 1,
                Outcome::Unmatched => counts.unmatched += 1,
            }
        }
        if !rows.is_empty() {
            batch.set_str_attribute(Level::Span, key, &rows, &rewritten);
        }
    }

    fn filter_queries<B: SpanBatch + ?Sized>(&self, batch: &mut B, key: &str, counts: &mut Counts) {
        let values = batch.str_attribute(Level::Span, key);
        let (mut set_rows, mut removed_rows) = (Vec::new(), Vec::new());
        let mut kept = StrColumn::new();
        for (row, value) in values.iter().enumerate() {
            let Some(value) = value else { continue };
            match self.rewriter.query(value) {
                Some(filtered) if filtered == value => {}
                Some(filtered) => {
                    set_rows.push(row as u32);
                    kept.push(Some(&filtered));
                }
                None => removed_rows.push(row as u32),
            }
        }
        counts.queries += (set_rows.len() + removed_rows.len()) as u64;
        if !set_rows.is_empty() {
            batch.set_str_attribute(Level::Span, key, &set_rows, &kept);
        }
        if !removed_rows.is_empty() {
            batch.remove_attribute(Level::Span, key, &removed_rows);
        }
    }

    fn rewrite_names<B: SpanBatch + ?Sized>(&self, batch: &mut B, counts: &mut Counts) {
        let names = batch.str_field(StrField::Name);
        let mut rows = Vec::new();
        let mut rewritten = StrColumn::new();
        for (row, name) in names.iter().enumerate() {
            if let Some(new) = name.and_then(|n| self.rewriter.span_name(n)) {
                rows.push(row as u32);
                rewritten.push(Some(&new));
            }
        }
        counts.names += rows.len() as u64;
        if !rows.is_empty() {
            batch.set_str_field(StrField::Name, &rows, &rewritten);
        }
    }
}

fn present_rows(column: &StrColumn) -> Vec<u32> {
    (0..column.len() as u32)
        .filter(|&row| column.present[row as usize] != 0)
        .collect()
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
