//! Outgoing HTTP: one client for the services the server is configured to talk to (Spotify, later the
//! LLM providers), and one for links users give us, which must not reach the server's own network.
//!
//! A user's link is fetched through a resolver that drops private, loopback and link-local addresses,
//! so a host name cannot point the download at an internal service, and every redirect is checked the
//! same way (an address written in the URL is never resolved, so it is checked where it appears).

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Once},
    time::Duration,
};

use reqwest::{
    Url,
    dns::{Addrs, Name, Resolve, Resolving},
    redirect,
};

use crate::{Error, Result};

/// Redirects a link may take before we give up on it.
pub const MAX_REDIRECTS: usize = 5;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest silence between two reads of a body; a download that keeps moving has no total limit.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const USER_AGENT: &str = concat!("SoundForgeAlchemy/", env!("CARGO_PKG_VERSION"));

/// The clients, built once and shared (each keeps a connection pool).
#[derive(Clone)]
pub struct HttpClients {
    /// For configured services, whose addresses the operator chose.
    pub services: reqwest::Client,
    /// For users' links: guarded unless the configuration allows private addresses.
    pub links: reqwest::Client,
    pub guard: Guard,
}

/// Whether users' links may reach private addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    PublicOnly,
    AllowPrivate,
}

impl HttpClients {
    pub fn new(allow_private: bool) -> Result<Self> {
        install_crypto_provider();
        let guard = if allow_private {
            Guard::AllowPrivate
        } else {
            Guard::PublicOnly
        };
        let base = || {
            reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
        };
        let mut links = base().redirect(redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error(Refused::TooManyRedirects)
            } else if guard == Guard::PublicOnly && literal_private(attempt.url()) {
                attempt.error(Refused::PrivateAddress)
            } else {
                attempt.follow()
            }
        }));
        if guard == Guard::PublicOnly {
            links = links.dns_resolver(Arc::new(PublicResolver));
        }
        let build = |builder: reqwest::ClientBuilder| {
            builder
                .build()
                .map_err(|err| Error::Internal(format!("HTTP client: {err}")))
        };
        Ok(Self {
            services: build(base())?,
            links: build(links)?,
            guard,
        })
    }

    /// Refuses a link the guarded client would not fetch, before any request: not http(s), or an address
    /// in it that is private. Host names are checked when they resolve.
    pub fn check_link(&self, url: &Url) -> Result<()> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Invalid(
                "Only http:// and https:// links can be downloaded.".into(),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::Invalid("That link has no host name.".into()));
        }
        if self.guard == Guard::PublicOnly && literal_private(url) {
            return Err(Error::Invalid(Refused::PrivateAddress.to_string()));
        }
        Ok(())
    }
}

/// reqwest is built without a default crypto provider (its default would compile a second one beside
/// sqlx's ring); ring serves both.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Why the guarded client refused a link. Found again in a request's error chain by [`refusal`].
#[derive(Debug, Clone, Copy, thiserror::Error)]
pub enum Refused {
    #[error("That link points at a private or local network address, which this server does not fetch from.")]
    PrivateAddress,
    #[error("That link redirects more than {MAX_REDIRECTS} times.")]
    TooManyRedirects,
}

/// The guard's refusal inside a failed request's error chain, if that is why it failed.
pub fn refusal(err: &reqwest::Error) -> Option<Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return Some(*refused);
        }
        // An I/O error's `source` skips the error it wraps; look inside it.
        if let Some(refused) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<Refused>())
        {
            return Some(*refused);
        }
        source = err.source();
    }
    None
}

fn literal_private(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        _ => false,
    }
}

/// Resolves host names to their public addresses only.
struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.iter().copied().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() && !found.is_empty() {
                return Err(Box::new(Refused::PrivateAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// True for addresses on the public internet: not loopback, private, link-local, shared (CGNAT),
/// unspecified, broadcast, multicast, documentation or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            !(ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_multicast()
                || ip.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && ip.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = ip.segments()[0];
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && ip.segments()[1] == 0x0db8
                || first == 0x0064 && ip.segments()[1] == 0xff9b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(
                !is_public(private.parse().expect("an address")),
                "{private} passed"
            );
        }
        for public in [
            "1.1.1.1",
            "151.101.1.69",
            "2a00:1450:4001:82a::200e",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().expect("an address")), "{public} refused");
        }
    }

    #[test]
    fn links_are_checked_before_any_request() {
        let clients = HttpClients::new(false).expect("clients");
        let check = |link: &str| clients.check_link(&Url::parse(link).expect("a URL"));
        assert!(check("https://example.org/song.mp3").is_ok());
        assert!(check("http://127.0.0.1:8080/x.wav").is_err());
        assert!(check("http://[::1]/x.wav").is_err());
        assert!(check("http://169.254.169.254/latest/meta-data").is_err());
        assert!(check("ftp://example.org/song.mp3").is_err());
        assert!(check("file:///etc/passwd").is_err());
        let open = HttpClients::new(true).expect("clients");
        assert!(
            open.check_link(&Url::parse("http://127.0.0.1:8080/x.wav").expect("a URL"))
                .is_ok()
        );
    }

    #[tokio::test]
    async fn host_names_that_resolve_privately_are_refused() {
        let clients = HttpClients::new(false).expect("clients");
        let err = clients
            .links
            .get("http://localhost:9/song.wav")
            .send()
            .await
            .expect_err("refused");
        assert!(matches!(refusal(&err), Some(Refused::PrivateAddress)), "{err:?}");
    }
}
