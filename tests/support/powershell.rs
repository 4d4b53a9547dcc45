//! Checks the PowerShell that `mfa` prints, without PowerShell.
//!
//! PowerShell cannot be installed where the tests run, so the emitted script is
//! parsed with the tree-sitter PowerShell grammar and then held to the only two
//! statement forms the tool prints, one per line:
//!
//! ```text
//! $env:NAME = '<verbatim string>'
//! Remove-Item -LiteralPath 'Env:NAME' -ErrorAction SilentlyContinue
//! ```
//!
//! The grammar is not PowerShell, and it differs exactly where it matters
//! most: in a verbatim (single-quoted) string, real PowerShell treats five
//! characters as the quote -- U+0027 ', U+2018 ‘, U+2019 ’, U+201A ‚ and
//! U+201B ‛ -- while the grammar only knows the ASCII one (its token is
//! `'` (`[^']+` | `''`)* `'`). A value holding a lone ’ therefore looks like
//! one clean string to tree-sitter, but real PowerShell would end the string
//! there and run whatever follows as code. So every verbatim string is decoded
//! here a second time with PowerShell's own lexer rule, and the two views of
//! where the string ends must agree.
//!
//! The decoded values are returned so that tests can compare them with the
//! bytes the tool was given.

// Each integration-test binary that pulls in `support` uses only part of it.
#![allow(dead_code)]

use tree_sitter::{Node, Parser, Tree};

/// One statement of a script printed by `mfa`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PsStatement {
    /// `$env:NAME = '<verbatim string>'`, with the string decoded.
    Set { name: String, value: String },
    /// `Remove-Item -LiteralPath 'Env:NAME' -ErrorAction SilentlyContinue`
    Remove { name: String },
}

/// The characters that open and close a verbatim string in real PowerShell
/// (`CharExtensions.IsSingleQuote` in its tokenizer).
const VERBATIM_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

fn is_verbatim_quote(c: char) -> bool {
    VERBATIM_QUOTES.contains(&c)
}

/// Parses a script printed by `mfa` and returns its statements in order.
///
/// Fails, naming the offending text, when the grammar reports an error or a
/// missing node anywhere, when a statement is not exactly one of the two forms
/// (spacing included), or when a verbatim string would end somewhere else in
/// real PowerShell than where the grammar ends it.
pub fn parse_powershell(script: &str) -> Result<Vec<PsStatement>, String> {
    // The grammar's `statement_list` is `repeat1`, so it reports an ERROR for
    // a script with no statement at all; PowerShell runs such a script as a
    // no-op, and the tool prints nothing when there is nothing to change.
    if script.chars().all(is_line_space) {
        return Ok(Vec::new());
    }

    let tree = parse_tree(script)?;
    let root = tree.root_node();
    if let Some(bad) = first_error_or_missing(root) {
        return Err(describe_error(script, bad));
    }

    // `program` is an optional `param_block` and a `statement_list`; a
    // comment before the first statement also lands here.
    expect_kind(root, "program", script)?;
    if let Some(extra) = root
        .children(&mut root.walk())
        .find(|n| n.kind() != "statement_list")
    {
        return Err(format!("unexpected {}", describe(script, extra)));
    }
    let list = child(root, 0, script)?;
    expect_kind(list, "statement_list", script)?;

    let mut statements = Vec::new();
    // End of the previous statement: the text between two statements is not
    // part of any node (line continuations and comments can hide there), so
    // it is checked by hand.
    let mut prev_end = 0;
    for i in 0..list.child_count() {
        let node = child(list, i, script)?;
        // Anything else here (`;` as an `empty_statement`, a comment, a
        // trailing `&`, an `if`, a function...) is not something the tool
        // prints.
        expect_kind(node, "pipeline", script)?;
        check_gap(script, prev_end, node.start_byte(), i > 0)?;
        statements.push(statement(script, node)?);
        prev_end = node.end_byte();
    }
    check_gap(script, prev_end, script.len(), false)?;
    Ok(statements)
}

fn parse_tree(script: &str) -> Result<Tree, String> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .map_err(|e| format!("cannot load the tree-sitter PowerShell grammar: {e}"))?;
    parser
        .parse(script, None)
        .ok_or_else(|| "tree-sitter returned no tree".to_string())
}

