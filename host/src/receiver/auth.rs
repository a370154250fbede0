//! The `bearertokenauth` check of a receiver: a request must carry `<header>: <scheme> <token>`
//! with one of the configured tokens, else it is refused before its body is read.

use crate::config::BearerTokenAuthConfig;
use http::{HeaderMap, HeaderName};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A configured token check, cheap to clone.
#[derive(Clone)]
pub struct BearerAuth(Arc<Inner>);

struct Inner {
    header: HeaderName,
    prefix: String,
    tokens: Vec<Vec<u8>>,
}

/// Why a request was refused; the text goes back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// No credentials at all.
    #[error("missing credentials: send the {0} header")]
    Missing(&'static str),
    /// The header does not start with the scheme.
    #[error("the credentials do not use the expected scheme")]
    Scheme,
    /// No configured token matches.
    #[error("the token is not valid")]
    Token,
}

impl BearerAuth {
    /// The check `config` describes (already validated: a header name, at least one token).
    pub fn new(config: &BearerTokenAuthConfig) -> Self {
        let header =
            HeaderName::from_bytes(config.header.as_bytes()).unwrap_or(http::header::AUTHORIZATION);
        let prefix = if config.scheme.is_empty() {
            String::new()
        } else {
            format!("{} ", config.scheme)
        };
        Self(Arc::new(Inner {
            header,
            prefix,
            tokens: config.all_tokens().map(|t| t.as_bytes().to_vec()).collect(),
        }))
    }

    /// Whether `headers` carry a valid token. Tokens are compared in constant time.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refused> {
        let Some(value) = headers.get(&self.0.header) else {
            return Err(Refused::Missing(
                if self.0.header == http::header::AUTHORIZATION {
                    "authorization"
                } else {
                    "configured authentication"
                },
            ));
        };
        let token = value
            .as_bytes()
            .strip_prefix(self.0.prefix.as_bytes())
            .ok_or(Refused::Scheme)?;
        // Every token is compared, so the time taken does not say which one came close.
        let matched = self
            .0
            .tokens
            .iter()
            .fold(subtle::Choice::from(0), |any, t| {
                any | t.as_slice().ct_eq(token)
            });
        if bool::from(matched) {
            Ok(())
        } else {
            Err(Refused::Token)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(scheme: &str, tokens: &[&str]) -> BearerAuth {
        BearerAuth::new(&BearerTokenAuthConfig {
            token: None,
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            scheme: scheme.to_owned(),
            header: "authorization".to_owned(),
        })
    }

    fn headers(value: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(v) = value {
            map.insert(http::header::AUTHORIZATION, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn accepts_any_configured_token_and_nothing_else() {
        let a = auth("Bearer", &["old", "new"]);
        assert_eq!(a.check(&headers(Some("Bearer old"))), Ok(()));
        assert_eq!(a.check(&headers(Some("Bearer new"))), Ok(()));
        assert_eq!(a.check(&headers(Some("Bearer ne"))), Err(Refused::Token));
        assert_eq!(a.check(&headers(Some("Bearer newer"))), Err(Refused::Token));
        assert_eq!(a.check(&headers(Some("Bearer "))), Err(Refused::Token));
        assert_eq!(a.check(&headers(Some("Basic new"))), Err(Refused::Scheme));
        assert_eq!(a.check(&headers(Some("bearer new"))), Err(Refused::Scheme));
        assert_eq!(
            a.check(&headers(None)),
            Err(Refused::Missing("authorization"))
        );
    }

    #[test]
    fn an_empty_scheme_takes_the_header_as_the_token() {
        let a = auth("", &["s3cret"]);
        assert_eq!(a.check(&headers(Some("s3cret"))), Ok(()));
        assert_eq!(
            a.check(&headers(Some("Bearer s3cret"))),
            Err(Refused::Token)
        );
    }
}
