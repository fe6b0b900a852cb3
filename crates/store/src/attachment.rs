//! Attachments (SPEC "Uploads"): received in chunks into a temporary file while the SM3
//! digest and size are counted, refused over the limit or when the content is not what the
//! name says (`domain::upload`), then moved into place and recorded in one transaction with
//! its audit entry. A file whose upload was cut off, refused or not recorded is removed:
//! nothing half-stored remains.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use domain::upload::{MAX_ATTACHMENT_BYTES, UploadError, sniff};
use serde_json::json;
use sm3::{Digest, Sm3};

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::{Result, Store, StoreError, new_id};

/// An attachment as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Attachment {
    /// Its id.
    pub id: String,
    /// The record it belongs to.
    pub record_type: String,
    /// The record's id.
    pub record_id: String,
    /// The name it was uploaded with.
    pub file_name: String,
    /// Its content type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SM3 digest of the content, hex.
    pub sm3: String,
    /// Who uploaded it (an audit actor).
    pub actor: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The report of the record it came with, if one.
    pub report_id: Option<String>,
}

/// A received file checked and moved into place, not yet recorded: recorded inside the
/// transaction of what it comes with (`record_file!`), and removed again if dropped before
/// that transaction committed.
#[derive(Debug)]
pub struct PreparedFile {
    /// The attachment's id.
    pub id: String,
    target: PathBuf,
    /// The name it was uploaded with.
    pub file_name: String,
    /// Its content type.
    pub content_type: &'static str,
    /// Bytes.
    pub size: i64,
    /// SM3 digest, hex.
    pub sm3: String,
    committed: bool,
}

impl PreparedFile {
    /// Keeps the file: its row was committed.
    pub fn keep(mut self) {
        self.committed = true;
    }

    /// What the audit entry records of it.
    pub fn audit(&self) -> serde_json::Value {
        json!({"id": self.id, "file_name": self.file_name, "content_type": self.content_type,
            "size": self.size, "sm3": self.sm3})
    }
}

impl Drop for PreparedFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.target);
        }
    }
}

