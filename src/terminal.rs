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

/// The terminal's settings before echo was turned off, for the signal
/// handler to put back.
static SAVED: std::sync::OnceLock<(std::os::fd::RawFd, libc::termios)> = std::sync::OnceLock::new();

/// Puts the saved settings back, then dies of the signal as it would have.
extern "C" fn restore_and_die(signal: libc::c_int) {
    if let Some((fd, settings)) = SAVED.get() {
        // SAFETY: tcsetattr, signal and raise are async-signal-safe.
        unsafe {
            libc::tcsetattr(*fd, libc::TCSANOW, settings);
        }
    }
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

const DEADLY: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Reads a secret without echo. Ctrl-C, SIGTERM or a hang-up while it
/// waits still leave the terminal as it was: written by hand because
/// rpassword-style readers restore echo only when they return.
pub fn read_secret(tty: &File, prompt: &str) -> Result<String> {
    use std::os::fd::AsRawFd;
    let fd = tty.as_raw_fd();
    // SAFETY: a zeroed termios is a valid value to be filled by tcgetattr.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        bail!("cannot read the terminal's settings");
    }
    let _ = SAVED.set((fd, saved));
    let mut quiet = saved;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    // SAFETY: installing a handler that only calls async-signal-safe code.
    let handler = restore_and_die as extern "C" fn(libc::c_int) as libc::sighandler_t;
    let previous: Vec<libc::sighandler_t> = DEADLY
        .iter()
        .map(|s| unsafe { libc::signal(*s, handler) })
        .collect();
    let answer = (|| {
        if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) } != 0 {
            bail!("cannot turn off echo on the terminal");
        }
        ask_line(tty, prompt)
    })();
    unsafe {
        libc::tcsetattr(fd, libc::TCSANOW, &saved);
        for (signal, old) in DEADLY.iter().zip(previous) {
            libc::signal(*signal, old);
        }
    }
    answer?.ok_or_else(|| anyhow::anyhow!("no secret given"))
}
