//! The sign-in page: its address and code on the terminal, and the
//! browser opened on it as `mfa console` opens one (src/browser.rs).

use super::SsoProfile;
use super::flow::DeviceAuthorization;
use crate::browser::Browser;
use crate::context::Env;

/// Shows the sign-in page and code on the terminal (stderr without one)
/// and opens the browser on it: `$BROWSER`, else the system's opener.
pub fn show_sign_in(env: &Env, sso: &SsoProfile, authorization: &DeviceAuthorization) {
    let page = printable(&authorization.verification_uri);
    crate::terminal::say(&format!(
        "Sign in to {} in your browser:\n  {page}\nand check that the page shows the code {}\n",
        super::sign_in_name(sso),
        printable(&authorization.user_code)
    ));
    // Only a web page goes to the browser: never something it would read
    // as an option or a local file.
    if page.starts_with("https://") || page.starts_with("http://") {
        open_browser(env, &page);
    }
}

/// What the service sent, without anything that could move the terminal's
/// cursor or change its settings.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// The page and code are on the terminal already: a browser that cannot
/// start is a note, not a failure.
fn open_browser(env: &Env, url: &str) {
    let opened = Browser::choose(None, None, env)
        .map_err(anyhow::Error::from)
        .and_then(|browser| browser.open(url));
    if let Err(e) = opened {
        eprintln!("mfa: {e:#}; open the page yourself");
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
        let env = Env::from_pairs([(
            "BROWSER",
            format!("{} --new-tab:other", script.display()).as_str(),
        )]);
        open_browser(&env, "https://x/?a=1;b");
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