/// Records a prepared file on a record inside the caller's transaction: its row (tied to
/// `report_id` if given) and the record's timeline.
macro_rules! record_file {
    ($tx:expr, $tenant_id:expr, $ctx:expr, $now:expr, $record_type:expr, $record_id:expr, $report_id:expr, $file:expr) => {{
        let file: &$crate::attachment::PreparedFile = $file;
        let report_id: Option<&str> = $report_id;
        sqlx::query(
            "INSERT INTO attachment (tenant_id, id, record_type, record_id, file_name, content_type, size, sm3, actor, created_at, report_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind($tenant_id).bind(&file.id).bind($record_type).bind($record_id).bind(&file.file_name)
        .bind(file.content_type).bind(file.size).bind(&file.sm3).bind(&$ctx.actor).bind($now).bind(report_id)
        .execute(&mut *$tx)
        .await?;
        $crate::history::history!($tx, $tenant_id, $ctx, $now, &$crate::history::NewHistory {
            record_type: $record_type,
            record_id: $record_id,
            event: "attached",
            audience: domain::history::Audience::Public,
            detail: serde_json::json!({"file_name": file.file_name, "size": file.size}),
        });
    }};
}
pub(crate) use record_file;

/// A file being received: written to a temporary file, counted and digested as it comes.
/// Dropped before [`Store::attach`] has recorded it, it removes its temporary file.
pub struct Upload {
    path: PathBuf,
    file: Option<std::fs::File>,
    hasher: Sm3,
    size: u64,
    head: Vec<u8>,
}

impl Upload {
    /// Appends a chunk; refused (and the file removed on drop) past the size limit.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        self.size += chunk.len() as u64;
        if self.size > MAX_ATTACHMENT_BYTES {
            return Err(UploadError::TooLarge);
        }
        if self.head.len() < 8 {
            let take = (8 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        if let Some(file) = self.file.as_mut() {
            file.write_all(chunk).map_err(|_| UploadError::TooLarge)?;
        }
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

const COLUMNS: &str =
    "id, record_type, record_id, file_name, content_type, size, sm3, actor, created_at, report_id";

impl Store {
    fn attachments_root(&self) -> PathBuf {
        self.data_dir.0.join("attachments")
    }

    /// Where an attachment's content is kept.
    pub fn attachment_path(&self, tenant_id: &str, id: &str) -> PathBuf {
        self.attachments_root().join(tenant_id).join(id)
    }

    /// Starts receiving a file.
    pub fn receive_upload(&self) -> Result<Upload> {
        let dir = self.attachments_root().join("incoming");
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Other(e.into()))?;
        let path = dir.join(new_id());
        let file = std::fs::File::create_new(&path).map_err(|e| StoreError::Other(e.into()))?;
        Ok(Upload {
            path,
            file: Some(file),
            hasher: Sm3::new(),
            size: 0,
            head: Vec::new(),
        })
    }

    /// Checks a received file (size and type per `domain::upload`) and moves it into place;
    /// refusals name the field `file` and leave nothing behind.
    pub fn prepare_file(
        &self,
        tenant_id: &str,
        file_name: &str,
        mut upload: Upload,
    ) -> Result<PreparedFile> {
        let refuse = |e: UploadError| StoreError::InvalidField {
            field: "file",
            message: e.to_string(),
        };
        let kind = sniff(file_name, &upload.head).map_err(refuse)?;
        let mut file = upload.file.take().ok_or(StoreError::NotFound)?;
        let written = file.flush().and_then(|()| file.sync_all());
        drop(file);
        // from here the temporary file is ours to move or remove
        let temp = upload.path.clone();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(StoreError::Other(e.into()));
        }
        let id = new_id();
        let target = self.attachment_path(tenant_id, &id);
        let moved = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::rename(&temp, &target));
        if let Err(e) = moved {
            let _ = std::fs::remove_file(&temp);
            return Err(StoreError::Other(e.into()));
        }
        Ok(PreparedFile {
            id,
            target,
            file_name: file_name.trim().to_owned(),
            content_type: kind.content_type(),
            size: i64::try_from(upload.size).unwrap_or(i64::MAX),
            sm3: hex::encode(upload.hasher.clone().finalize()),
            committed: false,
        })
    }

    /// Checks a received file and records it on a record: moved into place, then one
    /// transaction with its row, the record's timeline and the audit entry. Refusals name
    /// the field `file`; nothing stays behind.
    pub async fn attach(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        record_type: &str,
        record_id: &str,
        file_name: &str,
        upload: Upload,
    ) -> Result<Attachment> {
        let file = self.prepare_file(tenant_id, file_name, upload)?;
        self.attach_prepared(ctx, tenant_id, record_type, record_id, file)
            .await
    }

    /// Records a file already checked and moved into place ([`Self::prepare_file`]) on a
    /// record, as [`Self::attach`] does; refused, the file is removed.
    pub async fn attach_prepared(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        record_type: &str,
        record_id: &str,
        file: PreparedFile,
    ) -> Result<Attachment> {
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            record_file!(tx, tenant_id, ctx, now, record_type, record_id, None, &file);
            let mut changes = file.audit();
            changes["record_type"] = json!(record_type);
            changes["record_id"] = json!(record_id);
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "attachment",
                entity_id: &file.id,
                changes,
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        let id = file.id.clone();
        file.keep();
        self.attachment(tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One attachment.
    pub async fn attachment(&self, tenant_id: &str, id: &str) -> Result<Option<Attachment>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, Attachment>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM attachment WHERE tenant_id = $1 AND id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// A record's attachments, oldest first.
    pub async fn attachments_of(
        &self,
        tenant_id: &str,
        record_type: &str,
        record_id: &str,
    ) -> Result<Vec<Attachment>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, Attachment>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM attachment WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 \
                 ORDER BY created_at, id"
            )))
            .bind(tenant_id)
            .bind(record_type)
            .bind(record_id)
            .fetch_all(pool)
            .await?
        }))
    }
}
