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

// ---- whole scripts: the hook, aliases, the completion registration ----
//
// `mfa init powershell` prints a real script (functions, `if`, `try`), which
// cannot be held to the two statement forms above. For such scripts the
// helpers below report every syntax error, and list what the script defines,
// runs and assigns, each with where it sits (enclosing functions, the
// conditions it runs under), so that tests can make structural claims: "the
// segment is only written under the show-prompt flag", "the exit code is
// restored before the user's prompt runs". Every verbatim string is still
// decoded with PowerShell's own rule and must end where the grammar ends it.

/// Every ERROR and MISSING node of the parse, in document order (an ERROR
/// before the nodes inside it), each described with its line, column and
/// text. Empty when the grammar accepts the script.
pub fn syntax_errors(script: &str) -> Vec<String> {
    if script.chars().all(is_line_space) {
        // See `parse_powershell`: the grammar wants at least one statement.
        return Vec::new();
    }
    let tree = match parse_tree(script) {
        Ok(tree) => tree,
        Err(e) => return vec![e],
    };
    let root = tree.root_node();
    let mut errors = Vec::new();
    visit(root, &mut |node| {
        if node.is_missing() {
            errors.push(format!(
                "missing `{}` {}",
                node.kind(),
                locate(script, node)
            ));
        } else if node.is_error() {
            errors.push(format!("ERROR {}", locate(script, node)));
        }
    });
    if errors.is_empty() && root.has_error() {
        errors.push(format!(
            "the tree reports an error that no node shows {}",
            locate(script, root)
        ));
    }
    errors
}

/// Calls `f` on every node under `root` (itself included), in document order.
fn visit<'t>(root: Node<'t>, f: &mut impl FnMut(Node<'t>)) {
    let mut cursor = root.walk();
    loop {
        f(cursor.node());
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// A condition that decides whether a piece of code runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// The condition's text, as written between the parentheses.
    pub condition: String,
    /// `true` in the `if`/`elseif` branch the condition opens; `false` in a
    /// later `elseif` or the `else`, which run only when it is false.
    pub holds: bool,
}

/// Where a function, command or assignment sits in a script.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    /// Enclosing function definitions, innermost first, with the scope
    /// prefix removed (`function global:mfa` gives `mfa`).
    pub functions: Vec<String>,
    /// The conditions under which it runs, innermost first.
    pub guards: Vec<Guard>,
    /// Inside the body of a `try` (not its `catch` or `finally`) that lies
    /// within the innermost enclosing function.
    pub in_try: bool,
    /// Byte offset of its start in the script: document order.
    pub start: usize,
    /// 1-based line, for messages.
    pub line: usize,
}

impl Place {
    /// Directly in function `name` (no other function in between).
    pub fn in_function(&self, name: &str) -> bool {
        self.functions.first().is_some_and(|f| f == name)
    }

    /// At the top level of the script, outside every function.
    pub fn top_level(&self) -> bool {
        self.functions.is_empty()
    }

    /// Runs only when a condition mentioning `needle` holds.
    pub fn guarded_by(&self, needle: &str) -> bool {
        self.guards
            .iter()
            .any(|g| g.holds && g.condition.contains(needle))
    }
}

/// `function [scope:]name { ... }`
#[derive(Debug, Clone)]
pub struct PsFunction {
    /// The name without its scope prefix.
    pub name: String,
    /// The scope prefix as written (`global`), if any.
    pub scope: Option<String>,
    /// Names of the declared parameters, without `$`.
    pub parameters: Vec<String>,
    /// The whole definition's text.
    pub text: String,
    pub place: Place,
}

/// A command: `Name args...`, `& $expr args...` or `. $expr args...`.
#[derive(Debug, Clone)]
pub struct PsCommand {
    /// The command name's text (`Write-Host`, `$global:__mfa_bin`, `'mfa'`).
    pub name: String,
    /// `&` or `.` when the command is invoked through an operator.
    pub invocation: Option<String>,
    /// The text of each argument and parameter, separators left out.
    pub elements: Vec<String>,
    /// The whole command's text.
    pub text: String,
    pub place: Place,
}

/// `target op value`
#[derive(Debug, Clone)]
pub struct PsAssignment {
    /// The assigned-to expression's text (`$global:MFA_PROMPT`, `$x`).
    pub target: String,
    /// `=`, `+=`, ...
    pub operator: String,
    /// The value's text.
    pub value: String,
    /// The decoded value when it is a lone verbatim string (`'...'`).
    pub verbatim: Option<String>,
    pub place: Place,
}

/// What a script defines, runs and assigns, in document order.
#[derive(Debug, Clone, Default)]
pub struct PsOutline {
    pub functions: Vec<PsFunction>,
    pub commands: Vec<PsCommand>,
    pub assignments: Vec<PsAssignment>,
    /// Every verbatim string in the script, decoded, in document order.
    pub verbatim_strings: Vec<String>,
}

