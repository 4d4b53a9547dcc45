//! Job control for the served job, as shells, `sudo` and `su` do it. When
//! mfa is in its terminal's foreground, the job runs in a process group of
//! its own that has the terminal, so what is typed goes to the job alone
//! (and Ctrl-C reaches the job's group only). When a renewal needs a code,
//! the job is stopped, mfa takes the terminal, asks, gives it back and
//! continues the job: nobody else reads while mfa asks. When the job stops
//! itself (Ctrl-Z), mfa takes the terminal back and stops too, so the
//! calling shell shows it stopped; `fg` continues mfa, which gives the
//! terminal back to the job and continues it.
//!
//! When mfa is not in the foreground at start (started with `&`, no
//! terminal), nothing here applies: the job stays in mfa's group and mfa
//! never asks on the terminal.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// The terminal mfa took over at start.
struct Control {
    tty: File,
    /// mfa's own process group: the one the calling shell knows.
    own: libc::pid_t,
    /// The terminal's modes at start, put back whenever mfa takes it.
    modes: libc::termios,
}

static CONTROL: OnceLock<Control> = OnceLock::new();

/// Shared by the thread that waits for the job and the renewal thread
/// that asks; every handoff of the terminal happens under its lock.
static STATE: Mutex<State> = Mutex::new(State {
    job: 0,
    paused: false,
    pauses: 0,
    pauses_seen: 0,
    job_modes: None,
});

struct State {
    /// The job's process group (its pid), 0 before it runs.
    job: libc::pid_t,
    /// Whether the job is stopped for a question.
    paused: bool,
    /// SIGSTOPs sent for questions, and how many of them the waiting
    /// thread has accounted for: a stop of the job that mfa caused is not
    /// the job stopping itself.
    pauses: u64,
    pauses_seen: u64,
    /// The job's terminal modes while mfa has the terminal.
    job_modes: Option<libc::termios>,
}

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes job control when mfa has a terminal and is in its foreground:
/// then the job must be spawned with `prepare_child` and announced with
/// `job_started`. False otherwise.
pub fn take_control() -> bool {
    let Ok(tty) = crate::terminal::open() else {
        return false;
    };
    let fd = tty.as_raw_fd();
    // SAFETY: these only read; `modes` is written by tcgetattr.
    let (foreground, own, modes) = unsafe {
        let mut modes: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut modes) != 0 {
            return false;
        }
        (libc::tcgetpgrp(fd), libc::getpgrp(), modes)
    };
    if foreground <= 0 || foreground != own {
        return false;
    }
    if CONTROL.set(Control { tty, own, modes }).is_err() {
        return false;
    }
    // Out of the foreground, a message on the terminal (a renewal's
    // failure on stderr) must not stop mfa under `stty tostop`: the
    // calling shell would take the terminal from the running job.
    // SAFETY: setting a signal's disposition; the job gets it back.
    let before = unsafe { libc::signal(libc::SIGTTOU, libc::SIG_IGN) };
    if before != libc::SIG_ERR {
        TTOU_BEFORE.store(before, Ordering::SeqCst);
    }
    true
}

/// SIGTTOU's disposition before mfa ignored it (`SIG_DFL` unless mfa was
/// started with it ignored), for the job.
static TTOU_BEFORE: AtomicUsize = AtomicUsize::new(libc::SIG_DFL);

/// The terminal's descriptor, for `prepare_child` (open in the child until
/// it execs: it is close-on-exec).
pub fn terminal_fd() -> Option<RawFd> {
    CONTROL.get().map(|control| control.tty.as_raw_fd())
}

/// In the child, after it is put in a group of its own and before it
/// execs: take the terminal's foreground, so its first read of the
/// terminal is never a background one. Only async-signal-safe calls.
pub fn prepare_child(tty: RawFd) -> std::io::Result<()> {
    // SAFETY: getpgrp, signal and the calls in hand_terminal are
    // async-signal-safe.
    unsafe {
        hand_terminal(tty, libc::getpgrp(), None);
        // An ignored signal stays ignored across exec: the job gets what
        // mfa had.
        libc::signal(libc::SIGTTOU, TTOU_BEFORE.load(Ordering::SeqCst));
    }
    Ok(())
}

/// The job runs as `pid`, leader of its own group: it gets the terminal
/// (the child did that too; whichever runs first wins, as in shells).
pub fn job_started(pid: libc::pid_t) {
    let Some(control) = CONTROL.get() else {
        return;
    };
    let mut state = state();
    state.job = pid;
    // SAFETY: plain system calls on a pid and our open terminal.
    unsafe {
        libc::setpgid(pid, pid);
        hand_terminal(control.tty.as_raw_fd(), pid, None);
    }
}

