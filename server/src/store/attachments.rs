//! Files shared with messages: one `files` row per stored file (by hash), one `attachments` row
//! per message sharing it, written in the message's own transaction; the attachments of a page
//! of messages in one query; what a download may fetch; and the files nobody shares any more.

use std::collections::HashMap;

use app::model::Attachment;
use sqlx::FromRow;

use super::{now_ms, placeholders, Conn, Result, Store};

/// A file to share with a message being stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// The hex SHA-256 of the bytes uploaded: the file's name on disk.
    pub hash: String,
    pub name: String,
    /// Bytes, as served.
    pub size: i64,
    pub mime: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// A thumbnail exists (images).
    pub thumb: bool,
}

/// A shared file as a message shows it.
#[derive(Debug, Clone, FromRow)]
struct Row {
    id: i64,
    message_id: i64,
    name: String,
    size: i64,
    mime: String,
    width: Option<i64>,
    height: Option<i64>,
    thumb: bool,
}

impl Row {
    fn into_wire(self) -> Attachment {
        Attachment {
            url: app::url::file(self.id, &self.name),
            thumb_url: self.thumb.then(|| app::url::thumbnail(self.id)),
            id: self.id,
            name: self.name,
            size: self.size,
            mime: self.mime,
            width: self.width.and_then(|w| u32::try_from(w).ok()),
            height: self.height.and_then(|h| u32::try_from(h).ok()),
        }
    }
}

/// What a download of one attachment needs: the room it is in (to check who may see it) and
/// the file.
#[derive(Debug, Clone, FromRow)]
pub struct SharedFile {
    pub room_id: i64,
    pub hash: String,
    pub name: String,
    pub mime: String,
    pub thumb: bool,
}

/// Records the files a just-inserted message shares, in its transaction; gives them as the
/// message shows them.
pub(super) async fn insert_attachments(
    conn: Conn<'_>,
    message_id: i64,
    files: &[NewAttachment],
) -> Result<Vec<Attachment>> {
    let mut shown = Vec::with_capacity(files.len());
    on_pool!(conn conn, db => {
        for (position, file) in files.iter().enumerate() {
            sqlx::query(
                "INSERT INTO files (hash, size, mime, width, height, thumb, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(&file.hash)
            .bind(file.size)
            .bind(&file.mime)
            .bind(file.width)
            .bind(file.height)
            .bind(file.thumb)
            .bind(now_ms())
            .execute(&mut *db)
            .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO attachments (message_id, file_hash, name, position) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(message_id)
            .bind(&file.hash)
            .bind(&file.name)
            .bind(position as i64)
            .fetch_one(&mut *db)
            .await?;
            let row = Row {
                id,
                message_id,
                name: file.name.clone(),
                size: file.size,
                mime: file.mime.clone(),
                width: file.width,
                height: file.height,
                thumb: file.thumb,
            };
            shown.push(row.into_wire());
        }
        // One a line: a name holds no control character (`files::clean_name`).
        let names = files.iter().map(|file| file.name.as_str()).collect::<Vec<_>>().join("\n");
        sqlx::query("UPDATE messages SET attachments = $1, file_names = $2 WHERE id = $3")
            .bind(files.len() as i64)
            .bind(names)
            .bind(message_id)
            .execute(&mut *db)
            .await?;
    });
    Ok(shown)
}

/// Unshares a (deleted) message's files, in its transaction.
pub(super) async fn remove_attachments(conn: Conn<'_>, message_id: i64) -> Result<()> {
    on_pool!(conn conn, db => {
        sqlx::query("DELETE FROM attachments WHERE message_id = $1").bind(message_id).execute(&mut *db).await?;
        sqlx::query("UPDATE messages SET attachments = 0, file_names = '' WHERE id = $1")
            .bind(message_id)
            .execute(&mut *db)
            .await?;
    });
    Ok(())
}

impl Store {
    /// The files of each of these messages (those without any are left out), in order.
    pub async fn attachments_of(&self, message_ids: &[i64]) -> Result<HashMap<i64, Vec<Attachment>>> {
        if message_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT a.id, a.message_id, a.name, f.size, f.mime, f.width, f.height, f.thumb \
             FROM attachments a JOIN files f ON f.hash = a.file_hash \
             WHERE a.message_id IN ({}) ORDER BY a.message_id, a.position",
            placeholders(1, message_ids.len())
        );
        let rows: Vec<Row> = on_pool!(self, db => {
            let mut query = sqlx::query_as(&sql);
            for id in message_ids {
                query = query.bind(id);
            }
            query.fetch_all(db).await?
        });
        let mut files: HashMap<i64, Vec<Attachment>> = HashMap::new();
        for row in rows {
            files.entry(row.message_id).or_default().push(row.into_wire());
        }
        Ok(files)
    }

    /// The file behind an attachment, while its message stands.
    pub async fn shared_file(&self, attachment_id: i64) -> Result<Option<SharedFile>> {
        on_pool!(self, db => {
            Ok(sqlx::query_as(
                "SELECT m.room_id, f.hash, a.name, f.mime, f.thumb FROM attachments a \
                 JOIN messages m ON m.id = a.message_id JOIN files f ON f.hash = a.file_hash \
                 WHERE a.id = $1 AND m.deleted_at IS NULL",
            )
            .bind(attachment_id)
            .fetch_optional(db)
            .await?)
        })
    }

    /// Forgets the files no message shares any more; gives their hashes (to remove from disk).
    pub async fn remove_unshared_files(&self) -> Result<Vec<String>> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar(
                "DELETE FROM files WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.file_hash = files.hash) \
                 RETURNING hash",
            )
            .fetch_all(db)
            .await?)
        })
    }

    /// How many files are stored (for tests and the admin's view of disk use).
    pub async fn count_files(&self) -> Result<i64> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM files").fetch_one(db).await?)
        })
    }
}
