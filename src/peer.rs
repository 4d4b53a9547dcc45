//! Which local user is at the other end of a loopback TCP connection.
//!
//! A server on 127.0.0.1 is reachable by every user of the machine, and a
//! secret in a URL is not enough when that URL sits in some process's argv
//! (which `/proc/PID/cmdline` shows to all). On Linux the kernel's socket
//! table, `/proc/net/tcp` (and `tcp6` for an IPv6 socket talking to
//! `::ffff:127.0.0.1`), names the owner of the peer's socket: the line whose
//! local address is the connection's peer and whose remote address is ours.
//! Elsewhere (macOS: no `/proc`; `LOCAL_PEERPID` answers for Unix sockets
//! only) the owner cannot be found, and [`Owner::Unchecked`] says so.
//!
//! Reusable by any loopback server (the credential endpoint could refuse
//! other users' connections the same way); only the one-time console
//! redirect uses it so far.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Who owns the peer's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The peer's socket belongs to this uid.
    Uid(u32),
    /// The system has a socket table but the peer was not found in it, or
    /// it could not be read: the reason, for a message.
    Unknown(String),
    /// This system has no socket table to ask (not Linux).
    Unchecked,
}

/// The effective uid of this process: what the socket table records for
/// the sockets it opens.
pub fn my_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The owner of the socket at the other end of a connection whose own
/// address is `local` and whose peer is `peer`.
#[cfg(target_os = "linux")]
pub fn owner_of(local: SocketAddr, peer: SocketAddr) -> Owner {
    use std::io::ErrorKind;
    let mut reasons = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        match find_in_table(table, local, peer) {
            Ok(Some(uid)) => return Owner::Uid(uid),
            Ok(None) => {}
            // No IPv6 in this kernel: only tcp is there.
            Err(e) if e.kind() == ErrorKind::NotFound && table.ends_with('6') => {}
            Err(e) => reasons.push(format!("cannot read {table}: {e}")),
        }
    }
    if reasons.is_empty() {
        Owner::Unknown(format!("{peer} is not in /proc/net/tcp"))
    } else {
        Owner::Unknown(reasons.join("; "))
    }
}

#[cfg(not(target_os = "linux"))]
pub fn owner_of(_local: SocketAddr, _peer: SocketAddr) -> Owner {
    Owner::Unchecked
}

/// At most this much of a socket table is read (about 200,000 sockets): a
/// machine with more is not waited on.
#[cfg(target_os = "linux")]
const TABLE_LIMIT: u64 = 32 << 20;

/// The uid of the socket in `table` whose local address is `peer` and
/// whose remote address is `local`, reading line by line, bounded.
#[cfg(target_os = "linux")]
fn find_in_table(table: &str, local: SocketAddr, peer: SocketAddr) -> std::io::Result<Option<u32>> {
    use std::io::{BufRead, BufReader, Read};
    let file = std::fs::File::open(table)?;
    let mut reader = BufReader::new(file.take(TABLE_LIMIT));
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        if let Some(entry) = std::str::from_utf8(&line).ok().and_then(parse_line)
            && entry.local == peer
            && entry.remote == local
        {
            return Ok(Some(entry.uid));
        }
    }
}

/// One socket of a `/proc/net/tcp` or `tcp6` table.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub uid: u32,
}

/// One line of the table (`sl local_address rem_address st tx:rx tr:when
/// retrnsmt uid ...`); `None` for the header or anything else. IPv4
/// addresses mapped into IPv6 come back as IPv4, as a 127.0.0.1 listener
/// sees its peers.
pub fn parse_line(line: &str) -> Option<Entry> {
    let mut fields = line.split_whitespace();
    fields.next().filter(|slot| slot.ends_with(':'))?;
    let local = parse_address(fields.next()?)?;
    let remote = parse_address(fields.next()?)?;
    let uid = fields.nth(4)?.parse().ok()?;
    Some(Entry { local, remote, uid })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6). The kernel
