//! The command the endpoint serves: spawned (mfa must stay to serve it, so
//! it cannot replace itself), sent the signals mfa is sent, and waited for.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};

use super::foreground;

/// The signals a job is stopped with; mfa passes each on to the child.
const FORWARDED: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// The child's pid once it runs (0 before).
static CHILD: AtomicI32 = AtomicI32::new(0);
/// A signal that came before the child ran, passed on once it does.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// Passes a signal on to the child, only when a process sent it (`kill`):
/// one the terminal sends (Ctrl-C, Ctrl-\, a hang-up) reaches the whole
/// foreground process group, the child too when it shares mfa's group
/// (no job control), and twice would make some programs quit at once
/// (terraform's second Ctrl-C stops without cleaning up). Under job
/// control the terminal's signals reach the job's group alone.
extern "C" fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel hands a valid siginfo_t to an SA_SIGINFO handler.
    let from_kernel = !info.is_null() && unsafe { (*info).si_code } > 0;
    if from_kernel {
        return;
    }
    let child = CHILD.load(Ordering::SeqCst);
    if child > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(child, signal) };
    } else {
        PENDING.store(signal, Ordering::SeqCst);
    }
}

/// Installs `forward` for the signals a job is stopped with. The child
/// starts with the default actions (exec resets handlers).
fn install() {
    for signal in FORWARDED {
        // SAFETY: a zeroed sigaction is valid; the handler only calls
        // async-signal-safe functions and atomics.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as extern "C" fn(_, _, _) as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Runs `command` to its end with mfa's signals passed on; the status a
/// shell reports for it: its exit code, 128 + N for a death by signal N,
/// 127 when it is not found, 126 when it cannot run. When mfa is in its
/// terminal's foreground the job gets a process group and the terminal of
/// its own (`foreground`).
pub fn run(mut command: Command, program: &str) -> i32 {
    install();
    let job_control = foreground::take_control();
    if let Some(tty) = foreground::terminal_fd().filter(|_| job_control) {
        command.process_group(0);
        // SAFETY: prepare_child makes only async-signal-safe calls.
        unsafe { command.pre_exec(move || foreground::prepare_child(tty)) };
    }
    let child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!("mfa: cannot run `{program}`: {error}");
            return match error.kind() {
                std::io::ErrorKind::NotFound => 127,
                _ => 126,
            };
        }
    };
    let pid = i32::try_from(child.id()).unwrap_or(0);
    foreground::job_started(pid);
    CHILD.store(pid, Ordering::SeqCst);
    let early = PENDING.swap(0, Ordering::SeqCst);
    if early != 0 && pid > 0 {
        // SAFETY: a signal for the process just started.
        unsafe { libc::kill(pid, early) };
    }
    let status = wait(pid, job_control);
    foreground::job_ended();
    match status {
        Ok(status) => shell_status(status),
        Err(error) => {
            eprintln!("mfa: cannot wait for `{program}`: {error}");
            crate::error::EXIT_FAILURE
        }
    }
}

/// Waits for the job to end; under job control its stops are handled on
/// the way (`foreground::job_stopped`).
fn wait(pid: libc::pid_t, job_control: bool) -> std::io::Result<ExitStatus> {
    let flags = if job_control { libc::WUNTRACED } else { 0 };
    loop {
        let mut status = 0;
        // SAFETY: waits for our own child; `status` is written by waitpid.
        if unsafe { libc::waitpid(pid, &mut status, flags) } < 0 {
            let error = std::io::Error::last_os_error();
            if error.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        if libc::WIFSTOPPED(status) {
            foreground::job_stopped(libc::WSTOPSIG(status));
            continue;
        }
        return Ok(ExitStatus::from_raw(status));
    }
}

/// The status as `$?` shows it.
pub fn shell_status(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => crate::error::EXIT_FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_reported_as_a_shell_does() {
        assert_eq!(shell_status(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(shell_status(ExitStatus::from_raw(libc::SIGTERM)), 143);
        assert_eq!(shell_status(ExitStatus::from_raw(libc::SIGINT)), 130);
    }
}
