//! `${env:VAR}`, `${VAR}` and `${VAR:-default}` expansion in config values, as the collector
//! does it: in string values after parsing, never in keys; `$$` is a literal `$`. A value that
//! is one whole `${...}` is re-read as YAML, so `${PORT}` can be a number. A variable that is not
//! set and has no default is an error that names the key and the variable: an empty secret must
//! never slip through.

use serde_json::Value;

/// Expand every string value under `value`; `path` is the dotted key of `value` for errors.
pub fn expand(
    value: &mut Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), (String, String)> {
    match value {
        Value::String(text) => {
            if !text.contains('$') {
                return Ok(());
            }
            let whole =
                text.starts_with("${") && text.ends_with('}') && text.matches("${").count() == 1;
            let expanded = expand_str(text, env).map_err(|reason| (path.to_owned(), reason))?;
            *value = if whole && !expanded.is_empty() {
                retyped(expanded)
            } else {
                Value::String(expanded)
            };
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand(item, &format!("{path}[{i}]"), env)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                expand(item, &child, env)?;
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// The value of a whole `${...}` reference: only exact numbers and booleans change type, so
/// `0042`, `1e3` or a 30-digit secret stay strings rather than losing digits to a float, while
/// `4318` and `0.5` become numbers.
fn retyped(expanded: String) -> Value {
    if expanded == "true" || expanded == "false" {
        return Value::Bool(expanded == "true");
    }
    if let Ok(n) = expanded.parse::<i64>()
        && n.to_string() == expanded
    {
        return Value::Number(n.into());
    }
    if let Ok(n) = expanded.parse::<u64>()
        && n.to_string() == expanded
    {
        return Value::Number(n.into());
    }
    if let Some(n) = expanded
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        && n.to_string() == expanded
    {
        return Value::Number(n);
    }
    Value::String(expanded)
}

fn expand_str(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("${") {
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
            out.push_str(&lookup(&after[..end], env)?);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup(reference: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let reference = reference.strip_prefix("env:").unwrap_or(reference);
    let (name, default) = match reference.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (reference, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{reference:?} is not a variable reference: use ${{env:NAME}} or ${{NAME:-default}}"
        ));
    }
    match (env(name), default) {
        (Some(value), _) => Ok(value),
        (None, Some(default)) => Ok(default.to_owned()),
        (None, None) => Err(format!(
            "environment variable {name} is not set (give a default with ${{{name}:-default}})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("4318".into()),
            "HOST" => Some("127.0.0.1".into()),
            "LONG" => Some("123456789012345678901234567890".into()),
            _ => None,
        }
    }

    fn run(yaml: &str) -> Result<Value, (String, String)> {
        let mut value = crate::config::yaml::parse(yaml).unwrap().unwrap().value;
        expand(&mut value, "", &env)?;
        Ok(value)
    }

    #[test]
    fn expands_env_and_defaults() {
        let v =
            run("a: ${env:HOST}:${PORT}\nb: ${PORT}\nc: ${MISSING:-fallback}\nd: $$5\n").unwrap();
        assert_eq!(v["a"], Value::String("127.0.0.1:4318".into()));
        assert_eq!(
            v["b"],
            Value::Number(4318.into()),
            "a whole reference is re-read as YAML"
        );
        assert_eq!(v["c"], Value::String("fallback".into()));
        assert_eq!(v["d"], Value::String("$5".into()));
        let v = run("k: ${LONG}\n").unwrap();
        assert_eq!(
            v["k"],
            Value::String("123456789012345678901234567890".into()),
            "no digits lost"
        );
    }

    #[test]
    fn unset_variable_names_key_and_variable() {
        let (key, reason) =
            run("processors:\n  wasm/x:\n    keys:\n      k: ${env:SECRET}\n").unwrap_err();
        assert_eq!(key, "processors.wasm/x.keys.k");
        assert!(reason.contains("SECRET is not set"), "{reason}");
    }
}
