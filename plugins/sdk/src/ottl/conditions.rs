//! The conditions of one context, parsed and compiled at `configure`.

use crate::ConfigError;
use spanwise_ottl::{Compiler, Context, Program, Source, parse_condition};

/// The conditions of `traces.span` or `traces.spanevent`, and the sources they read.
#[derive(Debug)]
pub struct Conditions {
    /// In config order.
    pub list: Vec<Compiled>,
    /// What they read, in slot order.
    pub sources: Vec<Source>,
    /// For each source, whether its string values are all the conditions need
    /// ([`spanwise_ottl::Compiler::strings_only`]).
    pub strings_only: Vec<bool>,
}

/// One condition.
#[derive(Debug)]
pub struct Compiled {
    /// Where it is in the config: `traces.span[0]`.
    pub field: String,
    /// Its text.
    pub text: String,
    /// Its compiled form.
    pub program: Program,
}

impl Conditions {
    /// Parse and compile `texts`, the list at `field` (`traces.span`). An error names the
    /// condition by its index and its text, and a syntax error also the column:
    /// `traces.span[1]: "name = 1": column 6: ...`.
    pub fn compile(context: Context, field: &str, texts: &[String]) -> Result<Self, ConfigError> {
        Self::compile_fields(
            context,
            texts
                .iter()
                .enumerate()
                .map(|(i, text)| (format!("{field}[{i}]"), text.as_str())),
        )
    }

    /// Parse and compile conditions given with the field each is at (`rules[0].condition`).
    pub fn compile_fields<'a>(
        context: Context,
        fields: impl IntoIterator<Item = (String, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let mut compiler = Compiler::new(context);
        let mut list = Vec::new();
        for (field, text) in fields {
            let condition = parse_condition(text).map_err(|e| {
                ConfigError::new(
                    &field,
                    format!("{text:?}: column {}: {}", e.column, e.message),
                )
            })?;
            let program = compiler
                .compile(&condition)
                .map_err(|e| ConfigError::new(&field, format!("{text:?}: {e}")))?;
            list.push(Compiled {
                field,
                text: text.to_owned(),
                program,
            });
        }
        let sources = compiler.sources().to_vec();
        let strings_only = (0..sources.len())
            .map(|slot| compiler.strings_only(slot))
            .collect();
        Ok(Self {
            list,
            sources,
            strings_only,
        })
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
