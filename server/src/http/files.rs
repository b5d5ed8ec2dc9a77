//! Shared files. `POST /api/attach`: a multipart form with `room`, `body` (may be empty when
//! files come with it), optional `client_id`, `reply_to` and `next`, and up to 10 `file`
//! fields; it posts the message with its files. A browser's plain form post
//! (`Accept: text/html`) is redirected back to the room (with `?attach_error=` on failure);
//! anything else gets JSON `{"seq": …}` or a status with a sentence that says what to do.
//!
//! `GET /files/<id>/<name>` and `GET /files/thumb/<id>`: a shared file and an image's
//! thumbnail, for people who may see the room it was shared in. Everyone else, signed out
//! included, gets the same `404` as for a file that never existed.

use app::domain::{ClientId, MessageBody};
use app::error::AppError;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use tower::ServiceExt;

use crate::files::{FileError, Received, MAX_FILES};
use crate::services::accounts::signed_in;
use crate::services::messaging::{self, Posted};
use crate::services::rooms::viewable;
use crate::state::AppState;

/// The body's size is bounded by the guard in front of every route (`attach_body_limit`, from
/// `MAX_UPLOAD_MB`), so axum's own 2 MB default is lifted here.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(app::url::ATTACH, post(attach).layer(DefaultBodyLimit::disable()))
        .route("/files/thumb/{id}", get(thumbnail))
        .route("/files/{id}/{*name}", get(download))
}

/// The largest request `/api/attach` reads: every file at its largest, and the fields.
pub fn attach_body_limit(max_upload_bytes: u64) -> usize {
    (max_upload_bytes as usize).saturating_mul(MAX_FILES).saturating_add(1024 * 1024)
}

/// The fields of the form, files already received.
#[derive(Default)]
struct Form {
    room: String,
    body: String,
    client_id: Option<String>,
    reply_to: Option<i64>,
    next: Option<String>,
    files: Vec<Received>,
}

enum Failure {
    SignIn,
    /// Said as it is, with this status.
    Refused(StatusCode, String),
    App(AppError),
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        Failure::App(error)
    }
}

impl From<FileError> for Failure {
    fn from(error: FileError) -> Self {
        let status = match error {
            FileError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Failure::Refused(status, error.to_string())
    }
}

/// Reads the form, writing each file to a temporary file as it arrives. A file over the limit
/// (or too many files) is refused once the form is read, and every file received is removed.
async fn read_form(state: &AppState, multipart: &mut Multipart, form: &mut Form) -> Result<(), Failure> {
    let max = state.config.max_upload_bytes;
    let unreadable = || Failure::Refused(StatusCode::BAD_REQUEST, "the form could not be read: send it again".into());
    let mut refused: Option<Failure> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            let text = field.text().await.map_err(|_| unreadable())?;
            match name.as_str() {
                "room" => form.room = text,
                "body" => form.body = text,
                "client_id" => form.client_id = Some(text).filter(|id| !id.is_empty()),
                "reply_to" => form.reply_to = text.trim().parse().ok(),
                "next" => form.next = Some(text),
                _ => {}
            }
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let mut incoming = state.files.receive(&file_name).await.map_err(|error| {
            tracing::error!(%error, "could not start receiving a file");
            Failure::App(AppError::Internal)
        })?;
        let mut fits = refused.is_none() && form.files.len() < MAX_FILES;
        loop {
            // A client gone mid-file, or a disk that refuses: nothing of this file is kept.
            let chunk = match field.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(_) => {
                    incoming.abandon().await;
                    return Err(unreadable());
                }
            };
            if fits {
                fits = match incoming.push(&chunk, max).await {
                    Ok(fits) => fits,
                    Err(error) => {
                        tracing::error!(%error, "could not write a file being received");
                        incoming.abandon().await;
                        return Err(Failure::App(AppError::Internal));
                    }
                };
            }
        }
        // A form without JavaScript sends an empty file field when none was chosen.
        if file_name.is_empty() && incoming.size() == 0 {
            incoming.abandon().await;
            continue;
        }
        if refused.is_none() && form.files.len() == MAX_FILES {
            refused = Some(FileError::TooMany.into());
        }
        if refused.is_none() && incoming.size() > max {
            refused = Some(
                FileError::TooLarge { name: crate::files::clean_name(&file_name), max_mb: max / (1024 * 1024) }.into(),
            );
        }
        if refused.is_some() {
            incoming.abandon().await;
            continue;
        }
        let received = incoming.finish().await.map_err(|error| {
            tracing::error!(%error, "could not finish receiving a file");
            Failure::App(AppError::Internal)
        })?;
        form.files.push(received);
    }
    refused.map_or(Ok(()), Err)
}

