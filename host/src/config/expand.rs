//! `${env:VAR}`, `${VAR}` and `${VAR:-default}` expansion in config values, as the collector
//! does it: in string values after parsing, never in keys; `$$` is a literal `$`. A value that
//! is one whole `${...}` is re-read as YAML, so `${PORT}` can be a number. A variable that is not
//! set and has no default is an error that names the key and the variable: an empty secret must
//! never slip through.

use serde_yaml::Value;

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
                // Only exact numbers and booleans change type: `0042` or a 30-digit secret stays
                // a string rather than losing digits to a float.
                match serde_yaml::from_str::<Value>(&expanded) {
                    Ok(Value::Number(n)) if n.to_string() == expanded => Value::Number(n),
                    Ok(Value::Bool(b)) if expanded == "true" || expanded == "false" => {
                        Value::Bool(b)
                    }
                    _ => Value::String(expanded),
                }
            } else {
                Value::String(expanded)
            };
            Ok(())
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand(item, &format!("{path}[{i}]"), env)?;
            }
            Ok(())
        }
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let key = match key {
                    Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                };
                let child = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                expand(item, &child, env)?;
            }
            Ok(())
        }
        Value::Tagged(tagged) => expand(&mut tagged.value, path, env),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
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
        let mut value: Value = serde_yaml::from_str(yaml).unwrap();
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
