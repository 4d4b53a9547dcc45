//! The whole road on arbitrary files (config, NUL, credentials): read,
//! resolve every profile, render its session for every shell, list, show.
//! Never panics; what reaches AWS or a shell was checked first; no secret
//! in a message or in `show`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mfa_fuzz::checks::whole_path(data);
});
