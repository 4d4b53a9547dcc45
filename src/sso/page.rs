//! The sign-in page: its address and code on the terminal, and the
//! browser opened on it.
// The one call site of the browser in SSO: to become the shared module of
// `mfa console` (src/browser.rs) once both are in.

use super::SsoProfile;
use super::flow::DeviceAuthorization;
use crate::context::Env;

/// Shows the sign-in page and code on the terminal (stderr without one)
/// and opens `$BROWSER` on it, if set.
pub fn show_sign_in(env: &Env, sso: &SsoProfile, authorization: &DeviceAuthorization) {
    let page = printable(&authorization.verification_uri);
    crate::terminal::say(&format!(
        "Sign in to {} in your browser:\n  {page}\nand check that the page shows the code {}\n",
        super::sign_in_name(sso),
        printable(&authorization.user_code)
    ));
    // Only a web page goes to the browser: never something it would read
    // as an option or a local file.
    let web = page.starts_with("https://") || page.starts_with("http://");
    if let Some(browser) = env.get("BROWSER").filter(|_| web) {
        open_browser(browser, &page);
    }
}

/// What the service sent, without anything that could move the terminal's
/// cursor or change its settings.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Runs `$BROWSER` (its first `:`-separated command, split into words, no
/// shell; `%s` is the URL, else the URL is the last argument), detached
/// from stdout so that `eval "$(mfa env …)"` does not wait for it.
fn open_browser(browser: &str, url: &str) {
    let Some(command) = browser.split(':').map(str::trim).find(|c| !c.is_empty()) else {
        return;
    };
    let Ok(mut words) = shell_words::split(command) else {
        eprintln!("mfa: BROWSER cannot be split into words; open the page yourself");
        return;
    };
    if words.iter().any(|w| w.contains("%s")) {
        for word in &mut words {
            *word = word.replace("%s", url);
        }
    } else {
        words.push(url.to_string());
    }
    let Some((program, args)) = words.split_first() else {
        return;
    };
    let started = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = started {
        eprintln!("mfa: cannot start the browser ({program}): {e}; open the page yourself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_service_sends_reaches_the_terminal_without_control_characters() {
        assert_eq!(printable("https://x/\u{1b}[2J?a\r\n"), "https://x/[2J?a");
    }

    #[test]
    fn browser_commands_take_the_url_without_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("opened");
        let script = dir.path().join("browser");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", out.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        open_browser(
            &format!("{} --new-tab:other", script.display()),
            "https://x/?a=1;b",
        );
        for _ in 0..100 {
            if std::fs::read_to_string(&out).is_ok_and(|t| t.ends_with('\n')) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "--new-tab\nhttps://x/?a=1;b\n"
        );
    }
}
