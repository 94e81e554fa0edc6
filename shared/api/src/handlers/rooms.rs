//! Rooms on the map (issue 16): shareable rooms (`/?room=<id>`), their members (the
//! connections subscribed to the `room:<id>` WebSocket channel), annotations pinned to a system
//! or a point (text ≤ 500 characters stored verbatim, optional http(s) link; author or admin
//! edits and deletes; 30 writes a minute per user), pushed live to the room, and the admin
//! broadcast to every open connection. The cursor side of a room lives in `crate::ws`.

pub use crate::frames::{Annotation, BroadcastLevel, Cursor, CursorTarget, Member, Point};

use crate::error::ApiError;
use crate::frames::ServerMessage;
use crate::request::{ApiRequest, ApiResponse, json_response, ok_json};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use exomaps_domain::persona::Persona;
use exomaps_store::rooms::{AnnotationRow, MemberRow, NewAnnotation, RoomRow, SystemLookup};
use http::{HeaderValue, StatusCode};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// Longest annotation text and broadcast message, in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// Longest link, in characters.
pub const MAX_LINK_CHARS: usize = 500;
/// Longest room name, in characters.
pub const MAX_ROOM_NAME_CHARS: usize = 80;
/// Longest system id (annotations, cursors).
pub use exomaps_wire::ws::MAX_SYSTEM_ID_CHARS;
/// Annotation writes (create + update) per user per minute.
pub const ANNOTATION_WRITES_PER_MINUTE: i32 = 30;

/// The WebSocket channel of a room.
pub fn room_channel(room_id: Uuid) -> String {
    format!("room:{room_id}")
}

/// A room.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Room {
    pub id: Uuid,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The shareable map path: `/?room=<id>`.
    pub path: String,
}

impl From<&RoomRow> for Room {
    fn from(r: &RoomRow) -> Self {
        Room {
            id: r.room_id,
            name: r.name.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            path: format!("/?room={}", r.room_id),
        }
    }
}

/// `GET /api/rooms/{room_id}` answer: the room and who is in it now.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoomDetail {
    pub id: Uuid,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub path: String,
    /// Members currently present (subscribed to `room:<id>`), one per user and persona.
    pub members: Vec<Member>,
}

/// A member row as its frame.
pub fn member(m: &MemberRow) -> Member {
    Member { user: m.user_name.clone(), persona: m.persona.clone() }
}

/// An annotation row as its frame.
pub fn annotation(a: &AnnotationRow) -> Annotation {
    {
        let point = match (a.x_ly, a.y_ly, a.z_ly) {
            (Some(x_ly), Some(y_ly), Some(z_ly)) => Some(Point { x_ly, y_ly, z_ly }),
            _ => None,
        };
        Annotation {
            id: a.annotation_id,
            room_id: a.room_id,
            system_id: a.system_id.clone(),
            system_name: a.system_name.clone(),
            point,
            text: a.text.clone(),
            link: a.link.clone(),
            author: a.author.clone(),
            author_persona: a.author_persona.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// `GET /api/rooms/{room_id}/annotations` answer.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnnotationList {
    /// Oldest first.
    pub annotations: Vec<Annotation>,
}

/// `POST /api/rooms` body.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    /// 1–80 characters; default "<user>'s room".
    pub name: Option<String>,
}

/// `POST /api/rooms/{room_id}/annotations` body: exactly one of `system_id` and `point`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAnnotation {
    /// A system (main_id) of the active world build.
    pub system_id: Option<String>,
    pub point: Option<Point>,
    /// 1–500 characters, stored verbatim; no control characters but newline and tab.
    pub text: String,
    /// An http(s) URL of at most 500 characters.
    pub link: Option<String>,
}

/// `PATCH /api/rooms/{room_id}/annotations/{annotation_id}` body: what to change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAnnotation {
    pub text: Option<String>,
    /// A new link, or null to remove it; absent: unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub link: Option<Option<String>>,
}

