//! A person's roles: what the directory's visibility rule compares. Replaced whole, by an
//! admin, the command line or a provisioning sync, always through [`replace_roles`].

use app::domain::Role;

use super::{Conn, Result, Store};

/// A person's roles, alphabetically, on `conn`.
pub(super) async fn roles_on(conn: Conn<'_>, user_id: i64) -> Result<Vec<String>> {
    on_pool!(conn conn, db => {
        Ok(sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(db)
            .await?)
    })
}

/// Replaces a person's roles with `roles`, on `conn` (inside the caller's transaction).
pub(super) async fn replace_roles(conn: Conn<'_>, user_id: i64, roles: &[&str]) -> Result<()> {
    on_pool!(conn conn, db => {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *db).await?;
        for role in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(user_id)
                .bind(role)
                .execute(&mut *db)
                .await?;
        }
        Ok(())
    })
}

impl Store {
    pub async fn roles_of(&self, user_id: i64) -> Result<Vec<String>> {
        on_pool!(self, db => {
            let mut conn = db.acquire().await?;
            roles_on((&mut *conn).into(), user_id).await
        })
    }

    /// Replaces a person's roles.
    pub async fn set_roles(&self, user_id: i64, roles: &[Role]) -> Result<()> {
        let roles: Vec<&str> = roles.iter().map(Role::as_str).collect();
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            replace_roles((&mut *tx).into(), user_id, &roles).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
