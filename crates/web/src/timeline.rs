//! Timelines: a record's history told in Chinese, for a page partial (`_timeline.html`) every
//! record page reuses and for the API. What a reader sees of each entry is decided by
//! `domain::history::shown`; texts come from the message catalogue (`history.<type>.<event>`),
//! with `{name}` placeholders filled from the entry's detail.

use domain::history::{Reader, shown};
use serde::Serialize;
use serde_json::Value;
use store::history::HistoryEntry;

use crate::error::Result;
use crate::i18n::Catalog;
use crate::list::timestamp;
use crate::state::AppState;

/// One line of a timeline as shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TimelineLine {
    pub(crate) seq: i64,
    /// RFC 3339, Shanghai time.
    pub(crate) at: String,
    /// `YYYY-MM-DD HH:MM`, for pages.
    #[serde(skip)]
    pub(crate) at_short: String,
    pub(crate) event: String,
    pub(crate) text: String,
    /// Who acted, when the reader may know.
    pub(crate) actor: Option<String>,
}

/// A detail value as text: strings as they are, lists of named things joined by 、.
fn value_text(catalog: &Catalog, key: &str, value: &Value) -> String {
    match value {
        Value::String(s) if key == "kind" => catalog.t(&format!("reorg.kind.{s}")).to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i.get("name") {
                Some(Value::String(n)) => n.clone(),
                _ => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join("、"),
        other => other.to_string(),
    }
}

/// The text of one entry of a record of `record_type`.
pub(crate) fn describe(record_type: &str, entry: &HistoryEntry) -> String {
    let catalog = Catalog::zh_cn();
    let key = format!("history.{record_type}.{}", entry.event);
    let mut text = if catalog.has(&key) {
        catalog.t(&key).to_owned()
    } else {
        entry.event.clone()
    };
    if let Some(detail) = entry.detail.as_object() {
        for (k, v) in detail {
            let placeholder = format!("{{{k}}}");
            if text.contains(&placeholder) {
                text = text.replace(&placeholder, &value_text(catalog, k, v));
            }
        }
        if entry.event == "split_into" && detail.get("kept") == Some(&Value::Bool(false)) {
            text.push_str(catalog.t("history.unit.split_into.dissolved"));
        }
    }
    text
}

/// Who acted, in words: an account's name, or what the system actor was.
fn actor_text(actor: &str, names: &std::collections::HashMap<String, String>) -> String {
    let catalog = Catalog::zh_cn();
    if let Some(name) = names.get(actor) {
        return name.clone();
    }
    match actor.split_once(':') {
        Some(("cli", user)) => format!("{}（{user}）", catalog.t("history.actor.cli")),
        _ => match actor {
            "system" => catalog.t("history.actor.system").to_owned(),
            "demo" => catalog.t("history.actor.demo").to_owned(),
            "public" => catalog.t("history.actor.public").to_owned(),
            _ => catalog.t("history.actor.api").to_owned(),
        },
    }
}

/// The timeline of one record as `reader` may see it.
pub(crate) async fn timeline(
    state: &AppState,
    tenant_id: &str,
    record_type: &str,
    record_id: &str,
    reader: Reader,
) -> Result<Vec<TimelineLine>> {
    let entries = state
        .store
        .history(tenant_id, record_type, record_id)
        .await?;
    let actors: Vec<&str> = entries.iter().map(|e| e.actor.as_str()).collect();
    let names = state.store.actor_names(tenant_id, &actors).await?;
    Ok(entries
        .iter()
        .filter_map(|e| {
            let shown = shown(reader, e.audience);
            shown.entry.then(|| TimelineLine {
                seq: e.seq,
                at: timestamp(e.at),
                at_short: crate::list::local_minute(e.at),
                event: e.event.clone(),
                text: describe(record_type, e),
                actor: shown.actor.then(|| actor_text(&e.actor, &names)),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use domain::history::Audience;
    use domain::reorg::{ReorgKind, ReorgState};
    use serde_json::json;

    use super::*;

    #[test]
    fn every_unit_event_and_reorganisation_word_has_a_text() {
        let catalog = Catalog::zh_cn();
        let events = [
            "created",
            "name_corrected",
            "enabled",
            "disabled",
            "head_changed",
            "leader_changed",
            "reorg_planned",
            "reorg_cancelled",
            "renamed",
            "merged_into",
            "merged_from",
            "split_into",
            "split_from",
        ];
        for event in events {
            assert!(catalog.has(&format!("history.unit.{event}")), "{event}");
        }
        for kind in ReorgKind::ALL {
            assert!(catalog.has(&format!("reorg.kind.{kind}")), "{kind}");
        }
        for state in ReorgState::ALL {
            assert!(
                catalog.has(&format!("reorg.state.{}", state.as_str())),
                "{state:?}"
            );
        }
    }

    #[test]
    fn texts_are_filled_from_the_detail() {
        let entry = |event: &str, detail: Value| HistoryEntry {
            seq: 1,
            at: DateTime::UNIX_EPOCH,
            event: event.into(),
            actor: "system".into(),
            audience: Audience::Public,
            detail,
        };
        assert_eq!(
            describe(
                "unit",
                &entry(
                    "reorg_planned",
                    json!({"kind": "merge", "document": "槐编〔2026〕1号", "effective_on": "2027-01-01"})
                )
            ),
            "登记合并（槐编〔2026〕1号），2027-01-01 生效"
        );
        assert_eq!(
            describe(
                "unit",
                &entry(
                    "split_into",
                    json!({"document": "D", "effective_on": "2027-01-01", "kept": true,
                           "parts": [{"id": "1", "name": "甲局"}, {"id": "2", "name": "乙局"}]})
                )
            ),
            "依据D，自 2027-01-01 起拆分出甲局、乙局"
        );
        // an event without a text shows its code rather than nothing
        assert_eq!(
            describe("unit", &entry("unknown_event", json!({}))),
            "unknown_event"
        );
    }
}
