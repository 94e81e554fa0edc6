//! Access tokens: short-lived JWTs (RFC 9068 shape) signed with HS256 by the current key of
//! the [`KeySet`], validated per RFC 8725:
//!
//! * the algorithm is pinned (HS256 only; `none`, RS*/ES*/EdDSA and even HS384/HS512 with the
//!   right secret are refused before any signature check);
//! * the header must say `typ: at+jwt` (explicit typing) and name a `kid` of the key set; a
//!   `crit` header is refused; `jku`/`jwk`/`x5u` are never followed;
//! * `iss`, `aud`, `exp`, `nbf`, `sub` are required and checked (leeway 5 s);
//! * tokens longer than [`MAX_TOKEN_BYTES`] are refused unparsed.

use crate::config::AuthConfig;
use crate::secrets::KeySet;
use exomaps_domain::persona::Persona;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const TOKEN_TYPE: &str = "at+jwt";
pub const ALGORITHM: Algorithm = Algorithm::HS256;
pub const MAX_TOKEN_BYTES: usize = 4096;
pub const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    /// The username.
    pub name: String,
    /// The active persona.
    pub persona: String,
    /// Every persona the user may switch to.
    pub personas: Vec<String>,
    /// The session (refresh-token family) the token was issued in, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Who a token is issued for.
#[derive(Debug, Clone)]
pub struct Subject {
    pub user_id: Uuid,
    pub username: String,
    pub persona: Persona,
    pub personas: Vec<Persona>,
    pub session: Option<Uuid>,
}

/// Why a token was refused (logged; the client only learns "invalid_token").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Oversized,
    Malformed,
    Algorithm,
    Type,
    UnknownKey,
    Signature,
    Expired,
    NotYetValid,
    Issuer,
    Audience,
    Claims,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Oversized => "oversized",
            Rejection::Malformed => "malformed",
            Rejection::Algorithm => "algorithm",
            Rejection::Type => "typ",
            Rejection::UnknownKey => "unknown_kid",
            Rejection::Signature => "signature",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::Issuer => "issuer",
            Rejection::Audience => "audience",
            Rejection::Claims => "claims",
        }
    }
}

/// Signs an access token for `subject`, valid from `now` for `cfg.access_ttl_secs`.
pub fn issue(cfg: &AuthConfig, keys: &KeySet, subject: &Subject, now: i64) -> Result<(String, AccessClaims), String> {
    let claims = AccessClaims {
        iss: cfg.issuer.clone(),
        aud: cfg.audience.clone(),
        sub: subject.user_id.to_string(),
        exp: now + cfg.access_ttl_secs,
        nbf: now,
        iat: now,
        jti: Uuid::new_v4().to_string(),
        name: subject.username.clone(),
        persona: subject.persona.key().to_string(),
        personas: subject.personas.iter().map(|p| p.key().to_string()).collect(),
        sid: subject.session.map(|s| s.to_string()),
    };
    let mut header = Header::new(ALGORITHM);
    header.typ = Some(TOKEN_TYPE.into());
    header.kid = Some(keys.current.kid.clone());
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(keys.current.secret()))
        .map_err(|e| format!("signing failed: {e}"))?;
    Ok((token, claims))
}

/// A verified token.
#[derive(Debug, Clone)]
pub struct Verified {
    pub claims: AccessClaims,
    pub subject: Subject,
    pub kid: String,
}

