//! `mfa device create|enable|list`: a virtual MFA device for your own IAM
//! user, as the console would make it — the QR code in the terminal, two
//! consecutive codes to enable it, and `mfa_serial` written into the
//! profile. The calls use the profile's own keys: a user without MFA yet
//! has nothing else (the `self-manage-mfa` policy allows exactly this).

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

use super::{RootKeys, root_keys};
use crate::cli::{DeviceCommand, DeviceCreateArgs, DeviceEnableArgs, DeviceListArgs};
use crate::config::{FileKind, document};
use crate::context::Env;
use crate::error::UsageError;
use crate::iam::{Iam, SdkIam};
use crate::sts::{Identity, SdkSts, Sts, sts_region};

pub fn run(command: DeviceCommand, env: &Env) -> Result<()> {
    match command {
        DeviceCommand::Create(args) => create(args, env),
        DeviceCommand::Enable(args) => enable(args, env),
        DeviceCommand::List(args) => list(args, env),
    }
}

fn identity(keys: &RootKeys, env: &Env) -> Result<Identity> {
    SdkSts::new(&keys.profile, &sts_region(env, keys.region.as_deref())?)
        .get_caller_identity(&keys.credentials)
        .with_context(|| format!("cannot tell whose keys profile `{}` holds", keys.profile))
}

fn user_name(identity: &Identity) -> Result<String> {
    identity.user_name().map(str::to_string).ok_or_else(|| {
        anyhow!(
            "the keys belong to {}, not to an IAM user: MFA devices here are for IAM users",
            identity.arn
        )
    })
}

/// The `otpauth://` URI authenticator apps read, labelled as the AWS
/// console labels its own: `Amazon Web Services:NAME@ACCOUNT`.
pub fn otpauth_uri(device_name: &str, account: &str, seed: &str) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let issuer = encode("Amazon Web Services");
    format!(
        "otpauth://totp/{issuer}:{}@{account}?secret={seed}&issuer={issuer}",
        encode(device_name)
    )
}

/// The QR code in half blocks: two rows of modules per line of text, light
/// modules drawn, so it scans on a dark terminal.
pub fn qr_text(uri: &str) -> Result<String> {
    let code = QrCode::new(uri.as_bytes()).map_err(|e| anyhow!("cannot draw the QR code: {e}"))?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// The QR code as a grayscale PNG, 8 pixels a module, with a quiet zone.
pub fn qr_png(uri: &str) -> Result<Vec<u8>> {
    let code = QrCode::new(uri.as_bytes()).map_err(|e| anyhow!("cannot draw the QR code: {e}"))?;
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % modules + QUIET, i / modules + QUIET);
            for dy in 0..SCALE {
                let row = (y * SCALE + dy) * side;
                pixels[row + x * SCALE..row + (x + 1) * SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}

/// Whether a file can be created beside `path` (as `write_private` will):
/// a temporary one is made in its directory and removed.
fn check_writable(path: &std::path::Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory",
        ));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    tempfile::Builder::new()
        .prefix(".mfa-probe")
        .tempfile_in(dir)
        .map(drop)
}

/// Where `create` leaves the serial for `enable` (no secret in it), in
/// the cache directory; `/` and `%` of the profile name are escaped.
fn pending_path(env: &Env, profile: &str) -> std::path::PathBuf {
    let name = profile.replace('%', "%25").replace('/', "%2F");
    crate::cache::Cache::from_env(env)
        .dir
        .join(format!("device-{name}.serial"))
}

fn create(args: DeviceCreateArgs, env: &Env) -> Result<()> {
    if !document::is_valid_name(&args.name) || args.name.contains(['/', ':', '%']) {
        bail!(UsageError::new(
            "a device name is letters, digits and + = , . @ - _"
        ));
    }
    let keys = root_keys(args.profile.as_deref(), env)?;
    if let Some(path) = &args.png {
        // Before the device exists: its seed is shown only once, so a
        // picture that cannot be written must fail while nothing is lost.
        check_writable(path)
            .with_context(|| format!("cannot write {}", crate::paths::display(path)))?;
    }
    let who = identity(&keys, env)?;
    let device = SdkIam::new(&keys.profile)
        .create_virtual_mfa_device(&keys.credentials, &args.name)
        .context("CreateVirtualMFADevice failed")?;
    let uri = otpauth_uri(&args.name, &who.account, &device.seed_base32);
    if let Some(path) = &args.png {
        let png = qr_png(&uri)?;
        // The picture holds the seed: readable by its owner only.
        crate::files::write_private(path, &png)
            .with_context(|| format!("cannot write {}", crate::paths::display(path)))?;
        eprintln!("mfa: wrote the QR code to {}", crate::paths::display(path));
    }
    let path = pending_path(env, &keys.profile);
    if let Err(e) = crate::cache::Cache::from_env(env)
        .ensure_dir()
        .and_then(|_| crate::files::write_private(&path, device.serial.as_bytes()))
    {
        eprintln!("mfa: warning: cannot remember the device for `enable` ({e}): pass --serial");
    }
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "Scan this with your authenticator app:\n{}",
        qr_text(&uri)?
    )?;
    writeln!(
        err,
        "Created {}. Then enable it with two consecutive codes:\n  mfa device enable{}",
        device.serial,
        if args.profile.is_some() {
            format!(" --profile {}", keys.profile)
        } else {
            String::new()
        }
    )?;
    let mut out = format!("{}\n", device.serial);
    if args.secret {
        out.push_str(&device.seed_base32);
        out.push('\n');
    }
    crate::output::print(&out)
}

