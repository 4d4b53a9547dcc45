//! Opening a URL in the user's browser, without a shell: `--browser CMD`
//! (split into words as a POSIX shell would, with `{url}` replaced), else a
//! profile's setting, else `$BROWSER` (`%s` or `{url}` replaced; several
//! commands separated by `:` are tried in turn), else `xdg-open` (`open` on
//! macOS). The URL is always one word of the browser's argv: give only
//! addresses that may be seen there (a one-time local address, a device
//! code page), never a credential.

use std::process::{Child, Command, Stdio};

use anyhow::{Result, anyhow};

use crate::context::Env;
use crate::error::UsageError;

/// Where the browser command came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browser {
    /// Each candidate command as words; the first that starts is used.
    candidates: Vec<Vec<String>>,
    source: String,
}

const PLACEHOLDER: &str = "{url}";

impl Browser {
    /// The browser to use: `flag` (the `--browser` option), else `setting`
    /// (a profile key, named by `setting_name`), else `$BROWSER`, else the
    /// system's opener.
    pub fn choose(
        flag: Option<&str>,
        setting: Option<(&str, &str)>,
        env: &Env,
    ) -> Result<Browser, UsageError> {
        if let Some(command) = flag {
            return Browser::parse(&[command], "--browser");
        }
        if let Some((name, command)) = setting {
            return Browser::parse(&[command], name);
        }
        if let Some(list) = env.get("BROWSER") {
            let commands: Vec<&str> = list.split(':').filter(|c| !c.trim().is_empty()).collect();
            if !commands.is_empty() {
                return Browser::parse(&commands, "$BROWSER");
            }
        }
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        Ok(Browser {
            candidates: vec![vec![opener.to_string()]],
            source: opener.to_string(),
        })
    }

    fn parse(commands: &[&str], source: &str) -> Result<Browser, UsageError> {
        let mut candidates = Vec::new();
        for command in commands {
            let words = shell_words::split(command).map_err(|_| {
                UsageError::new(format!(
                    "the browser command from {source} has an unclosed quote: `{}`",
                    command.escape_debug()
                ))
            })?;
            if words.is_empty() {
                return Err(UsageError::new(format!(
                    "the browser command from {source} is empty"
                )));
            }
            candidates.push(words);
        }
        Ok(Browser {
            candidates,
            source: source.to_string(),
        })
    }

    /// The argv of each candidate for `url`: every `{url}` (and, from
    /// `$BROWSER`, `%s`) replaced; without a placeholder the URL is added
    /// as the last word.
    pub fn argv(&self, url: &str) -> Vec<Vec<String>> {
        let percent_s = self.source == "$BROWSER";
        self.candidates
            .iter()
            .map(|words| {
                let has = |w: &String| w.contains(PLACEHOLDER) || (percent_s && w.contains("%s"));
                let mut argv: Vec<String> = words
                    .iter()
                    .map(|w| {
                        let w = w.replace(PLACEHOLDER, url);
                        if percent_s { w.replace("%s", url) } else { w }
                    })
                    .collect();
                if !words.iter().any(has) {
                    argv.push(url.to_string());
                }
                argv
            })
            .collect()
    }

    /// Where the command came from (`--browser`, `$BROWSER`, `xdg-open`, …).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Starts the browser on `url`, without a shell, its input empty and
    /// its output on our stderr (stdout is the product). A command that
    /// cannot start is an error that names it and where it came from.
    pub fn open(&self, url: &str) -> Result<Child> {
        let mut last_error = None;
        for argv in self.argv(url) {
            let Some((program, args)) = argv.split_first() else {
                continue;
            };
            let mut command = Command::new(program);
            command.args(args).stdin(Stdio::null());
            if let Some(stderr) = stderr_for_child() {
                command.stdout(stderr);
            }
            match command.spawn() {
                Ok(child) => return Ok(child),
                Err(e) => last_error = Some((program.clone(), e)),
            }
        }
        let (program, error) = last_error
            .map(|(p, e)| (p, e.to_string()))
            .unwrap_or_else(|| (String::new(), "no command".into()));
        Err(anyhow!(
            "cannot start the browser `{}` (from {}): {error}; name one with --browser CMD or $BROWSER",
            program.escape_debug(),
            self.source
        ))
    }
}

/// A copy of our stderr for a child's stdout.
fn stderr_for_child() -> Option<Stdio> {
    use std::os::fd::AsFd;
    std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(Stdio::from)
}

/// Why a started browser will not come, if it has exited unsuccessfully.
pub fn exited_early(child: &mut Child, browser: &Browser) -> Option<anyhow::Error> {
    match child.try_wait() {
        Ok(Some(status)) if !status.success() => Some(anyhow!(
            "the browser (from {}) exited with {status} before it opened the address; use --print to print the URL instead",
            browser.source()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_the_setting_then_browser_then_the_opener() {
        let env = Env::from_pairs([("BROWSER", "firefox %s:chromium")]);
        let b = Browser::choose(Some("my-browser --new {url}"), Some(("k", "x")), &env).unwrap();
        assert_eq!(b.argv("U"), [vec!["my-browser", "--new", "U"]]);
        let b =
            Browser::choose(None, Some(("console_browser", "firefox -P 'work p'")), &env).unwrap();
        assert_eq!(b.argv("U"), [vec!["firefox", "-P", "work p", "U"]]);
        assert_eq!(b.source(), "console_browser");
        let b = Browser::choose(None, None, &env).unwrap();
        assert_eq!(
            b.argv("U"),
            [vec!["firefox", "U"], vec!["chromium", "U"]],
            "%s replaced, a list tried in turn"
        );
        let b = Browser::choose(None, None, &Env::default()).unwrap();
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        assert_eq!(b.argv("U"), [vec![opener, "U"]]);
    }

    #[test]
    fn the_url_stays_one_word_whatever_it_holds() {
        let b =
            Browser::choose(Some("sh -c 'echo \"$1\"' sh {url}"), None, &Env::default()).unwrap();
        let url = "http://127.0.0.1:1/a b;$(touch x)'\"";
        assert_eq!(b.argv(url), [vec!["sh", "-c", "echo \"$1\"", "sh", url]]);
        let b = Browser::choose(Some("b --url={url}"), None, &Env::default()).unwrap();
        assert_eq!(b.argv("U"), [vec!["b", "--url=U"]]);
    }

    #[test]
    fn commands_that_cannot_be_split_or_are_empty_are_refused() {
        assert!(Browser::choose(Some("a 'b"), None, &Env::default()).is_err());
        assert!(Browser::choose(Some("  "), None, &Env::default()).is_err());
    }

    #[test]
    fn a_browser_that_cannot_start_says_so_and_where_it_came_from() {
        let b = Browser::choose(Some("/nonexistent/browser"), None, &Env::default()).unwrap();
        let e = b.open("http://127.0.0.1:1/x").unwrap_err().to_string();
        assert!(
            e.contains("cannot start the browser `/nonexistent/browser` (from --browser)"),
            "{e}"
        );
    }
}