/// prints each 32-bit word of the address as a number in the machine's
/// byte order, the port as a plain number.
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match address.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(address)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&word(&address[i * 8..i * 8 + 8])?);
            }
            let v6 = Ipv6Addr::from(bytes);
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Eight hex digits printed from a word in memory: its bytes as they were.
fn word(hex: &str) -> Option<[u8; 4]> {
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    /// Lines as a little-endian kernel prints them (x86, arm64).
    #[cfg(target_endian = "little")]
    #[test]
    fn lines_of_the_tables_give_both_ends_and_the_owner() {
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
        assert_eq!(parse_line(header), None);
        let client = "   3: 0100007F:A2C4 0100007F:9C41 01 00000000:00000000 00:00000000 00000000 65534        0 81234 1 0000000000000000 20 4 30 10 -1";
        assert_eq!(
            parse_line(client),
            Some(Entry {
                local: addr("127.0.0.1:41668"),
                remote: addr("127.0.0.1:40001"),
                uid: 65534,
            })
        );
        let listener = "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0";
        assert_eq!(parse_line(listener).unwrap().local, addr("0.0.0.0:22"));
        // An IPv6 socket connected to ::ffff:127.0.0.1 reads as IPv4.
        let mapped = "   1: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:9C41 01 00000000:00000000 00:00000000 00000000  1000        0 9 1 0 20 4 30 10 -1";
        assert_eq!(
            parse_line(mapped),
            Some(Entry {
                local: addr("127.0.0.1:54321"),
                remote: addr("127.0.0.1:40001"),
                uid: 1000,
            })
        );
        let loopback6 = "   2: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 9 1";
        assert_eq!(parse_line(loopback6).unwrap().local, addr("[::1]:8080"));
    }

    #[test]
    fn anything_else_is_no_entry() {
        for line in [
            "",
            "garbage",
            "   3: 0100007F:A2C4",
            "   3: 0100007F:A2C4 0100007F:9C41 01 00000000:00000000 00:00000000 00000000",
            "   3: 0100007F:A2C4 0100007F:9C41 01 00000000:00000000 00:00000000 00000000 -1 0",
            "   3: 0100007G:A2C4 0100007F:9C41 01 00000000:00000000 00:00000000 00000000 0 0",
            "   3: 100007F:A2C4 0100007F:9C41 01 00000000:00000000 00:00000000 00000000 0 0",
            "   3: 0100007F:1A2C4 0100007F:9C41 01 00000000:00000000 00:00000000 00000000 0 0",
            "   3: +100007F:A2C4 0100007F:9C41 01 00000000:00000000 00:00000000 00000000 0 0",
            "   3: 0100007F:A2C4 0100007F:9C41 01 00000000:00000000 00:00000000 00000000 4294967296 0",
            "3 0100007F:A2C4 0100007F:9C41 01 00000000:00000000 00:00000000 00000000 0 0",
            "   3: 0000000000000000FFFF00000100007:D431 0100007F:9C41 01 0:0 0:0 0 0 0",
            "   3: ééééééé:A2C4 0100007F:9C41 01 0:0 0:0 0 0 0",
        ] {
            assert_eq!(parse_line(line), None, "{line:?}");
        }
    }

    /// The table names this process as the owner of a connection it made,
    /// from the listener's side.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_owner_of_a_real_loopback_connection_is_this_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, peer) = listener.accept().unwrap();
        let local = accepted.local_addr().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(owner_of(local, peer), Owner::Uid(my_uid()));
        // Its own side is not the peer: swapping the ends finds the listener's socket,
        // and an address nobody uses is unknown.
        assert_eq!(owner_of(peer, local), Owner::Uid(my_uid()));
        drop(client);
        drop(accepted);
        let nobody = addr("127.0.0.1:1");
        assert!(matches!(owner_of(local, nobody), Owner::Unknown(_)));
    }
}
