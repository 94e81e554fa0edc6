//! Percent-encoding of URL components, written once (the database URL built from a secret, the
//! API's links): `percent_encoding` over every byte but the RFC 3986 unreserved characters.

/// Every byte but the RFC 3986 unreserved characters (`A–Z a–z 0–9 - . _ ~`).
const COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a URL component (a query value, userinfo or path segment), so it can sit in
/// any part of a URL.
pub fn encode_component(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}