/// Verifies an access token against the key set; see the module docs for the rules.
pub fn verify(cfg: &AuthConfig, keys: &KeySet, token: &str) -> Result<Verified, Rejection> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Rejection::Oversized);
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(is_b64url)) {
        return Err(Rejection::Malformed);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
        // An unknown "alg" (e.g. "none") does not deserialise into the Algorithm enum.
        ErrorKind::Json(_) if raw_alg(parts[0]).is_some_and(|a| a != "HS256") => Rejection::Algorithm,
        _ => Rejection::Malformed,
    })?;
    if header.alg != ALGORITHM {
        return Err(Rejection::Algorithm);
    }
    let typ = header.typ.as_deref().map(str::to_ascii_lowercase);
    if !matches!(typ.as_deref(), Some("at+jwt") | Some("application/at+jwt")) {
        return Err(Rejection::Type);
    }
    if header.crit.is_some() {
        return Err(Rejection::Malformed);
    }
    let kid = header.kid.ok_or(Rejection::UnknownKey)?;
    let key = keys.find(&kid).ok_or(Rejection::UnknownKey)?;

    let mut validation = Validation::new(ALGORITHM);
    validation.set_issuer(&[&cfg.issuer]);
    validation.set_audience(&[&cfg.audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECS;
    let data = jsonwebtoken::decode::<AccessClaims>(token, &DecodingKey::from_secret(key.secret()), &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => Rejection::Signature,
            ErrorKind::ExpiredSignature => Rejection::Expired,
            ErrorKind::ImmatureSignature => Rejection::NotYetValid,
            ErrorKind::InvalidIssuer => Rejection::Issuer,
            ErrorKind::InvalidAudience => Rejection::Audience,
            ErrorKind::InvalidAlgorithm => Rejection::Algorithm,
            ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => {
                Rejection::Claims
            }
            _ => Rejection::Malformed,
        })?;
    let claims = data.claims;
    let user_id = Uuid::parse_str(&claims.sub).map_err(|_| Rejection::Claims)?;
    let personas: Vec<Persona> =
        claims.personas.iter().map(|k| Persona::from_key(k)).collect::<Option<_>>().ok_or(Rejection::Claims)?;
    let persona = Persona::from_key(&claims.persona).ok_or(Rejection::Claims)?;
    if !personas.contains(&persona) {
        return Err(Rejection::Claims);
    }
    let session = match &claims.sid {
        Some(s) => Some(Uuid::parse_str(s).map_err(|_| Rejection::Claims)?),
        None => None,
    };
    let subject = Subject { user_id, username: claims.name.clone(), persona, personas, session };
    Ok(Verified { claims, subject, kid })
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The `alg` string of an encoded header, for error classification only.
fn raw_alg(encoded_header: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded_header).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("alg")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SigningKey;

    fn subject() -> Subject {
        Subject {
            user_id: Uuid::new_v4(),
            username: "ada".into(),
            persona: Persona::DataCurator,
            personas: vec![Persona::DataCurator, Persona::GeneralUser],
            session: Some(Uuid::new_v4()),
        }
    }

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    #[test]
    fn issued_tokens_verify_with_their_claims() {
        let cfg = AuthConfig::default();
        let keys = KeySet::generate();
        let s = subject();
        let (token, claims) = issue(&cfg, &keys, &s, now()).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some(keys.current.kid.as_str()));
        let v = verify(&cfg, &keys, &token).unwrap();
        assert_eq!(v.claims, claims);
        assert_eq!(v.subject.persona, Persona::DataCurator);
        assert_eq!(v.subject.user_id, s.user_id);
        assert_eq!(v.subject.session, s.session);
        assert_eq!(claims.exp - claims.nbf, cfg.access_ttl_secs);
    }

    #[test]
    fn previous_keys_verify_and_dropped_keys_do_not() {
        let cfg = AuthConfig::default();
        let old = KeySet::generate();
        let (token, _) = issue(&cfg, &old, &subject(), now()).unwrap();
        let rotated = old.rotated(SigningKey::generate(), 1);
        assert_eq!(verify(&cfg, &rotated, &token).unwrap().kid, old.current.kid);
        let dropped = rotated.rotated(SigningKey::generate(), 1);
        assert_eq!(verify(&cfg, &dropped, &token).unwrap_err(), Rejection::UnknownKey);
    }

    #[test]
    fn a_persona_outside_the_allowed_set_is_refused() {
        let cfg = AuthConfig::default();
        let keys = KeySet::generate();
        let mut claims = issue(&cfg, &keys, &subject(), now()).unwrap().1;
        claims.persona = "admin".into();
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(TOKEN_TYPE.into());
        header.kid = Some(keys.current.kid.clone());
        let forged = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(keys.current.secret())).unwrap();
        assert_eq!(verify(&cfg, &keys, &forged).unwrap_err(), Rejection::Claims);
    }
}