/// The job stopped (`WSTOPSIG` is `signal`). A stop mfa caused for a
/// question is let be; otherwise the job stopped itself (Ctrl-Z, or a
/// read of the terminal in the background): mfa takes the terminal back,
/// stops itself so the calling shell sees the job stopped, and once
/// continued gives the terminal back to the job (when mfa has it) and
/// continues the job.
pub fn job_stopped(signal: libc::c_int) {
    let Some(control) = CONTROL.get() else {
        return;
    };
    let fd = control.tty.as_raw_fd();
    let job = {
        let mut state = state();
        if signal == libc::SIGSTOP && (state.paused || state.pauses_seen < state.pauses) {
            state.pauses_seen = state.pauses;
            return;
        }
        // SAFETY: tcgetpgrp and tcgetattr only read.
        unsafe {
            if libc::tcgetpgrp(fd) == state.job {
                let mut modes: libc::termios = std::mem::zeroed();
                state.job_modes = (libc::tcgetattr(fd, &mut modes) == 0).then_some(modes);
                hand_terminal(fd, control.own, Some(&control.modes));
            } else {
                state.job_modes = None;
            }
        }
        state.job
    };
    // SAFETY: stops this process until a SIGCONT; every thread stops.
    unsafe { libc::kill(libc::getpid(), libc::SIGSTOP) };
    let state = state();
    // SAFETY: plain system calls on our terminal and the job's group.
    unsafe {
        if !state.paused && libc::tcgetpgrp(fd) == control.own {
            hand_terminal(fd, job, state.job_modes.as_ref());
        }
        libc::kill(-job, libc::SIGCONT);
    }
}

/// The job ended: the terminal goes back to mfa's group (when the job's
/// group, or a group that no longer exists, has it) with mfa's modes.
pub fn job_ended() {
    let Some(control) = CONTROL.get() else {
        return;
    };
    let fd = control.tty.as_raw_fd();
    let state = state();
    // SAFETY: plain system calls on our terminal; kill with 0 only checks.
    unsafe {
        let foreground = libc::tcgetpgrp(fd);
        let gone = foreground > 0
            && libc::kill(-foreground, 0) != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if foreground == state.job || gone {
            hand_terminal(fd, control.own, Some(&control.modes));
        }
    }
}

/// The job stopped and the terminal mfa's until this is dropped.
pub struct Pause {
    _private: (),
}

/// Stops the job and takes the terminal, when the job's group has it
/// (not when mfa runs in the background or the job gave the terminal to
/// a group of its own, such as a program in an interactive subshell).
pub fn pause_for_question() -> Option<Pause> {
    let control = CONTROL.get()?;
    let fd = control.tty.as_raw_fd();
    let mut state = state();
    // SAFETY: plain system calls on our terminal and the job's group.
    unsafe {
        if state.job <= 0 || state.paused || libc::tcgetpgrp(fd) != state.job {
            return None;
        }
        if libc::kill(-state.job, libc::SIGSTOP) != 0 {
            return None;
        }
        state.paused = true;
        state.pauses += 1;
        let mut modes: libc::termios = std::mem::zeroed();
        state.job_modes = (libc::tcgetattr(fd, &mut modes) == 0).then_some(modes);
        hand_terminal(fd, control.own, Some(&control.modes));
    }
    Some(Pause { _private: () })
}

impl Drop for Pause {
    fn drop(&mut self) {
        let Some(control) = CONTROL.get() else {
            return;
        };
        let fd = control.tty.as_raw_fd();
        let mut state = state();
        state.paused = false;
        // SAFETY: plain system calls on our terminal and the job's group.
        unsafe {
            if libc::tcgetpgrp(fd) == control.own {
                hand_terminal(fd, state.job, state.job_modes.as_ref());
            }
            libc::kill(-state.job, libc::SIGCONT);
        }
    }
}

/// Makes `group` the terminal's foreground (with `modes` when given),
/// SIGTTOU blocked in this thread meanwhile: a process outside the
/// foreground may then change it instead of being stopped.
///
/// # Safety
/// `tty` must be an open terminal. Only async-signal-safe calls.
unsafe fn hand_terminal(tty: RawFd, group: libc::pid_t, modes: Option<&libc::termios>) {
    // SAFETY: the caller's; the signal sets live on this stack.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut before: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut before);
        if let Some(modes) = modes {
            libc::tcsetattr(tty, libc::TCSADRAIN, modes);
        }
        libc::tcsetpgrp(tty, group);
        libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
    }
}
