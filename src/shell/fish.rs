//! fish: inside `'…'` both `\` and `'` are escapes, so POSIX quoting would
//! corrupt values with a backslash.

pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn backslashes_and_quotes_are_escaped() {
        assert_eq!(quote(r"a\b'c"), r"'a\\b\'c'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$x\n"), "'$x\n'");
    }
}