/// The first ERROR or MISSING node in document order (`outer`), and the
/// innermost one inside it (`inner`, possibly the same node): tree-sitter
/// often wraps a whole statement, or the whole script, in an ERROR whose
/// children pin the problem down further.
struct SyntaxError<'t> {
    outer: Node<'t>,
    inner: Node<'t>,
}

fn first_error_or_missing(root: Node<'_>) -> Option<SyntaxError<'_>> {
    fn is_bad(node: Node<'_>) -> bool {
        node.is_error() || node.is_missing()
    }
    // Every node is visited: `has_error` cannot be used to prune, because a
    // one-character ERROR leaf (`UNEXPECTED '\0'`) reports `has_error() ==
    // false` itself (tree-sitter keeps no error cost on small inline leaves).
    let mut outer = None;
    let mut cursor = root.walk();
    'walk: loop {
        let node = cursor.node();
        if is_bad(node) {
            outer = Some(node);
            break;
        }
        if cursor.goto_first_child() {
            continue;
        }
        // Next sibling, or the next sibling of the nearest ancestor that has one.
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    // Belt and braces: should the tree claim an error we could not see,
    // refuse it anyway.
    let outer = match outer {
        Some(node) => node,
        None if root.has_error() => root,
        None => return None,
    };
    // Inside an ERROR the depth is small; plain recursion will do.
    fn innermost(node: Node<'_>) -> Option<Node<'_>> {
        node.children(&mut node.walk())
            .find_map(innermost)
            .or_else(|| is_bad(node).then_some(node))
    }
    let inner = innermost(outer).unwrap_or(outer);
    Some(SyntaxError { outer, inner })
}

fn describe_error(script: &str, error: SyntaxError<'_>) -> String {
    let SyntaxError { outer, inner } = error;
    let what = if inner.is_missing() {
        format!("missing `{}`", inner.kind())
    } else {
        "syntax error".to_string()
    };
    let mut message = format!("tree-sitter-powershell: {what} {}", locate(script, inner));
    if outer != inner {
        message.push_str(&format!(", within ERROR {}", locate(script, outer)));
    }
    // What the parser did make sense of inside the ERROR, e.g. an
    // unterminated string shows as `left_assignment_expression,
    // assignement_operator, ', simple_name, ...`.
    if outer.is_error() {
        let parts: Vec<&str> = outer
            .children(&mut outer.walk())
            .take(8)
            .map(|n| n.kind())
            .collect();
        message.push_str(&format!(" (parsed inside it: [{}])", parts.join(", ")));
    }
    message
}

/// Whitespace the tool may put around statements.
fn is_line_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Text between statements must be blank and, between two statements,
/// include a line break: the tool prints one statement per line.
fn check_gap(script: &str, start: usize, end: usize, needs_newline: bool) -> Result<(), String> {
    let gap = text(script, start, end)?;
    if !gap.chars().all(is_line_space) || (needs_newline && !gap.contains('\n')) {
        return Err(format!(
            "expected only a line break between statements, got {}",
            snippet(gap)
        ));
    }
    Ok(())
}

/// One `pipeline` node: either `$env:NAME = '...'` or the `Remove-Item` line.
fn statement(script: &str, pipeline: Node<'_>) -> Result<PsStatement, String> {
    let first = only_child(pipeline, script)?;
    match first.kind() {
        "assignment_expression" => assignment(script, first),
        "pipeline_chain" => remove_item(script, first),
        _ => Err(format!(
            "unexpected statement {}",
            describe(script, pipeline)
        )),
    }
}

/// `$env:NAME = '<verbatim string>'`
fn assignment(script: &str, node: Node<'_>) -> Result<PsStatement, String> {
    if node.child_count() != 3 {
        // A fourth child is, e.g., a trailing comment.
        return Err(format!("unexpected assignment {}", describe(script, node)));
    }
    let left = child(node, 0, script)?;
    let op = child(node, 1, script)?;
    let value = node
        .child_by_field_name("value")
        .ok_or_else(|| format!("assignment without a value {}", describe(script, node)))?;

    expect_kind(left, "left_assignment_expression", script)?;
    let variable = descend(left, &EXPRESSION_LADDER, "variable", script)?;
    // `${env:NAME}` is a `variable` with a `braced_variable` child.
    if variable.child_count() != 0 {
        return Err(format!(
            "unexpected variable {}",
            describe(script, variable)
        ));
    }
    let var_text = node_text(script, variable)?;
    let name = var_text.strip_prefix("$env:").ok_or_else(|| {
        format!(
            "assignment to something other than $env:NAME {}",
            describe(script, variable)
        )
    })?;
    check_name(name, script, variable)?;

    if op.kind() != "assignement_operator" || node_text(script, op)? != "=" {
        // `+=`, `??=`... The misspelling is the grammar's own node kind.
        return Err(format!("expected `=`, got {}", describe(script, op)));
    }

    // The right side is a whole `_statement` in the grammar; only a lone
    // verbatim string, with no operator, cast, pipe or redirection, is
    // accepted. Each level of the ladder must have exactly one child.
    expect_kind(value, "pipeline", script)?;
    let chain = only_child(value, script)?;
    expect_kind(chain, "pipeline_chain", script)?;
    let literal = descend(
        only_child(chain, script)?,
        &STRING_LADDER,
        "verbatim_string_characters",
        script,
    )?;
    let decoded = decode_verbatim(script, literal)?;

    // Spacing and everything else outside the string must be exactly what
    // the tool prints: this also catches extras that no node shows, such as a
    // backtick line continuation between `=` and the string.
    let raw = node_text(script, literal)?;
    let expected = format!("$env:{name} = {raw}");
    if node_text(script, node)? != expected {
        return Err(format!(
            "assignment is not in the form `$env:NAME = '...'`: {}",
            describe(script, node)
        ));
    }
    Ok(PsStatement::Set {
        name: name.to_string(),
        value: decoded,
    })
}

/// `Remove-Item -LiteralPath 'Env:NAME' -ErrorAction SilentlyContinue`
fn remove_item(script: &str, chain: Node<'_>) -> Result<PsStatement, String> {
    // A `pipeline_chain` with a single `command` child: no `| ...` tail, no
    // redirection, no `&&`.
    let command = only_child(chain, script)?;
    expect_kind(command, "command", script)?;
    // `& Remove-Item` or `. Remove-Item` would add a third child.
    if command.child_count() != 2 {
        return Err(format!("unexpected command {}", describe(script, command)));
    }
    let name_node = child(command, 0, script)?;
    let elements = child(command, 1, script)?;
    expect_kind(name_node, "command_name", script)?;
    expect_kind(elements, "command_elements", script)?;
    if node_text(script, name_node)? != "Remove-Item" {
        return Err(format!(
            "only Remove-Item is expected as a command, got {}",
            describe(script, name_node)
        ));
    }

    // The grammar splits the arguments into separators (" " or ":"),
    // parameters, expressions and bare `generic_token`s.
    let kinds: Vec<&str> = elements
        .children(&mut elements.walk())
        .map(|n| n.kind())
        .collect();
    let expected_kinds = [
        "command_argument_sep",
        "command_parameter",
        "command_argument_sep",
        "array_literal_expression",
        "command_argument_sep",
        "command_parameter",
        "command_argument_sep",
        "generic_token",
    ];
    if kinds != expected_kinds {
        return Err(format!(
            "Remove-Item arguments are not `-LiteralPath '...' -ErrorAction SilentlyContinue`: {}",
            describe(script, elements)
        ));
    }
    let path_node = descend(
        child(elements, 3, script)?,
        &ARGUMENT_LADDER,
        "verbatim_string_characters",
        script,
    )?;
    let path = decode_verbatim(script, path_node)?;
    let name = path.strip_prefix("Env:").ok_or_else(|| {
        format!(
            "Remove-Item path is not Env:NAME {}",
            describe(script, path_node)
        )
    })?;
    check_name(name, script, path_node)?;

    let raw = node_text(script, path_node)?;
    let expected = format!("Remove-Item -LiteralPath {raw} -ErrorAction SilentlyContinue");
    if node_text(script, command)? != expected {
        return Err(format!(
            "command is not in the form `{}`: {}",
            "Remove-Item -LiteralPath 'Env:NAME' -ErrorAction SilentlyContinue",
            describe(script, command)
        ));
    }
    Ok(PsStatement::Remove {
        name: name.to_string(),
    })
}

/// The precedence levels the grammar wraps around a plain operand, outermost
/// first. A level that has more than one child holds an operator.
const EXPRESSION_LADDER: [&str; 10] = [
    "left_assignment_expression",
    "logical_expression",
    "bitwise_expression",
    "comparison_expression",
    "additive_expression",
    "multiplicative_expression",
    "format_expression",
    "range_expression",
    "array_literal_expression",
    "unary_expression",
];
const STRING_LADDER: [&str; 10] = [
    "logical_expression",
    "bitwise_expression",
    "comparison_expression",
    "additive_expression",
    "multiplicative_expression",
    "format_expression",
    "range_expression",
    "array_literal_expression",
    "unary_expression",
    // `string_literal` also wraps `expandable_string_literal` ("...") and the
    // here-strings, which are refused by the `target` kind.
    "string_literal",
];
const ARGUMENT_LADDER: [&str; 3] = [
    "array_literal_expression",
    "unary_expression",
    "string_literal",
];

/// Walks down from `node` through single-child wrappers listed in `ladder`
/// until a node of kind `target`. Any other kind, or a wrapper with more
/// than one child (an operator, a comment), is an error.
fn descend<'t>(
    node: Node<'t>,
    ladder: &[&str],
    target: &str,
    script: &str,
) -> Result<Node<'t>, String> {
    let mut node = node;
    loop {
        if node.kind() == target {
            return Ok(node);
        }
        if !ladder.contains(&node.kind()) {
            return Err(format!(
                "expected a lone {target}, got {}",
                describe(script, node)
            ));
        }
        node = only_child(node, script)?;
    }
}

