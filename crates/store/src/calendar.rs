//! The installation-wide working-day calendar: official schedules per year, and a cache
//! that follows `calendar_version`, so a schedule loaded by another process (the CLI) takes
//! effect in a running server at its next use, without a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use domain::calendar::{Calendar, YearSchedule};

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::{Result, Store, StoreError};

/// The calendar last read, with the version it was read at.
#[derive(Debug, Default)]
pub struct CalendarCache {
    current: RwLock<Option<(i64, Arc<Calendar>)>>,
}

/// A loaded year, for the calendar page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CalendarYearInfo {
    /// The year.
    pub year: i32,
    /// Where it came from: `shipped`, or the file name it was loaded from.
    pub source: String,
    /// When it was loaded.
    pub loaded_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct DayRow {
    day: String,
    year: i32,
    kind: String,
    name: String,
}

impl Store {
    /// The calendar as it stands now (re-read when another process changed it).
    pub async fn calendar(&self) -> Result<Arc<Calendar>> {
        // the version is kept between requests (loading a schedule is an audited change)
        let version: i64 = self
            .cached("calendar_version".to_owned(), async {
                Ok(with_pool!(self, pool => {
                    sqlx::query_scalar("SELECT version FROM calendar_version WHERE id = 1")
                        .fetch_one(pool)
                        .await?
                }))
            })
            .await?;
        if let Some((cached, calendar)) = self
            .calendar
            .current
            .read()
            .expect("calendar lock")
            .as_ref()
            && *cached == version
        {
            return Ok(calendar.clone());
        }
        let calendar = Arc::new(self.read_calendar().await?);
        *self.calendar.current.write().expect("calendar lock") = Some((version, calendar.clone()));
        Ok(calendar)
    }

    async fn read_calendar(&self) -> Result<Calendar> {
        let (years, days) = with_pool!(self, pool => {
            let years: Vec<i32> = sqlx::query_scalar("SELECT year FROM calendar_year ORDER BY year")
                .fetch_all(pool)
                .await?;
            let days = sqlx::query_as::<_, DayRow>("SELECT day, year, kind, name FROM calendar_day ORDER BY day")
                .fetch_all(pool)
                .await?;
            (years, days)
        });
        let mut by_year: BTreeMap<i32, (BTreeMap<NaiveDate, String>, BTreeSet<NaiveDate>)> =
            years.into_iter().map(|y| (y, Default::default())).collect();
        for row in days {
            let day = NaiveDate::parse_from_str(&row.day, "%Y-%m-%d")
                .map_err(|e| StoreError::Other(anyhow::anyhow!("calendar_day {}: {e}", row.day)))?;
            let entry = by_year.entry(row.year).or_default();
            if row.kind == "holiday" {
                entry.0.insert(day, row.name);
            } else {
                entry.1.insert(day);
            }
        }
        let schedules = by_year
            .into_iter()
            .map(|(year, (holidays, workdays))| {
                YearSchedule::new(year, holidays, workdays).map_err(|e| {
                    StoreError::Other(anyhow::anyhow!("stored calendar year {year}: {e}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Calendar::new(schedules))
    }

    /// The years loaded, with their source.
    pub async fn calendar_years(&self) -> Result<Vec<CalendarYearInfo>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, CalendarYearInfo>("SELECT year, source, loaded_at FROM calendar_year ORDER BY year")
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Loads (or replaces) the schedules of these years in one transaction and one audit
    /// entry on the installation chain; running servers see them at their next use.
    #[tracing::instrument(skip(self, ctx, years))]
    pub async fn load_calendar_years(
        &self,
        ctx: &AuditCtx,
        source: &str,
        years: &[YearSchedule],
    ) -> Result<()> {
        if years.is_empty() {
            return Err(StoreError::Invalid("没有要导入的年份".into()));
        }
        let now = self.clock.now();
        let summary: Vec<_> = years
            .iter()
            .map(|y| {
                serde_json::json!({
                    "year": y.year(),
                    "holidays": y.holidays().keys().map(|d| d.to_string()).collect::<Vec<_>>(),
                    "workdays": y.workdays().iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let entity_id = years
            .iter()
            .map(|y| y.year().to_string())
            .collect::<Vec<_>>()
            .join(",");
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for schedule in years {
                let year = schedule.year();
                sqlx::query("DELETE FROM calendar_day WHERE year = $1")
                    .bind(year)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO calendar_year (year, source, loaded_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (year) DO UPDATE SET source = excluded.source, loaded_at = excluded.loaded_at",
                )
                .bind(year)
                .bind(source)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                for (day, name) in schedule.holidays() {
                    sqlx::query("INSERT INTO calendar_day (day, year, kind, name) VALUES ($1, $2, 'holiday', $3)")
                        .bind(day.to_string())
                        .bind(year)
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                }
                for day in schedule.workdays() {
                    sqlx::query("INSERT INTO calendar_day (day, year, kind, name) VALUES ($1, $2, 'workday', '调休上班')")
                        .bind(day.to_string())
                        .bind(year)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            sqlx::query("UPDATE calendar_version SET version = version + 1 WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: None,
                action: "load",
                entity: "calendar_year",
                entity_id: &entity_id,
                changes: serde_json::json!({"source": source, "years": summary}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        // deadlines counted on weekdays alone, or reaching into a reloaded year, follow the schedule
        if let Some(first) = years.iter().map(YearSchedule::year).min()
            && let Some(start) = chrono::NaiveDate::from_ymd_opt(first, 1, 1)
        {
            let start = start
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(domain::calendar::shanghai()).single())
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or(now);
            self.recompute_deadlines(ctx, start).await?;
        }
        Ok(())
    }

    /// Loads the shipped years that the database does not have yet (never overwrites).
    pub(crate) async fn ensure_shipped_calendar(&self) -> Result<()> {
        let loaded: BTreeSet<i32> = self
            .calendar_years()
            .await?
            .into_iter()
            .map(|y| y.year)
            .collect();
        let missing: Vec<YearSchedule> = Calendar::shipped()
            .years()
            .filter(|y| !loaded.contains(&y.year()))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        self.load_calendar_years(&AuditCtx::system(), "shipped", &missing)
            .await
    }
}
