//! How this browser shows the chat (`/api/theme`): kept in a cookie, so that the server renders
//! every page in the chosen colours from its first paint, signed in or not, with or without
//! JavaScript.

use leptos::prelude::*;

use crate::domain::Theme;
use crate::error::AppError;

/// Remembers `theme` in this browser for a year (`system` forgets the choice); a plain form
/// post goes back to `next`.
#[server(endpoint = "theme")]
pub async fn set_theme(theme: String, next: Option<String>) -> Result<Theme, AppError> {
    use crate::api::request::*;

    let theme = Theme::parse(&theme);
    let max_age = if theme == Theme::System { 0 } else { 31_536_000 };
    let cookie = format!("{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}", Theme::COOKIE, theme.as_str());
    set_cookie(http::HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?);
    finish_form(Ok(theme), &safe_next(next.as_deref().or(Some(url::SETTINGS))), url::SETTINGS, &[])
}

/// The theme this request's browser chose.
#[cfg(feature = "ssr")]
pub fn requested_theme() -> Theme {
    let headers = crate::api::request::request_headers();
    let cookies = headers.get_all(http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    Theme::from_cookies(&cookies.join("; "))
}
