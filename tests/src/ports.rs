//! Free loopback ports. A port is found by binding port 0 and closing the listener again,
//! so another process may still grab it before the child binds: the control plane retries
//! with new ports when that happens. Within this process no port is handed out twice.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, OnceLock};

use crate::error::HarnessError;

/// How many times to ask the kernel before giving up on a port not handed out yet.
const ATTEMPTS: usize = 64;

fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed out before.
pub fn free_port() -> Result<u16, HarnessError> {
    for _ in 0..ATTEMPTS {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| HarnessError::io("binding a loopback port to find a free one", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the address of a loopback listener", e))?
            .port();
        drop(listener);
        let mut seen = handed_out().lock().unwrap_or_else(|p| p.into_inner());
        if seen.insert(port) {
            return Ok(port);
        }
    }
    Err(HarnessError::io(
        "finding a free loopback port",
        std::io::Error::new(std::io::ErrorKind::AddrInUse, "no unused port after many tries"),
    ))
}

/// `n` distinct free ports.
pub fn free_ports<const N: usize>() -> Result<[u16; N], HarnessError> {
    let mut ports = [0u16; N];
    for port in &mut ports {
        *port = free_port()?;
    }
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_and_bindable() {
        let ports: [u16; 8] = free_ports().expect("free ports");
        let unique: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(unique.len(), ports.len(), "ports repeat: {ports:?}");
        for port in ports {
            assert_ne!(port, 0);
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port));
            assert!(listener.is_ok(), "port {port} could not be bound: {listener:?}");
        }
    }

    #[test]
    fn a_port_is_never_handed_out_twice() {
        let first = free_port().expect("port");
        for _ in 0..32 {
            assert_ne!(free_port().expect("port"), first);
        }
    }
}
