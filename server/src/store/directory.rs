//! Who sees whom: people see the others who share one of their roles, admins see everyone.
//! One rule ([`VISIBLE_TO`]) serves the directory listing and every single-person lookup, so
//! the two never disagree.

use super::users::{Listed, ListedRow, User, USER_COLUMNS};
use super::{placeholders, Result, Store};

/// The visibility rule of the directory, for the person `?1` (an admin, when `?2` is true)
/// looking at the person `u`: admins see everyone, others the people who share one of their
/// roles. Used for listing and for every single-person lookup, so the two never disagree.
const VISIBLE_TO: &str = "($2 OR EXISTS (SELECT 1 FROM user_roles mine JOIN user_roles theirs \
     ON theirs.role = mine.role WHERE mine.user_id = $1 AND theirs.user_id = u.id))";

impl Store {
    /// The person called `username` (ignoring case), if `viewer` may see them in the directory.
    pub async fn visible_user(&self, viewer: &User, username: &str) -> Result<Option<User>> {
        on_pool!(self, db => {
            let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE lower(u.username) = lower($3) AND {VISIBLE_TO}");
            Ok(sqlx::query_as::<_, User>(&sql)
                .bind(viewer.id)
                .bind(viewer.is_admin)
                .bind(username.trim())
                .fetch_optional(db)
                .await?)
        })
    }

    /// Those of `candidates` who may see `user_id` in the directory (not `user_id` itself).
    pub async fn viewers_among(&self, user_id: i64, candidates: &[i64]) -> Result<Vec<i64>> {
        let mut viewers = Vec::new();
        // In slices, so no statement needs more placeholders than either database takes.
        for ids in candidates.chunks(super::MAX_LIST) {
            let found: Vec<i64> = on_pool!(self, db => {
                let sql = format!(
                    "SELECT v.id FROM users v WHERE v.id <> $1 AND v.id IN ({}) \
                     AND (v.is_admin OR EXISTS (SELECT 1 FROM user_roles mine JOIN user_roles theirs \
                          ON theirs.role = mine.role WHERE mine.user_id = v.id AND theirs.user_id = $1))",
                    placeholders(2, ids.len())
                );
                let mut query = sqlx::query_scalar(&sql).bind(user_id);
                for id in ids {
                    query = query.bind(*id);
                }
                query.fetch_all(db).await?
            });
            viewers.extend(found);
        }
        Ok(viewers)
    }

    /// The people `viewer` may see, except themselves, whose username, display name or one of
    /// whose roles contains `query` (ignoring ASCII case), by username, at most `limit`.
    pub async fn directory(&self, viewer: &User, query: &str, limit: i64) -> Result<Vec<Listed>> {
        on_pool!(self, db => {
            let pattern = format!("%{}%", escape_like(&query.trim().to_lowercase()));
            let sql = format!(
                "SELECT u.id, u.username, u.display_name, u.avatar FROM users u \
                 WHERE u.id <> $1 AND {VISIBLE_TO} \
                   AND (lower(u.username) LIKE $3 ESCAPE '\\' \
                        OR lower(coalesce(u.display_name, '')) LIKE $3 ESCAPE '\\' \
                        OR EXISTS (SELECT 1 FROM user_roles s WHERE s.user_id = u.id AND s.role LIKE $3 ESCAPE '\\')) \
                 ORDER BY lower(u.username) LIMIT $4"
            );
            let rows: Vec<ListedRow> = sqlx::query_as(&sql)
                .bind(viewer.id)
                .bind(viewer.is_admin)
                .bind(pattern)
                .bind(limit)
                .fetch_all(db)
                .await?;
            self.with_roles(rows).await
        })
    }

    /// Attaches each person's roles (one query for all of them).
    pub(super) async fn with_roles(&self, rows: Vec<ListedRow>) -> Result<Vec<Listed>> {
        on_pool!(self, db => {
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT user_id, role FROM user_roles WHERE user_id IN ({}) ORDER BY role",
                placeholders(1, rows.len())
            );
            let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
            for (id, _, _, _) in &rows {
                query = query.bind(*id);
            }
            let roles = query.fetch_all(db).await?;
            Ok(rows
                .into_iter()
                .map(|(id, username, display_name, avatar)| Listed {
                    id,
                    username,
                    display_name,
                    avatar,
                    roles: roles.iter().filter(|(user, _)| *user == id).map(|(_, role)| role.clone()).collect(),
                })
                .collect())
        })
    }
}

/// Makes `%`, `_` and `\` in a search match themselves.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
