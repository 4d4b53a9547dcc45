//! Questions on the controlling terminal (`/dev/tty`), never on stdout, so
//! they work inside `eval "$(…)"` and under `credential_process`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};

use anyhow::{Result, bail};

pub fn open() -> std::io::Result<File> {
    OpenOptions::new().read(true).write(true).open("/dev/tty")
}

/// Whether there is a terminal to ask on.
pub fn available() -> bool {
    open().is_ok()
}

/// Asks `prompt` and returns the line typed, trimmed; `None` at end of input.
pub fn ask_line(tty: &File, prompt: &str) -> Result<Option<String>> {
    let mut writer = tty;
    write!(writer, "{prompt}")?;
    writer.flush()?;
    let mut line = String::new();
    // A new reader each time: on a terminal each read returns one line, so
    // nothing typed ahead is lost between questions.
    if BufReader::new(tty).read_line(&mut line)? == 0 {
        writeln!(writer)?;
        return Ok(None);
    }
    Ok(Some(line.trim().to_string()))
}

/// Asks until six digits are typed.
pub fn ask_code(tty: &File, prompt: &str) -> Result<String> {
    loop {
        let Some(code) = ask_line(tty, prompt)? else {
            bail!("no MFA code given");
        };
        if crate::code::is_valid_code(&code) {
            return Ok(code);
        }
        let mut writer = tty;
        writeln!(writer, "A code is the six digits your MFA device shows.")?;
    }
}

/// A yes/no question; Enter takes the default.
pub fn confirm(tty: &File, prompt: &str, default: bool) -> Result<bool> {
    let hint = if default { "[Y/n]" } else { "[y/N]" };
    loop {
        let Some(answer) = ask_line(tty, &format!("{prompt} {hint} "))? else {
            return Ok(false);
        };
        match answer.to_ascii_lowercase().as_str() {
            "" => return Ok(default),
            "y" | "yes" => return Ok(true),
            "n" | "no" => return Ok(false),
            _ => {}
        }
    }
}

/// Tells the person at the terminal, or stderr without one.
pub fn say(message: &str) {
    match open() {
        Ok(mut tty) => {
            let _ = tty.write_all(message.as_bytes());
        }
        Err(_) => eprint!("mfa: {message}"),
    }
}
