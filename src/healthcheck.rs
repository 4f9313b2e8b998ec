//! A health probe for container HEALTHCHECKs: one plain HTTP/1.0 GET over a TCP socket, so
//! the image needs no curl and the binary no HTTP client.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, bail};

/// Asks `url` (an `http://host:port/path` URL) and succeeds only on a 200.
pub fn check(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let rest = url.strip_prefix("http://").context("only http:// URLs are supported")?;
    let (authority, path) =
        rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let address = authority
        .to_socket_addrs()
        .with_context(|| format!("resolving {authority}"))?
        .next()
        .with_context(|| format!("{authority} has no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&address, timeout).with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 32];
    let read = stream.read(&mut head)?;
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        bail!("{url} answered {:?}", status_line.lines().next().unwrap_or(""));
    }
    Ok(())
}