/// Decodes a verbatim string node by PowerShell's rule, and checks that
/// PowerShell would end the string exactly where the grammar does.
fn decode_verbatim(script: &str, node: Node<'_>) -> Result<String, String> {
    let raw = node_text(script, node)?;
    // The tool always opens and closes with the ASCII quote. (The grammar
    // cannot produce anything else today, but this is the tool's contract.)
    if !(raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'')) {
        return Err(format!(
            "verbatim string not delimited by ASCII ' {}",
            describe(script, node)
        ));
    }
    // Lex from the opening quote over the rest of the script, not just the
    // node: PowerShell looks at the character after a quote to decide whether
    // it is doubled, and that character may lie past the grammar's end.
    let rest = script
        .get(node.start_byte()..)
        .ok_or_else(|| format!("node starts inside a character {}", describe(script, node)))?;
    match lex_verbatim(rest) {
        Some((value, len)) if len == raw.len() => Ok(value),
        Some((_, len)) => Err(format!(
            "PowerShell would end this verbatim string after {} rather than where \
             tree-sitter ends it (an undoubled quote among {:?}?): {}",
            snippet(rest.get(..len).unwrap_or(rest)),
            VERBATIM_QUOTES,
            describe(script, node)
        )),
        None => Err(format!(
            "PowerShell would not find the end of this verbatim string (an undoubled \
             quote among {:?} before the closing one?): {}",
            VERBATIM_QUOTES,
            describe(script, node)
        )),
    }
}

