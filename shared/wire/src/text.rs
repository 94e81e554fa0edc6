//! The NUL check of the text boundary (PostgreSQL refuses U+0000 in `text`); `exomaps_api::text`
//! turns a hit into the 400 `invalid_text`.

use serde_json::Value;

pub fn has_nul(s: &str) -> bool {
    s.as_bytes().contains(&0)
}

/// Could `body` hold a NUL once decoded? (A raw NUL byte or the JSON escape `\u0000`.)
pub fn may_hold_nul(body: &[u8]) -> bool {
    body.contains(&0) || body.windows(6).any(|w| w == b"\\u0000")
}

/// The first JSON string (value or key) holding a NUL, as a JSON pointer (`/sources/0/uri`).
pub fn json_nul_field(v: &Value) -> Option<String> {
    fn walk(v: &Value, path: &mut String) -> bool {
        match v {
            Value::String(s) => has_nul(s),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                let hit = walk(item, path);
                if !hit {
                    path.truncate(len);
                }
                hit
            }),
            Value::Object(map) => map.iter().any(|(k, item)| {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('\0', "\\u0000").replace('~', "~0").replace('/', "~1"));
                let hit = has_nul(k) || walk(item, path);
                if !hit {
                    path.truncate(len);
                }
                hit
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then(|| if path.is_empty() { "/".into() } else { path })
}

/// Where a JSON text (a request body, a WebSocket message) holds a NUL: the JSON pointer of the
/// field, or `""` for text that is not JSON but holds a raw NUL byte. `None`: nothing refused
/// (text that is not JSON is left to its handler).
pub fn json_text_nul(bytes: &[u8]) -> Option<String> {
    if !may_hold_nul(bytes) {
        return None;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => json_nul_field(&v),
        Err(_) if bytes.contains(&0) => Some(String::new()),
        Err(_) => None,
    }
}
