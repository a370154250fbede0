//! Listen addresses as collector configs write them: `localhost:4318`, `0.0.0.0:4318`,
//! `127.0.0.1:4318`, `[::1]:4318`, `:4318` (every interface).
//!
//! The syntax is checked with the rest of the config; names are resolved before anything
//! listens (by `spanwise validate` as well as `spanwise run`). A name that resolves to several
//! addresses is bound at its first IPv4 address, else its first address, as the collector (Go's
//! `net.Listen`) does.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

/// A listen endpoint split into host and port; an empty host means every interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// A name, an IPv4 address or an IPv6 address (without brackets); empty for every
    /// interface.
    pub host: String,
    /// The port; 0 picks a free one.
    pub port: u16,
}

impl Endpoint {
    /// Split `text` into host and port, or say what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let form =
            "write it as host:port, such as localhost:4318, 0.0.0.0:4318, [::1]:4318 or :4318";
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, port) = rest
                .split_once("]:")
                .ok_or_else(|| format!("{text:?} is not an endpoint: {form}"))?;
            host.parse::<std::net::Ipv6Addr>()
                .map_err(|_| format!("{text:?}: {host:?} is not an IPv6 address"))?;
            (host, port)
        } else {
            let (host, port) = text
                .rsplit_once(':')
                .ok_or_else(|| format!("{text:?} has no port: {form}"))?;
            if host.contains('/') || host.contains(' ') {
                return Err(format!(
                    "{text:?} is not an endpoint: {form} (no scheme or path)"
                ));
            }
            if host.contains(':') {
                return Err(format!(
                    "{text:?} is not an endpoint: put an IPv6 address in brackets, as [::1]:4318"
                ));
            }
            (host, port)
        };
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("{text:?}: {port:?} is not a port (0 to 65535)"))?;
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// The address to listen on: every interface (`0.0.0.0`) for an empty host, the address
    /// itself for an IP, the first IPv4 address (else the first address) a name resolves to.
    pub fn resolve(&self) -> Result<SocketAddr, String> {
        if self.host.is_empty() {
            return Ok(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                self.port,
            ));
        }
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        let addresses: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve host {:?}: {e}", self.host))?
            .collect();
        addresses
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addresses.first())
            .copied()
            .ok_or_else(|| format!("host {:?} resolves to no address", self.host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(text: &str) -> SocketAddr {
        Endpoint::parse(text).unwrap().resolve().unwrap()
    }

    #[test]
    fn accepts_what_collector_configs_write() {
        assert_eq!(
            resolved("127.0.0.1:4318"),
            "127.0.0.1:4318".parse().unwrap()
        );
        assert_eq!(resolved("0.0.0.0:4317"), "0.0.0.0:4317".parse().unwrap());
        assert_eq!(resolved(":4318"), "0.0.0.0:4318".parse().unwrap());
        assert_eq!(resolved("[::1]:4318"), "[::1]:4318".parse().unwrap());
        assert_eq!(resolved("[::]:0"), "[::]:0".parse().unwrap());
        let local = resolved("localhost:4318");
        assert!(local.ip().is_loopback(), "{local}");
        assert_eq!(local.port(), 4318);
    }

    #[test]
    fn refuses_what_is_not_an_endpoint_and_says_how_to_write_it() {
        for (text, says) in [
            ("localhost", "has no port"),
            ("localhost:http", "is not a port"),
            ("localhost:70000", "is not a port"),
            ("::1:4318", "brackets"),
            ("[::1]4318", "is not an endpoint"),
            ("[nope]:1", "is not an IPv6 address"),
            ("http://localhost:4318", "no scheme or path"),
        ] {
            let error = Endpoint::parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