/// PowerShell's lexer for a verbatim string starting at the first character
/// of `text` (one of the five quotes). Inside the string, a quote ends it
/// unless the next character is also one of the five quotes, in which case
/// the SECOND character is kept and the scan goes on; everything else is
/// literal. Returns the decoded value and the byte length of the whole
/// string including both quotes, or `None` if the text ends first.
fn lex_verbatim(text: &str) -> Option<(String, usize)> {
    let mut chars = text.char_indices().peekable();
    match chars.next() {
        Some((_, c)) if is_verbatim_quote(c) => {}
        _ => return None,
    }
    let mut value = String::new();
    while let Some((i, c)) = chars.next() {
        if !is_verbatim_quote(c) {
            value.push(c);
            continue;
        }
        match chars.peek() {
            Some(&(_, next)) if is_verbatim_quote(next) => {
                value.push(next);
                chars.next();
            }
            _ => return Some((value, i + c.len_utf8())),
        }
    }
    None
}

/// NAME is `[A-Z_][A-Z0-9_]*`.
fn check_name(name: &str, script: &str, node: Node<'_>) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some('A'..='Z' | '_'))
        && chars.all(|c| matches!(c, 'A'..='Z' | '0'..='9' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "variable name {name:?} is not [A-Z_][A-Z0-9_]* {}",
            describe(script, node)
        ))
    }
}

