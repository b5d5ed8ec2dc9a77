//! Searching messages (`/api/search`).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SearchPage;

/// A page of the messages matching `q` among those the signed-in person may see, newest
/// first or (`sort` = `relevance`) best match first, from `page` (a previous page's `next`).
/// An empty search finds nothing (and is not an error).
#[server(endpoint = "search")]
pub async fn search(q: String, sort: Option<String>, page: Option<String>) -> Result<SearchPage, AppError> {
    use crate::api::request::*;
    use crate::domain::SearchQuery;
    use crate::model::SearchOrder;

    let result = async {
        let user = require_user().await?;
        let query = SearchQuery::parse(&q).map_err(AppError::Invalid)?;
        if query.is_empty() {
            return Ok(SearchPage::default());
        }
        let order = SearchOrder::from_param(sort.as_deref());
        backend()?.search(&user, &query, order, page.as_deref()).await
    }
    .await;
    respond(result)
}