async fn attach(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut form = Form::default();
    let result = async {
        let user = signed_in(&state, &headers).await.map_err(AppError::from)?.ok_or(Failure::SignIn)?;
        let mut multipart = multipart
            .map_err(|_| Failure::Refused(StatusCode::BAD_REQUEST, "send the message as a multipart form".into()))?;
        read_form(&state, &mut multipart, &mut form).await?;
        let files = std::mem::take(&mut form.files);
        let outcome = async {
            let body = match files.is_empty() {
                true => MessageBody::parse(&form.body),
                false => MessageBody::caption(&form.body),
            }
            .map_err(|error| AppError::Invalid(error.message()))?;
            let client_id = form.client_id.as_deref().map(ClientId::parse).transpose().map_err(AppError::Invalid)?;
            let (room, _) = viewable(&state, &user, &form.room).await?.ok_or(AppError::NotFound)?;
            Ok::<_, AppError>((room, body, client_id))
        };
        let (room, body, client_id) = match outcome.await {
            Ok(checked) => checked,
            Err(error) => {
                Received::discard_all(files).await;
                return Err(error.into());
            }
        };
        let posted =
            messaging::post_files(&state, &room, &user, &body, client_id.as_ref(), form.reply_to, files).await?;
        Ok(match posted {
            Posted::New(message) | Posted::Again(message) => message.seq,
        })
    }
    .await;
    if result.is_err() {
        Received::discard_all(std::mem::take(&mut form.files)).await;
    }
    answer(&headers, &form, result)
}

fn answer(headers: &HeaderMap, form: &Form, result: Result<i64, Failure>) -> Response {
    let browser_form = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let room = match app::domain::RoomName::parse(&form.room) {
        Some(name) => app::url::room(name.as_str()),
        None => "/".to_owned(),
    };
    let next = app::url::safe_next(form.next.as_deref().filter(|n| !n.is_empty()).or(Some(&room)));
    let (status, message) = match result {
        Ok(_) if browser_form => return Redirect::to(&next).into_response(),
        Ok(seq) => return axum::Json(serde_json::json!({ "seq": seq })).into_response(),
        Err(Failure::SignIn) if browser_form => return Redirect::to(&app::url::login_then(&room)).into_response(),
        Err(Failure::SignIn) => (StatusCode::UNAUTHORIZED, AppError::Unauthorized.to_string()),
        Err(Failure::Refused(status, message)) => (status, message),
        Err(Failure::App(error)) => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if let AppError::TooManyAttempts(seconds) = error {
                let mut refused = (status, error.to_string()).into_response();
                refused.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                return refused;
            }
            (status, error.to_string())
        }
    };
    if browser_form {
        let separator = if next.contains('?') { '&' } else { '?' };
        let detail = app::url::percent_encode(&message);
        return Redirect::to(&format!("{next}{separator}attach_error={detail}")).into_response();
    }
    (status, message).into_response()
}

async fn download(State(state): State<AppState>, Path((id, _name)): Path<(i64, String)>, request: Request) -> Response {
    serve(&state, id, false, request).await
}

async fn thumbnail(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    serve(&state, id, true, request).await
}

/// The file (or thumbnail) of an attachment, to someone who may see its room.
async fn serve(state: &AppState, id: i64, thumb: bool, request: Request) -> Response {
    let not_found =
        || (StatusCode::NOT_FOUND, "this file does not exist, or you do not have access to it").into_response();
    let headers = request.headers().clone();
    let found = async {
        let user = signed_in(state, &headers).await?;
        let Some(user) = user else { return Ok(None) };
        let Some(file) = state.store.shared_file(id).await? else { return Ok(None) };
        let Some(room) = state.store.room_by_id(file.room_id).await? else { return Ok(None) };
        Ok::<_, crate::store::StoreError>(viewable(state, &user, &room.name).await?.map(|_| file))
    };
    let file = match found.await {
        Ok(Some(file)) if !thumb || file.thumb => file,
        Ok(_) => return not_found(),
        Err(error) => {
            tracing::error!(%error, "could not look up a shared file");
            return (StatusCode::INTERNAL_SERVER_ERROR, AppError::Internal.to_string()).into_response();
        }
    };
    let path = if thumb { state.files.thumb_path(&file.hash) } else { state.files.path(&file.hash) };
    let mut response = match tower_http::services::ServeFile::new(path).oneshot(request).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        tracing::error!(hash = %file.hash, "a shared file is missing from the files folder");
        return not_found();
    }
    let headers = response.headers_mut();
    // Only images we re-encoded are shown in place; anything else is a download of bytes.
    let (mime, disposition) = match (thumb, file.thumb) {
        (true, _) => (thumb_mime(&state.files.thumb_path(&file.hash)), "inline"),
        (false, true) => (file.mime.clone(), "inline"),
        (false, false) => ("application/octet-stream".to_owned(), "attachment"),
    };
    if let Ok(mime) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    let encoded = app::url::percent_encode(&file.name).replace('/', "%2F");
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; filename*=UTF-8''{encoded}")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    response
}

/// A thumbnail is a JPEG, or a PNG when the image has transparency.
fn thumb_mime(path: &std::path::Path) -> String {
    let mut head = [0u8; 4];
    let png = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head)).is_ok()
        && head == *b"\x89PNG";
    if png { "image/png" } else { "image/jpeg" }.to_owned()
}