// ---- small tree and text helpers ----

fn child<'t>(node: Node<'t>, i: usize, script: &str) -> Result<Node<'t>, String> {
    u32::try_from(i)
        .ok()
        .and_then(|i| node.child(i))
        .ok_or_else(|| format!("no child {i} in {}", describe(script, node)))
}

fn only_child<'t>(node: Node<'t>, script: &str) -> Result<Node<'t>, String> {
    if node.child_count() != 1 {
        return Err(format!(
            "expected a single element, got {} children in {}",
            node.child_count(),
            describe(script, node)
        ));
    }
    child(node, 0, script)
}

fn expect_kind(node: Node<'_>, kind: &str, script: &str) -> Result<(), String> {
    if node.kind() == kind {
        Ok(())
    } else {
        Err(format!("expected {kind}, got {}", describe(script, node)))
    }
}

fn text(script: &str, start: usize, end: usize) -> Result<&str, String> {
    script
        .get(start..end)
        .ok_or_else(|| format!("byte range {start}..{end} is not a valid slice of the script"))
}

fn node_text<'s>(script: &'s str, node: Node<'_>) -> Result<&'s str, String> {
    text(script, node.start_byte(), node.end_byte())
}

/// `kind at line L, column C: "text"`.
fn describe(script: &str, node: Node<'_>) -> String {
    format!("{} {}", node.kind(), locate(script, node))
}

/// `at line L, column C: "text"`, with some context when the node is empty
/// (a MISSING node has no text of its own).
fn locate(script: &str, node: Node<'_>) -> String {
    let pos = node.start_position();
    let (start, end) = if node.start_byte() == node.end_byte() {
        (
            floor_boundary(script, node.start_byte().saturating_sub(30)),
            ceil_boundary(script, node.end_byte().saturating_add(30)),
        )
    } else {
        (node.start_byte(), node.end_byte())
    };
    let shown = script
        .get(start..end)
        .unwrap_or("<not on a character boundary>");
    format!(
        "at line {}, byte column {}: {}",
        pos.row + 1,
        pos.column + 1,
        snippet(shown)
    )
}

