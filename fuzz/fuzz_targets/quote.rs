//! The quoting of each shell, on arbitrary strings without NUL: never
//! panics; the quoted word reads back as the string (bash and zsh by POSIX
//! rules with shell-words, fish and PowerShell by their single-quote rules).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: &str| {
    mfa_fuzz::checks::quote(value);
});