/// `Some(None)` for an explicit null, `Some(Some(v))` for a value (absent: the `default`, None).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `POST /api/admin/broadcast` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastBody {
    /// 1–500 characters, shown as text.
    pub message: String,
    pub level: Option<BroadcastLevel>,
}

/// `POST /api/admin/broadcast` answer.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct BroadcastSent {
    /// Connections the message was delivered to.
    pub delivered: i64,
}

/// Checks user text: `min..=max` characters, something besides spaces when `min > 0`, no control
/// characters (newline and tab allowed when `multiline`). NUL is refused earlier, by `text`.
pub fn check_text(field: &str, s: &str, min: usize, max: usize, multiline: bool) -> Result<(), ApiError> {
    let n = s.chars().count();
    if n < min || n > max || (min > 0 && s.trim().is_empty()) {
        return Err(ApiError::bad_request(format!("{field} must be {min}–{max} characters")).with("field", field));
    }
    if let Some(c) = s.chars().find(|c| c.is_control() && !(multiline && (*c == '\n' || *c == '\t'))) {
        return Err(ApiError::bad_request(format!(
            "{field} contains the control character U+{:04X}, which is not accepted",
            c as u32
        ))
        .with_code("invalid_text")
        .with("field", field));
    }
    Ok(())
}

fn check_link(link: &str) -> Result<(), ApiError> {
    check_text("link", link, 1, MAX_LINK_CHARS, false)?;
    let ok = url::Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !ok || link.chars().any(char::is_whitespace) {
        return Err(ApiError::bad_request("link must be an http(s) URL").with("field", "link"));
    }
    Ok(())
}

fn uuid_param(req: &ApiRequest, name: &str, what: &str) -> Result<Uuid, ApiError> {
    let raw = req.path_params.get(name).map(String::as_str).unwrap_or("");
    Uuid::parse_str(raw).map_err(|_| ApiError::bad_request(format!("{raw:?} is not a {what} id (UUID)")))
}

async fn room_of(state: &AppState, req: &ApiRequest) -> Result<RoomRow, ApiError> {
    let id = uuid_param(req, "room_id", "room")?;
    state.store()?.room(id).await?.ok_or_else(|| ApiError::not_found(format!("room {id} not found")))
}

/// The caller's name as rooms show it.
fn user_name(req: &ApiRequest) -> String {
    req.caller.user.clone().unwrap_or_else(|| "guest".into())
}

/// `POST /api/rooms`.
pub async fn create_room(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: CreateRoom = if req.body.is_empty() { CreateRoom::default() } else { req.json_body(4096)? };
    let user = user_name(&req);
    let name = match body.name {
        Some(name) => {
            check_text("name", &name, 1, MAX_ROOM_NAME_CHARS, false)?;
            name
        }
        None => format!("{user}'s room").chars().take(MAX_ROOM_NAME_CHARS).collect(),
    };
    let room = state.store()?.create_room(&name, &user, req.caller.user_id).await?;
    Ok(json_response(StatusCode::CREATED, &Room::from(&room)))
}

/// `GET /api/rooms/{room_id}`.
pub async fn get_room(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let room = room_of(&state, &req).await?;
    let members = state.store()?.channel_members(&room_channel(room.room_id)).await?;
    let r = Room::from(&room);
    Ok(ok_json(&RoomDetail {
        id: r.id,
        name: r.name,
        created_by: r.created_by,
        created_at: r.created_at,
        path: r.path,
        members: members.iter().map(member).collect(),
    }))
}

/// `GET /api/rooms/{room_id}/annotations`.
pub async fn list_annotations(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let room = room_of(&state, &req).await?;
    let rows = state.store()?.annotations(room.room_id).await?;
    Ok(ok_json(&AnnotationList { annotations: rows.iter().map(annotation).collect() }))
}

