//! `mfa console`'s sign-in URLs against the fake federation endpoint
//! (fake_signin.py): run, check, follow, and read the login page.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Output;
use std::time::Duration;

use super::{FakeAws, Sandbox, stderr, stdout};

/// `mfa console ARGS` with the federation endpoint pointed at the fake.
pub fn console(sandbox: &Sandbox, aws: &FakeAws, args: &[&str]) -> Output {
    sandbox
        .mfa()
        .env("AWS_ENDPOINT_URL_SIGNIN", aws.endpoint())
        .arg("console")
        .args(args)
        .output()
        .expect("run mfa console")
}

/// A plain HTTP GET: the status and body, `None` when nothing answered.
pub fn get(url: &str) -> Option<(u16, String)> {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(authority).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// A query parameter of a URL, percent-decoded.
pub fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The sign-in URL printed by `--print`, checked for its shape.
pub fn printed_url(out: &Output, aws: &FakeAws) -> String {
    assert!(out.status.success(), "{}", stderr(out));
    let text = stdout(out);
    assert!(text.ends_with('\n') && text.lines().count() == 1, "{text}");
    let url = text.trim_end().to_string();
    let prefix = format!(
        "{}/federation?Action=login&Issuer=mfa&Destination=",
        aws.endpoint()
    );
    assert!(url.starts_with(&prefix), "{url}");
    let token = param(&url, "SigninToken").expect("a SigninToken");
    assert!(token.len() > 40, "{url}");
    url
}

/// What the fake login page says about the session signed in.
pub fn identity_on(page: &str) -> String {
    let start = page.find("<p id=\"identity\">").expect("a login page") + 17;
    page[start..][..page[start..].find('<').unwrap()].to_string()
}
