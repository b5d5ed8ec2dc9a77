//! Same-origin checks: a WebSocket upgrade or a form post is accepted only from the site's own
//! pages (or an origin listed in `ALLOWED_ORIGINS`). Browsers always send `Origin` on both.

use http::{header, HeaderMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginCheck {
    /// No `Origin` header: not a browser (a bot, a test, curl), which cookies alone authorise.
    Absent,
    SameSite,
    Foreign,
}

pub fn check_origin(headers: &HeaderMap, allowed: &[String]) -> OriginCheck {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return OriginCheck::Absent;
    };
    let origin = origin.trim_end_matches('/');
    if allowed.iter().any(|allowed| allowed.eq_ignore_ascii_case(origin)) {
        return OriginCheck::SameSite;
    }
    // `Origin` is scheme://host[:port]; compare its authority with the Host the browser used.
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (authority, host) {
        (Some(authority), Some(host)) if authority.eq_ignore_ascii_case(host) => OriginCheck::SameSite,
        _ => OriginCheck::Foreign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static(host));
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
        }
        headers
    }

    #[test]
    fn own_origin_passes_and_others_do_not() {
        assert_eq!(check_origin(&headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000"), &[]), OriginCheck::SameSite);
        assert_eq!(check_origin(&headers(Some("http://evil.example"), "127.0.0.1:3000"), &[]), OriginCheck::Foreign);
        assert_eq!(check_origin(&headers(Some("http://127.0.0.1:3001"), "127.0.0.1:3000"), &[]), OriginCheck::Foreign);
        assert_eq!(check_origin(&headers(Some("null"), "127.0.0.1:3000"), &[]), OriginCheck::Foreign);
        assert_eq!(check_origin(&headers(None, "127.0.0.1:3000"), &[]), OriginCheck::Absent);
    }

    #[test]
    fn listed_origins_pass() {
        let allowed = vec!["https://chat.example.org".to_owned()];
        assert_eq!(
            check_origin(&headers(Some("https://chat.example.org"), "10.0.0.5:3000"), &allowed),
            OriginCheck::SameSite
        );
    }
}