/// Counts a write against the caller's per-minute allowance: 429 with Retry-After past it.
async fn count_write(state: &AppState, req: &ApiRequest) -> Result<(), ApiError> {
    let key = match (req.caller.user_id, &req.caller.user) {
        (Some(id), _) => format!("user:{id}"),
        (None, Some(user)) => format!("name:{user}"),
        (None, None) => "guest".into(),
    };
    let (writes, retry_after) = state.store()?.count_annotation_write(&key, 60).await?;
    if writes > ANNOTATION_WRITES_PER_MINUTE {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_annotations",
            format!("at most {ANNOTATION_WRITES_PER_MINUTE} annotation writes a minute; try again in {retry_after} s"),
        )
        .with("retry_after", retry_after)
        .with_header(http::header::RETRY_AFTER, HeaderValue::from(retry_after)));
    }
    Ok(())
}

async fn push(state: &AppState, event: &'static str, annotation: &Annotation) {
    let channel = room_channel(annotation.room_id);
    let msg =
        ServerMessage::Annotation { channel: channel.clone(), event: event.into(), annotation: annotation.clone() };
    if let Ok(ctx) = state.pipeline_context() {
        ctx.notifier.publish(&channel, &msg).await;
    }
}

/// `POST /api/rooms/{room_id}/annotations`.
pub async fn create_annotation(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let room = room_of(&state, &req).await?;
    let body: CreateAnnotation = req.json_body(16 * 1024)?;
    check_text("text", &body.text, 1, MAX_TEXT_CHARS, true)?;
    if let Some(link) = &body.link {
        check_link(link)?;
    }
    let store = state.store()?;
    let system_name = match (&body.system_id, &body.point) {
        (Some(id), None) => {
            check_text("system_id", id, 1, MAX_SYSTEM_ID_CHARS, false)?;
            match store.system_in_active_build(id).await? {
                SystemLookup::Found(name) => Some(name),
                SystemLookup::NoActiveBuild => None,
                SystemLookup::Unknown => {
                    return Err(ApiError::bad_request(format!("no system {id:?} in the active world build"))
                        .with("field", "system_id"));
                }
            }
        }
        (None, Some(p)) => {
            if ![p.x_ly, p.y_ly, p.z_ly].iter().all(|v| v.is_finite() && v.abs() <= 1e6) {
                return Err(
                    ApiError::bad_request("point coordinates must be finite, |v| ≤ 1e6 ly").with("field", "point")
                );
            }
            None
        }
        _ => return Err(ApiError::bad_request("pin the annotation to exactly one of system_id and point")),
    };
    count_write(&state, &req).await?;
    let user = user_name(&req);
    let row = store
        .insert_annotation(&NewAnnotation {
            room_id: room.room_id,
            system_id: body.system_id.as_deref(),
            system_name: system_name.as_deref(),
            point: body.point.map(|p| [p.x_ly, p.y_ly, p.z_ly]),
            text: &body.text,
            link: body.link.as_deref(),
            author: &user,
            author_id: req.caller.user_id,
            author_persona: req.caller.persona.key(),
        })
        .await?;
    let annotation = annotation(&row);
    push(&state, "created", &annotation).await;
    Ok(json_response(StatusCode::CREATED, &annotation))
}

/// The annotation named by the path, when the caller may change it (its author, or admin).
async fn editable(state: &AppState, req: &ApiRequest) -> Result<AnnotationRow, ApiError> {
    let room = room_of(state, req).await?;
    let id = uuid_param(req, "annotation_id", "annotation")?;
    let row = state
        .store()?
        .annotation(room.room_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("annotation {id} not found in room {}", room.room_id)))?;
    let is_author = row.author_id.is_some() && row.author_id == req.caller.user_id;
    if !is_author && req.caller.persona != Persona::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only its author or an admin may change an annotation",
        )
        .with("current_persona", req.caller.persona.key()));
    }
    Ok(row)
}