/// Quoted, escaped and shortened text for an error message. Long text keeps
/// its head and its tail, where an unterminated string shows.
fn snippet(s: &str) -> String {
    const KEEP: usize = 60;
    let count = s.chars().count();
    if count <= 2 * KEEP {
        return format!("{s:?}");
    }
    let head: String = s.chars().take(KEEP).collect();
    let tail: String = s.chars().skip(count - KEEP).collect();
    format!("{head:?} ... {tail:?}")
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, value: &str) -> PsStatement {
        PsStatement::Set {
            name: name.to_string(),
            value: value.to_string(),
        }
    }

    /// Parses `$env:X = <raw>` and returns the decoded value.
    fn value_of(raw: &str) -> Result<String, String> {
        match parse_powershell(&format!("$env:X = {raw}\n"))?.as_slice() {
            [PsStatement::Set { name, value }] if name == "X" => Ok(value.clone()),
            other => Err(format!("unexpected statements {other:?}")),
        }
    }

    fn assert_rejected(script: &str) -> String {
        match parse_powershell(script) {
            Ok(s) => panic!("accepted {script:?} as {s:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn plain_value() {
        assert_eq!(
            parse_powershell("$env:MFA_TOKEN = 'abc123'\n"),
            Ok(vec![set("MFA_TOKEN", "abc123")])
        );
    }

    #[test]
    fn doubled_ascii_quote() {
        assert_eq!(value_of("'it''s'"), Ok("it's".to_string()));
        assert_eq!(value_of("''''"), Ok("'".to_string()));
        assert_eq!(value_of("''''''"), Ok("''".to_string()));
    }

    #[test]
    fn each_typographic_quote_doubled() {
        for q in ['\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'] {
            assert_eq!(
                value_of(&format!("'a{q}{q}b'")),
                Ok(format!("a{q}b")),
                "{q}"
            );
            assert_eq!(value_of(&format!("'{q}{q}'")), Ok(q.to_string()), "{q}");
            // A value ending in the quote: the doubled pair sits right before
            // the closing ASCII quote.
            assert_eq!(value_of(&format!("'x{q}{q}'")), Ok(format!("x{q}")), "{q}");
        }
        // All five, each doubled, as the tool writes them.
        assert_eq!(
            value_of("'''\u{2018}\u{2018}\u{2019}\u{2019}\u{201A}\u{201A}\u{201B}\u{201B}'"),
            Ok("'\u{2018}\u{2019}\u{201A}\u{201B}".to_string())
        );
    }

    #[test]
    fn real_rule_keeps_the_second_quote_of_a_mixed_pair() {
        // Not something the tool writes, but this is PowerShell's rule.
        let text = "'a\u{2019}'b'";
        assert_eq!(lex_verbatim(text), Some(("a'b".to_string(), text.len())));
        let text = "'a'\u{2019}b'";
        assert_eq!(
            lex_verbatim(text),
            Some(("a\u{2019}b".to_string(), text.len()))
        );
        // Ends at the first undoubled quote, whichever of the five it is.
        assert_eq!(lex_verbatim("'a\u{201B}b'"), Some(("a".to_string(), 5)));
        assert_eq!(lex_verbatim("'ab"), None);
        assert_eq!(lex_verbatim("'ab''"), None);
    }

    #[test]
    fn newlines_cr_tabs_are_literal() {
        assert_eq!(value_of("'a\nb'"), Ok("a\nb".to_string()));
        assert_eq!(value_of("'a\r\nb\rc'"), Ok("a\r\nb\rc".to_string()));
        assert_eq!(value_of("'\ta\t'"), Ok("\ta\t".to_string()));
        assert_eq!(value_of("'\n'"), Ok("\n".to_string()));
        // A value that looks like a second statement stays inside the string.
        assert_eq!(
            value_of("'x\n$env:Y = ''z'''"),
            Ok("x\n$env:Y = 'z'".to_string())
        );
    }

    #[test]
    fn specials_are_literal() {
        let value = "$HOME `n \\ \" \u{201C}x\u{201D} \u{201E} $(whoami) ${x} @(1) # <# #>";
        assert_eq!(value_of(&format!("'{value}'")), Ok(value.to_string()));
    }

    #[test]
    fn empty_string() {
        assert_eq!(value_of("''"), Ok(String::new()));
    }

    #[test]
    fn non_ascii() {
        let value = "🔑 žluťoučký 日本語 \u{200B}\u{FEFF}\u{00A0}";
        assert_eq!(value_of(&format!("'{value}'")), Ok(value.to_string()));
    }

    #[test]
    fn remove_item() {
        assert_eq!(
            parse_powershell(
                "Remove-Item -LiteralPath 'Env:MFA_TOKEN' -ErrorAction SilentlyContinue\n"
            ),
            Ok(vec![PsStatement::Remove {
                name: "MFA_TOKEN".to_string()
            }])
        );
    }

    #[test]
    fn several_statements() {
        let script = "$env:A = 'x'\n\
                      Remove-Item -LiteralPath 'Env:B' -ErrorAction SilentlyContinue\n\
                      $env:C_1 = 'multi\nline'\n";
        assert_eq!(
            parse_powershell(script),
            Ok(vec![
                set("A", "x"),
                PsStatement::Remove {
                    name: "B".to_string()
                },
                set("C_1", "multi\nline"),
            ])
        );
    }

    #[test]
    fn empty_script() {
        assert_eq!(parse_powershell(""), Ok(vec![]));
        assert_eq!(parse_powershell("\n"), Ok(vec![]));
    }

    #[test]
    fn rejects_unterminated_string() {
        let e = assert_rejected("$env:X = 'abc\n");
        assert!(
            e.contains("syntax error") && e.contains("$env:X = 'abc"),
            "{e}"
        );
        assert_rejected("$env:X = 'it's'\n");
    }

    #[test]
    fn rejects_missing_node() {
        // The grammar recovers by inserting a zero-width MISSING `}`.
        let e = assert_rejected("if (1) { $env:X = 'a'\n");
        assert!(e.contains("missing `}`"), "{e}");
    }

    #[test]
    fn rejects_lone_typographic_quote() {
        // Tree-sitter sees one string; PowerShell would end it at the quote
        // and run the rest as code.
        let e = assert_rejected("$env:X = 'a\u{2019}b'\n");
        assert!(e.contains("a\u{2019}"), "{e}");
        for q in ['\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'] {
            assert_rejected(&format!("$env:X = 'a{q}b'\n"));
            assert_rejected(&format!("$env:X = '{q}'\n"));
            // Right before the closing quote: PowerShell reads `{q}'` as an
            // escaped quote and keeps going past the grammar's end.
            assert_rejected(&format!("$env:X = 'a{q}'\n"));
            assert_rejected(&format!("$env:X = 'a{q}'\n$env:Y = 'b'\n"));
            // Right after it: PowerShell reads `'{q}` as an escaped quote.
            assert_rejected(&format!("$env:X = 'a'{q}\n"));
        }
    }

    #[test]
    fn rejects_double_quoted_value() {
        // Expandable: `$`, backtick and `$(...)` would be interpreted.
        let e = assert_rejected("$env:X = \"abc\"\n");
        assert!(e.contains("expandable_string_literal"), "{e}");
        assert_rejected("$env:X = @'\nabc\n'@\n");
    }

    #[test]
    fn rejects_other_commands_and_arguments() {
        assert_rejected("Invoke-Expression 'x'\n");
        assert_rejected("Set-Item -LiteralPath 'Env:X' -Value 'a'\n");
        assert_rejected("Remove-Item -Path 'Env:X' -ErrorAction SilentlyContinue\n");
        assert_rejected("Remove-Item -LiteralPath 'Env:X'\n");
        assert_rejected("Remove-Item -LiteralPath:'Env:X' -ErrorAction SilentlyContinue\n");
        assert_rejected("Remove-Item -LiteralPath 'Env:X' -ErrorAction Stop\n");
        assert_rejected("Remove-Item -LiteralPath 'C:\\X' -ErrorAction SilentlyContinue\n");
        assert_rejected("& Remove-Item -LiteralPath 'Env:X' -ErrorAction SilentlyContinue\n");
        assert_rejected(
            "Remove-Item -LiteralPath 'Env:X' -ErrorAction SilentlyContinue | Out-Null\n",
        );
    }

    #[test]
    fn rejects_a_second_statement_on_the_line() {
        assert_rejected("$env:X = 'a'; Invoke-Expression 'x'");
        assert_rejected("$env:X = 'a'; Invoke-Expression 'x'\n");
        assert_rejected("$env:X = 'a';\n");
    }

    #[test]
    fn rejects_other_assignments() {
        assert_rejected("$X = 'a'\n");
        assert_rejected("${env:X} = 'a'\n");
        assert_rejected("$env:x = 'a'\n");
        assert_rejected("$env:X += 'a'\n");
        assert_rejected("$env:X = 'a' + 'b'\n");
        assert_rejected("$env:X = -join 'a'\n");
        assert_rejected("$env:X = 'a' | Out-Null\n");
        assert_rejected("$env:X = 'a' # note\n");
        assert_rejected("$env:X = `\n'a'\n");
        assert_rejected("$env:X  =  'a'\n");
        assert_rejected("$env:X = 1\n");
        assert_rejected("$env:X = \u{2019}a\u{2019}\n");
    }

    /// Which of PowerShell's five verbatim quote characters the grammar itself
    /// accepts as string delimiters. Only the ASCII one today: this is why
    /// `decode_verbatim` re-lexes every string. If this test starts failing,
    /// the grammar learned more quotes; the re-lexing stays correct either way.
    #[test]
    fn grammar_knows_only_the_ascii_quote() {
        let delimiters: Vec<char> = VERBATIM_QUOTES
            .into_iter()
            .filter(|&q| {
                let script = format!("$env:X = {q}ab{q}\n");
                let Ok(tree) = parse_tree(&script) else {
                    return false;
                };
                let root = tree.root_node();
                // The whole `{q}ab{q}` must be one verbatim string token.
                let wanted = format!("{q}ab{q}");
                let start = script.len() - 1 - wanted.len();
                root.descendant_for_byte_range(start, start + wanted.len())
                    .is_some_and(|n| {
                        !root.has_error()
                            && n.kind() == "verbatim_string_characters"
                            && n.byte_range() == (start..start + wanted.len())
                    })
            })
            .collect();
        assert_eq!(delimiters, vec!['\'']);
    }
}
