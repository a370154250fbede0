//! The plugin template in `README.md` is the crate `template/`, file for file: what a plugin
//! author copies from the page builds, and `cargo test` runs its tests (natively here, and the
//! test components build it for `wasm32-wasip2`).

use std::path::Path;

/// The fenced code blocks of a Markdown text, with their info strings.
fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some(_)) => blocks.extend(current.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

#[test]
fn the_readme_shows_the_template_crate_as_it_is() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(sdk.join("README.md")).unwrap();
    let blocks = code_blocks(&readme);
    for (info, file) in [("toml", "Cargo.toml"), ("rust", "src/lib.rs")] {
        let text = std::fs::read_to_string(sdk.join("template").join(file)).unwrap();
        assert!(
            blocks.iter().any(|(i, body)| i == info && *body == text),
            "README.md has no ```{info} block equal to template/{file}; copy the file into the page"
        );
    }
}
