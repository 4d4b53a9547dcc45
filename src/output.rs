//! stdout is the product: written once, whole, at the end of a successful
//! command, so that a failure leaves it empty. A closed pipe is no error.

use std::io::Write;

pub fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Like [`print`], but a closed pipe is an error too: for text that is
/// lost if nobody reads it (a secret shown once).
pub fn print_or_fail(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
}

/// Pretty JSON with a final newline.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&text)
}

/// A plain table: columns padded to their widest cell, two spaces apart.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                // Padded by hand: `format!`'s width stops at 65,535, and a
                // cell (a region read from a file) can be longer.
                text.push_str(cell);
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn cells_are_padded_to_the_widest_whatever_its_length() {
        assert_eq!(
            table(&["A", "BB"], &[vec!["ccc".into(), "d".into()]]),
            "A    BB\nccc  d\n"
        );
        let long = "x".repeat(70_000);
        let text = table(&["A", "B"], &[vec![long.clone(), "y".into()]]);
        assert_eq!(text.lines().nth(1), Some(format!("{long}  y").as_str()));
    }
}
