//! An `mfa_process` that takes more than a moment (a hardware key waiting
//! for a touch) is announced on the terminal, or stderr without one; one
//! that answers at once is not. Against the binary and the local STS.

mod support;

use std::time::{Duration, Instant};

use support::*;

fn run_with_mfa_process(aws: &FakeAws, command: &str) -> (std::process::Output, Duration) {
    let sandbox = Sandbox::new(aws);
    sandbox
        .config(&format!(
            "[profile alice]\nmfa_serial = {SERIAL}\nmfa_process = {command}\n"
        ))
        .credentials(&standard_credentials());
    let started = Instant::now();
    // No controlling terminal (Sandbox::mfa): the notice goes to stderr.
    let output = sandbox.run(&["env", "alice", "--shell", "bash"]);
    (output, started.elapsed())
}

#[test]
fn a_slow_mfa_process_is_announced_and_a_quick_one_is_not() {
    let aws = FakeAws::start();
    // The seed stands for a secret on the command line: never shown.
    let (slow, took) = run_with_mfa_process(
        &aws,
        "sleep 2&& echo 123456 || oathtool -b JBSWY3DPEHPK3PXP",
    );
    assert!(slow.status.success(), "{}", stderr(&slow));
    assert!(took >= Duration::from_secs(2));
    let err = stderr(&slow);
    assert_eq!(
        err.matches("Waiting for the mfa_process of profile `alice`")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("(sleep …)"), "{err}");
    assert!(!err.contains("JBSW"), "{err}");
    assert!(stdout(&slow).contains("AWS_SESSION_TOKEN"));
    assert_eq!(aws.last_call("GetSessionToken")["token_code"], "123456");

    let (quick, _) = run_with_mfa_process(&aws, "echo 654321");
    assert!(quick.status.success(), "{}", stderr(&quick));
    assert!(!stderr(&quick).contains("Waiting"), "{}", stderr(&quick));
    assert_eq!(aws.last_call("GetSessionToken")["token_code"], "654321");
}