fn enable(args: DeviceEnableArgs, env: &Env) -> Result<()> {
    let keys = root_keys(args.profile.as_deref(), env)?;
    let pending = pending_path(env, &keys.profile);
    let serial = match args.serial {
        Some(serial) => serial,
        // Only from a cache directory of the user's own (see ensure_dir).
        None => crate::cache::Cache::from_env(env)
            .ensure_dir()
            .and_then(|_| std::fs::read_to_string(&pending))
            .map(|s| s.trim().to_string())
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                UsageError::new(format!(
                    "no device created for profile `{}` yet: name it with --serial ARN",
                    keys.profile
                ))
            })?,
    };
    let (code1, code2) = match (args.code1, args.code2) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            let tty = crate::terminal::open().map_err(|_| {
                UsageError::new("no terminal to ask for the codes: pass --code1 and --code2")
            })?;
            let first = crate::terminal::ask_code(&tty, "First code from the app: ")?;
            let second = crate::terminal::ask_code(&tty, "Next code (wait until it changes): ")?;
            (first, second)
        }
    };
    for code in [&code1, &code2] {
        if !crate::code::is_valid_code(code) {
            bail!(UsageError::new("a code is the six digits the app shows"));
        }
    }
    let who = identity(&keys, env)?;
    let user = user_name(&who)?;
    SdkIam::new(&keys.profile)
        .enable_mfa_device(&keys.credentials, &user, &serial, &code1, &code2)
        .context("EnableMFADevice failed")?;
    let _ = std::fs::remove_file(&pending);
    eprintln!("mfa: enabled {serial} for IAM user {user}");

    let write = args.yes
        || match crate::terminal::open() {
            Ok(tty) => crate::terminal::confirm(
                &tty,
                &format!(
                    "Write mfa_serial = {serial} into profile `{}`?",
                    keys.profile
                ),
                true,
            )?,
            Err(_) => false,
        };
    if write {
        let path = crate::config::config_path(env);
        crate::config::set_in_file(
            &path,
            FileKind::Config,
            &keys.profile,
            &[("mfa_serial", serial.as_str())],
            |_| Ok(()),
        )?;
        eprintln!(
            "mfa: profile `{}` now has mfa_serial in {}; try `mfa env {}`",
            keys.profile,
            crate::paths::display(&path),
            keys.profile
        );
    } else {
        eprintln!(
            "mfa: to use it, add to profile `{}`: mfa_serial = {serial}",
            keys.profile
        );
    }
    Ok(())
}

fn list(args: DeviceListArgs, env: &Env) -> Result<()> {
    let keys = root_keys(args.profile.as_deref(), env)?;
    let who = identity(&keys, env)?;
    let user = user_name(&who)?;
    let devices = SdkIam::new(&keys.profile)
        .list_mfa_devices(&keys.credentials, &user)
        .context("ListMFADevices failed")?;
    if args.json {
        return crate::output::print_json(&devices);
    }
    let rows: Vec<Vec<String>> = devices
        .iter()
        .map(|d| {
            vec![
                d.serial.clone(),
                d.enabled_at
                    .map(crate::creds::rfc3339)
                    .unwrap_or_else(|| "not enabled".into()),
            ]
        })
        .collect();
    crate::output::print(&crate::output::table(&["SERIAL", "ENABLED"], &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_otpauth_uri_is_labelled_like_the_console() {
        assert_eq!(
            otpauth_uri("alice", "123456789012", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Amazon%20Web%20Services:alice@123456789012?secret=JBSWY3DPEHPK3PXP&issuer=Amazon%20Web%20Services"
        );
    }

    #[test]
    fn qr_codes_render_as_text_and_png() {
        let text = qr_text("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert!(text.lines().count() > 10 && text.contains('▀'));
        let png = qr_png("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