impl PsOutline {
    /// The definitions of the function `name` (scope prefix ignored).
    pub fn function(&self, name: &str) -> Vec<&PsFunction> {
        self.functions.iter().filter(|f| f.name == name).collect()
    }

    /// Commands whose name is `name` (case-insensitive, like PowerShell).
    pub fn commands_named(&self, name: &str) -> Vec<&PsCommand> {
        self.commands
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case(name))
            .collect()
    }

    /// Assignments to `target` (case-insensitive, like PowerShell's
    /// variable names).
    pub fn assignments_to(&self, target: &str) -> Vec<&PsAssignment> {
        self.assignments
            .iter()
            .filter(|a| a.target.eq_ignore_ascii_case(target))
            .collect()
    }
}

/// Parses a whole script and lists its functions, commands and assignments.
///
/// Fails when the grammar reports any error or missing node, when a
/// verbatim string would end somewhere else in real PowerShell than in the
/// grammar, when an expandable string holds a typographic double quote
/// (PowerShell ends `"..."` at “ ” „ too), and on verbatim here-strings,
/// which are not checked.
pub fn outline(script: &str) -> Result<PsOutline, String> {
    let errors = syntax_errors(script);
    if !errors.is_empty() {
        return Err(format!(
            "tree-sitter-powershell: {} syntax error(s): {}",
            errors.len(),
            errors.join("; ")
        ));
    }
    let tree = parse_tree(script)?;
    let mut out = PsOutline::default();
    let mut failure: Option<String> = None;
    visit(tree.root_node(), &mut |node| {
        if failure.is_some() {
            return;
        }
        let result = (|| -> Result<(), String> {
            match node.kind() {
                "function_statement" => out.functions.push(function_of(script, node)?),
                "command" => out.commands.push(command_of(script, node)?),
                "assignment_expression" => out.assignments.push(assignment_of(script, node)?),
                "verbatim_string_characters" => {
                    out.verbatim_strings.push(decode_verbatim(script, node)?);
                }
                "expandable_string_literal" | "expandable_here_string_literal" => {
                    let text = node_text(script, node)?;
                    if text.contains(['\u{201C}', '\u{201D}', '\u{201E}']) {
                        return Err(format!(
                            "PowerShell ends an expandable string at a typographic double quote: {}",
                            describe(script, node)
                        ));
                    }
                }
                "verbatim_here_string_characters" => {
                    return Err(format!(
                        "verbatim here-strings are not checked: {}",
                        describe(script, node)
                    ));
                }
                _ => {}
            }
            Ok(())
        })();
        if let Err(e) = result {
            failure = Some(e);
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Decodes one whole verbatim string literal (`'it''s'`) by PowerShell's
/// rule; fails unless the literal is exactly one string.
pub fn decode_verbatim_literal(literal: &str) -> Result<String, String> {
    match lex_verbatim(literal) {
        Some((value, len)) if len == literal.len() => Ok(value),
        Some((_, len)) => Err(format!(
            "PowerShell ends this verbatim string after {}, before the end of {}",
            snippet(&literal[..len]),
            snippet(literal)
        )),
        None => Err(format!("not one verbatim string: {}", snippet(literal))),
    }
}

/// `global:mfa` -> (`Some("global")`, `mfa`). Only PowerShell's scope
/// names count: a drive-like prefix of another name stays in the name.
fn split_scope(name: &str) -> (Option<String>, String) {
    if let Some((scope, rest)) = name.split_once(':') {
        let known = ["global", "script", "local", "private"];
        if known.iter().any(|k| k.eq_ignore_ascii_case(scope)) {
            return (Some(scope.to_string()), rest.to_string());
        }
    }
    (None, name.to_string())
}

fn function_of(script: &str, node: Node<'_>) -> Result<PsFunction, String> {
    let name_node = node
        .children(&mut node.walk())
        .find(|n| n.kind() == "function_name")
        .ok_or_else(|| format!("function without a name {}", describe(script, node)))?;
    let (scope, name) = split_scope(node_text(script, name_node)?);
    // Parameters: `function f($a)` or a `param(...)` block at the top of its
    // own script block (not of a nested one).
    let mut parameters = Vec::new();
    let mut lists = Vec::new();
    for child in node.children(&mut node.walk()) {
        match child.kind() {
            "function_parameter_declaration" => lists.extend(
                child
                    .children(&mut child.walk())
                    .filter(|n| n.kind() == "parameter_list"),
            ),
            "script_block" => {
                for block in child
                    .children(&mut child.walk())
                    .filter(|n| n.kind() == "param_block")
                {
                    lists.extend(
                        block
                            .children(&mut block.walk())
                            .filter(|n| n.kind() == "parameter_list"),
                    );
                }
            }
            _ => {}
        }
    }
    for list in lists {
        for parameter in list
            .children(&mut list.walk())
            .filter(|n| n.kind() == "script_parameter")
        {
            if let Some(variable) = parameter
                .children(&mut parameter.walk())
                .find(|n| n.kind() == "variable")
            {
                let text = node_text(script, variable)?;
                parameters.push(text.trim_start_matches('$').to_string());
            }
        }
    }
    Ok(PsFunction {
        name,
        scope,
        parameters,
        text: node_text(script, node)?.to_string(),
        place: place_of(script, node)?,
    })
}

fn command_of(script: &str, node: Node<'_>) -> Result<PsCommand, String> {
    let name_node = node
        .child_by_field_name("command_name")
        .ok_or_else(|| format!("command without a name {}", describe(script, node)))?;
    let invocation = node
        .children(&mut node.walk())
        .find(|n| n.kind() == "command_invokation_operator")
        .map(|n| node_text(script, n).map(str::to_string))
        .transpose()?;
    let mut elements = Vec::new();
    if let Some(list) = node.child_by_field_name("command_elements") {
        for element in list.children(&mut list.walk()) {
            if element.kind() != "command_argument_sep" {
                elements.push(node_text(script, element)?.to_string());
            }
        }
    }
    Ok(PsCommand {
        name: node_text(script, name_node)?.to_string(),
        invocation,
        elements,
        text: node_text(script, node)?.to_string(),
        place: place_of(script, node)?,
    })
}

fn assignment_of(script: &str, node: Node<'_>) -> Result<PsAssignment, String> {
    let target = child(node, 0, script)?;
    let operator = child(node, 1, script)?;
    let value = node
        .child_by_field_name("value")
        .ok_or_else(|| format!("assignment without a value {}", describe(script, node)))?;
    // A lone verbatim string: `pipeline` > `pipeline_chain` > ... > string.
    let literal = (|| {
        if value.kind() != "pipeline" {
            return None;
        }
        let chain = only_child(value, script).ok()?;
        if chain.kind() != "pipeline_chain" {
            return None;
        }
        descend(
            only_child(chain, script).ok()?,
            &STRING_LADDER,
            "verbatim_string_characters",
            script,
        )
        .ok()
    })();
    let verbatim = literal.map(|n| decode_verbatim(script, n)).transpose()?;
    Ok(PsAssignment {
        target: node_text(script, target)?.to_string(),
        operator: node_text(script, operator)?.to_string(),
        value: node_text(script, value)?.to_string(),
        verbatim,
        place: place_of(script, node)?,
    })
}

fn place_of(script: &str, node: Node<'_>) -> Result<Place, String> {
    let condition = |n: Node<'_>| -> Result<String, String> {
        let c = n
            .child_by_field_name("condition")
            .ok_or_else(|| format!("no condition in {}", describe(script, n)))?;
        Ok(node_text(script, c)?.to_string())
    };
    let mut place = Place {
        start: node.start_byte(),
        line: node.start_position().row + 1,
        ..Place::default()
    };
    // Whether a `try`, `catch` or `finally` has been met on the way up
    // within the innermost function.
    let mut try_seen = false;
    let mut below = node;
    while let Some(parent) = below.parent() {
        match parent.kind() {
            "function_statement" => {
                let name = parent
                    .children(&mut parent.walk())
                    .find(|n| n.kind() == "function_name")
                    .map(|n| node_text(script, n))
                    .transpose()?
                    .unwrap_or_default();
                place.functions.push(split_scope(name).1);
            }
            "if_statement" => match below.kind() {
                // The `then` block is the if's only direct statement_block.
                "statement_block" => place.guards.push(Guard {
                    condition: condition(parent)?,
                    holds: true,
                }),
                "elseif_clauses" => place.guards.push(Guard {
                    condition: condition(parent)?,
                    holds: false,
                }),
                "else_clause" => {
                    place.guards.push(Guard {
                        condition: condition(parent)?,
                        holds: false,
                    });
                    if let Some(clauses) = parent
                        .children(&mut parent.walk())
                        .find(|n| n.kind() == "elseif_clauses")
                    {
                        for clause in clauses.children(&mut clauses.walk()) {
                            place.guards.push(Guard {
                                condition: condition(clause)?,
                                holds: false,
                            });
                        }
                    }
                }
                _ => {}
            },
            "elseif_clause" if below.kind() == "statement_block" => place.guards.push(Guard {
                condition: condition(parent)?,
                holds: true,
            }),
            "elseif_clauses" => {
                // The clauses before this one did not match.
                for clause in parent.children(&mut parent.walk()) {
                    if clause.start_byte() >= below.start_byte() {
                        break;
                    }
                    place.guards.push(Guard {
                        condition: condition(clause)?,
                        holds: false,
                    });
                }
            }
            "try_statement" if place.functions.is_empty() && !try_seen => {
                try_seen = true;
                place.in_try = below.kind() == "statement_block";
            }
            _ => {}
        }
        below = parent;
    }
    Ok(place)
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
