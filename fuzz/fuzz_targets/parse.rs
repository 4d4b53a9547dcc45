//! The profile parser, on arbitrary bytes: never panics; what parses
//! renders back byte for byte; errors quote no value; merging never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mfa_fuzz::checks::parse_bytes(data);
});
