//! PowerShell: a verbatim string `'…'`. PowerShell treats the typographic
//! single quotes U+2018–U+201B as quotes too, so each of the five is
//! doubled, or it would end the string early.

fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if is_single_quote(c) {
            out.push(c);
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
    fn every_single_quote_character_is_doubled() {
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(
            quote("\u{2019}x\u{2018}"),
            "'\u{2019}\u{2019}x\u{2018}\u{2018}'"
        );
        assert_eq!(quote("$env:X `n \"\u{201C}"), "'$env:X `n \"\u{201C}'");
    }
}
