//! Bearer tokens for provisioning people from another system. Only the SHA-256 of a token is
//! stored; the token itself is printed once, when it is made.

use sqlx::FromRow;

use super::{now_ms, OnUnique, Result, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Store {
    /// Stores a new token under a name no live token has.
    pub async fn create_api_token(&self, name: &str, token_hash: &[u8]) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(token_hash)
                .bind(now_ms())
                .execute(db)
                .await
                .on_unique("api_tokens_live_name", || StoreError::TokenNameTaken)?;
            Ok(())
        })
    }

    /// Revokes the live token called `name`; gives whether there was one.
    pub async fn revoke_api_token(&self, name: &str) -> Result<bool> {
        on_pool!(self, db => {
            let done =
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE lower(name) = lower($2) AND revoked_at IS NULL")
                    .bind(now_ms())
                    .bind(name)
                    .execute(db)
                    .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
        on_pool!(self, db => {
            Ok(sqlx::query_as("SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id")
                .fetch_all(db)
                .await?)
        })
    }

    /// The live token with this hash, marked as used now.
    pub async fn use_api_token(&self, token_hash: &[u8]) -> Result<Option<ApiToken>> {
        on_pool!(self, db => {
            Ok(sqlx::query_as(
                "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL \
                 RETURNING id, name, created_at, last_used_at, revoked_at",
            )
            .bind(now_ms())
            .bind(token_hash)
            .fetch_optional(db)
            .await?)
        })
    }
}
