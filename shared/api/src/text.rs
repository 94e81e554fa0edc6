//! Text validation at the one boundary (issue 9): every path parameter, query key and value,
//! every string (and key) of a JSON request body, nested, and every WebSocket client message is
//! checked here, before any handler or SQL sees it. PostgreSQL refuses NUL (U+0000) in `text`,
//! so a NUL anywhere is a 400 `invalid_text` naming the field — never a 500 from the driver.
//! (Invalid UTF-8 and lone surrogates never get this far: the adapters and serde refuse them.)

use crate::error::ApiError;
use crate::request::ApiRequest;

/// The 400 for a field holding text the server cannot store.
pub fn invalid_text(field: &str) -> ApiError {
    ApiError::bad_request(format!("{field} contains a NUL character (U+0000), which is not accepted"))
        .with_code("invalid_text")
        .with("field", field.to_string())
}

use exomaps_wire::text::has_nul;
pub use exomaps_wire::text::json_nul_field;

/// Percent-encodes a URL component (`exomaps_platform::percent`, the one encoder).
pub use exomaps_platform::percent::encode_component;

/// Checks a JSON text (a request body or a WebSocket message); `prefix` names where it came from.
/// Text that is not JSON is left to the handler (it answers its own 400).
pub fn check_json(bytes: &[u8], prefix: &str) -> Result<(), ApiError> {
    // Not JSON but holding a raw NUL: still text we refuse (pointer "").
    match exomaps_wire::text::json_text_nul(bytes) {
        Some(pointer) => Err(invalid_text(&format!("{prefix}{pointer}"))),
        None => Ok(()),
    }
}

/// Checks every text input of a request: path parameters, query keys and values, the JSON body.
pub fn check_request(req: &ApiRequest) -> Result<(), ApiError> {
    let mut params: Vec<_> = req.path_params.iter().collect();
    params.sort();
    for (k, v) in params {
        if has_nul(k) || has_nul(v) {
            return Err(invalid_text(&format!("path parameter '{}'", k.replace('\0', "\\u0000"))));
        }
    }
    let mut query: Vec<_> = req.query.iter().collect();
    query.sort();
    for (k, v) in query {
        if has_nul(k) || has_nul(v) {
            return Err(invalid_text(&format!("query parameter '{}'", k.replace('\0', "\\u0000"))));
        }
    }
    check_json(&req.body, "body ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_found_anywhere_in_json_and_named() {
        assert_eq!(json_nul_field(&json!({"a": "ok", "b": [1, "x"]})), None);
        assert_eq!(json_nul_field(&json!({"run_name": "a\u{0}b"})).as_deref(), Some("/run_name"));
        let nested = json!({"sources": [{"family": "SIMBAD", "uri": "s3://b/\u{0}"}]});
        assert_eq!(json_nul_field(&nested).as_deref(), Some("/sources/0/uri"));
        assert_eq!(json_nul_field(&json!({"k\u{0}": 1})).as_deref(), Some("/k\\u0000"));
        assert_eq!(json_nul_field(&json!("\u{0}")).as_deref(), Some("/"));
    }

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(encode_component("NAME Barnard's star"), "NAME%20Barnard%27s%20star");
        assert_eq!(encode_component("p@ss:w/rd~-._"), "p%40ss%3Aw%2Frd~-._");
        assert_eq!(encode_component("τ Cet"), "%CF%84%20Cet");
    }

    #[test]
    fn bodies_and_parameters_are_checked() {
        assert!(check_json(br#"{"a":"\\u0000 is just text"}"#, "body ").is_ok(), "an escaped backslash is not a NUL");
        let e = check_json(br#"{"username":"a\u0000b","password":"x"}"#, "body ").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "invalid_text"));
        assert_eq!(e.details["field"], "body /username");
        assert!(check_json(b"not json \0", "body").is_err());
        assert!(check_json(b"not json", "body").is_ok(), "the handler answers its own 400");

        let mut req = ApiRequest::new(http::Method::GET);
        req.path_params.insert("id".into(), "a\0b".into());
        assert_eq!(check_request(&req).unwrap_err().details["field"], "path parameter 'id'");
        let req = ApiRequest::new(http::Method::GET).with_query("code", "\0");
        assert_eq!(check_request(&req).unwrap_err().details["field"], "query parameter 'code'");
        assert!(check_request(&ApiRequest::new(http::Method::GET).with_query("code", "ok")).is_ok());
    }
}