/// `PATCH /api/rooms/{room_id}/annotations/{annotation_id}`.
pub async fn update_annotation(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: UpdateAnnotation = req.json_body(16 * 1024)?;
    if let Some(text) = &body.text {
        check_text("text", text, 1, MAX_TEXT_CHARS, true)?;
    }
    if let Some(Some(link)) = &body.link {
        check_link(link)?;
    }
    let row = editable(&state, &req).await?;
    count_write(&state, &req).await?;
    let row = state
        .store()?
        .update_annotation(
            row.room_id,
            row.annotation_id,
            body.text.as_deref(),
            body.link.as_ref().map(|l| l.as_deref()),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("annotation not found"))?;
    let annotation = annotation(&row);
    push(&state, "updated", &annotation).await;
    Ok(ok_json(&annotation))
}

/// `DELETE /api/rooms/{room_id}/annotations/{annotation_id}`: 204.
pub async fn delete_annotation(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let row = editable(&state, &req).await?;
    let row = state
        .store()?
        .delete_annotation(row.room_id, row.annotation_id)
        .await?
        .ok_or_else(|| ApiError::not_found("annotation not found"))?;
    push(&state, "deleted", &annotation(&row)).await;
    let mut res = http::Response::new(bytes::Bytes::new());
    *res.status_mut() = StatusCode::NO_CONTENT;
    Ok(res)
}

/// `POST /api/admin/broadcast`: a message to every open connection; 202 with how many got it.
pub async fn broadcast(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: BroadcastBody = req.json_body(16 * 1024)?;
    check_text("message", &body.message, 1, MAX_TEXT_CHARS, true)?;
    let msg = ServerMessage::Broadcast {
        message: body.message,
        level: body.level.unwrap_or_default(),
        from: user_name(&req),
        at: Utc::now(),
    };
    let ctx = state.pipeline_context()?;
    let report = ctx.notifier.publish_all(&msg).await;
    Ok(json_response(StatusCode::ACCEPTED, &BroadcastSent { delivered: report.delivered as i64 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(check_text("text", "<script>alert(1)</script>", 1, 500, true).is_ok());
        assert!(check_text("text", "two\nlines\tand tab", 1, 500, true).is_ok());
        assert_eq!(check_text("text", "bell\u{7}", 1, 500, true).unwrap_err().code, "invalid_text");
        assert_eq!(check_text("text", "esc\u{1b}[31m", 1, 500, true).unwrap_err().code, "invalid_text");
        assert_eq!(check_text("text", "c1\u{85}", 1, 500, true).unwrap_err().code, "invalid_text");
        assert_eq!(check_text("name", "a\nb", 1, 80, false).unwrap_err().code, "invalid_text");
        assert!(check_text("text", &"é".repeat(500), 1, 500, true).is_ok(), "characters, not bytes");
        assert_eq!(check_text("text", &"a".repeat(501), 1, 500, true).unwrap_err().status, 400);
        assert!(check_text("text", "   ", 1, 500, true).is_err());
        assert!(check_text("text", "", 1, 500, true).is_err());
    }

    #[test]
    fn links_are_http_urls() {
        assert!(check_link("https://exoplanet.eu/catalog/tau_cet_e--1/").is_ok());
        assert!(check_link("http://example.org").is_ok());
        for bad in ["javascript:alert(1)", "ftp://x.org/", "https://", "not a url", "https://a b.org/"] {
            assert!(check_link(bad).is_err(), "{bad}");
        }
        assert!(check_link(&format!("https://x.org/{}", "a".repeat(500))).is_err());
    }

    #[test]
    fn update_tells_null_from_absent() {
        let absent: UpdateAnnotation = serde_json::from_str(r#"{"text":"x"}"#).unwrap();
        assert_eq!(absent.link, None);
        let null: UpdateAnnotation = serde_json::from_str(r#"{"link":null}"#).unwrap();
        assert_eq!(null.link, Some(None));
        let set: UpdateAnnotation = serde_json::from_str(r#"{"link":"https://x.org"}"#).unwrap();
        assert_eq!(set.link, Some(Some("https://x.org".into())));
    }
}
