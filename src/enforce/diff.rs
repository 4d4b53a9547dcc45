//! The difference between two JSON values, one line per change, each
//! named by its path (`Statement[0].Condition.Bool`): policy documents are
//! compared as JSON, so key order and spacing never show as a change.

use serde_json::Value;

/// `~ path: old -> new`, `+ path: new`, `- path: old`; nothing when equal.
pub fn difference(old: &Value, new: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    walk("", old, new, &mut lines);
    lines
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn shown(path: &str) -> &str {
    if path.is_empty() { "(whole)" } else { path }
}

fn walk(path: &str, old: &Value, new: &Value, lines: &mut Vec<String>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let path = child(path, key);
                match (old.get(key), new.get(key)) {
                    (Some(o), Some(n)) => walk(&path, o, n, lines),
                    (Some(o), None) => lines.push(format!("- {path}: {o}")),
                    (None, Some(n)) => lines.push(format!("+ {path}: {n}")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(old), Value::Array(new)) => {
            for i in 0..old.len().max(new.len()) {
                let path = format!("{path}[{i}]");
                match (old.get(i), new.get(i)) {
                    (Some(o), Some(n)) => walk(&path, o, n, lines),
                    (Some(o), None) => lines.push(format!("- {path}: {o}")),
                    (None, Some(n)) => lines.push(format!("+ {path}: {n}")),
                    (None, None) => {}
                }
            }
        }
        _ => lines.push(format!("~ {}: {old} -> {new}", shown(path))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_documents_differ_in_nothing_whatever_their_key_order() {
        let a: Value = serde_json::from_str(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*"}]}"#,
        )
        .unwrap_or_default();
        let b: Value = serde_json::from_str(
            r#"{ "Statement" : [ {"Action":"*", "Effect":"Allow"} ], "Version":"1" }"#,
        )
        .unwrap_or_default();
        assert_ne!(a, Value::Null);
        assert!(difference(&a, &b).is_empty());
    }

    #[test]
    fn each_change_is_named_by_its_path() {
        let old = json!({"Statement": [{"Effect": "Allow", "Condition": {"Bool": {"k": "false"}}}], "Old": 1});
        let new = json!({"Statement": [{"Effect": "Allow", "Condition": {"Bool": {"k": "true"}}}, {"Effect": "Deny"}], "New": 2});
        assert_eq!(
            difference(&old, &new),
            [
                "+ New: 2",
                "- Old: 1",
                "~ Statement[0].Condition.Bool.k: \"false\" -> \"true\"",
                "+ Statement[1]: {\"Effect\":\"Deny\"}",
            ]
        );
        assert_eq!(
            difference(&json!("a"), &json!("b")),
            ["~ (whole): \"a\" -> \"b\""]
        );
    }
}
