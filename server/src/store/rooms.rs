use sqlx::FromRow;

use super::{Result, Store};

#[derive(Debug, Clone, FromRow)]
pub struct Room {
    pub id: i64,
    pub name: String,
    pub title: String,
}

impl Store {
    pub async fn room_by_name(&self, name: &str) -> Result<Option<Room>> {
        Ok(sqlx::query_as::<_, Room>("SELECT id, name, title FROM rooms WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }
}
