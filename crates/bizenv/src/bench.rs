//! `bizenv bench …`: benchmarks through the product's own code, in a scratch database, with
//! the figures the issues ask for (docs/BENCHMARKS.md).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use domain::clock::ManualClock;
use domain::deadline::Limit;
use indicatif::{ProgressBar, ProgressStyle};
use store::audit::AuditCtx;
use store::deadline::NewDeadline;
use store::{DatabaseUrl, Store};

/// A small deterministic generator (xorshift), so every run seeds the same deadlines.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {per_sec} 剩余 {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

fn ms(since: Instant) -> String {
    format!("{:.1} ms", since.elapsed().as_secs_f64() * 1000.0)
}

/// The card sweep over `n` open deadlines: seeds them (received over the last 3 days, limits
/// of 1–20 working days or 1–40 working hours), then times the first sweep (catching up),
/// sweeps after one minute and one hour (incremental), an idle sweep, and the reference —
/// every open deadline's card computed afresh without the stored thresholds.
pub async fn cards(database_url: Option<String>, n: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("bizenv-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_cards(&dir, database_url, n).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}

async fn run_cards(dir: &Path, database_url: Option<String>, n: usize) -> anyhow::Result<()> {
    let url = match database_url {
        Some(url) => DatabaseUrl::new(url),
        None => DatabaseUrl::sqlite_in(dir),
    };
    // Monday 2026-11-30 09:00 in Shanghai
    let start: DateTime<Utc> = "2026-11-30T01:00:00Z".parse()?;
    let clock = Arc::new(ManualClock::new(start));
    let store = Store::open_with_keys(&url, dir, None, clock.clone()).await?;
    let ctx = AuditCtx::cli();
    let tenant = store.create_tenant(&ctx, "999999", "基准测试区").await?;
    println!(
        "卡片巡检基准：{} 个未办结时限，{}，{} 核",
        n,
        store.backend(),
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let ids: Vec<String> = (0..n).map(|i| format!("bench-{i}")).collect();
    let news: Vec<NewDeadline<'_>> = ids
        .iter()
        .map(|id| {
            let received = start - Duration::minutes(rng.below(3 * 24 * 60) as i64);
            let limit = if rng.below(5) == 0 {
                Limit::WorkingMinutes(60 * (1 + rng.below(40) as u32))
            } else {
                Limit::WorkingDays(1 + rng.below(20) as u32)
            };
            NewDeadline {
                record_type: "bench",
                record_id: id,
                step: "reply",
                unit_id: None,
                limit,
                received_at: received,
            }
        })
        .collect();
    let seeding = bar(n as u64, "写入时限");
    let t = Instant::now();
    store
        .open_deadlines(&ctx, &tenant.id, &news, &|done| {
            seeding.set_position(done as u64)
        })
        .await?;
    seeding.finish_and_clear();
    println!("写入 {n} 个时限：{:.1} s", t.elapsed().as_secs_f64());

    let sweep = |label: &'static str| {
        let store = store.clone();
        async move {
            let t = Instant::now();
            let s = store.sweep_cards(&AuditCtx::system()).await?;
            println!("{label}：黄牌 {}，红牌 {}，{}", s.yellow, s.red, ms(t));
            anyhow::Ok(())
        }
    };
    sweep("首次巡检（补发已到期的卡片）").await?;
    clock.advance(Duration::minutes(1));
    sweep("一分钟后的增量巡检").await?;
    clock.advance(Duration::hours(1));
    sweep("一小时后的增量巡检").await?;
    sweep("无变化的巡检").await?;
    let t = Instant::now();
    let (read, yellow, red) = store.recompute_all_cards(&tenant.id).await?;
    println!(
        "参照：逐个重算全部 {read} 个时限的卡片（黄牌 {yellow}，红牌 {red}）：{}",
        ms(t)
    );
    store.close().await;
    Ok(())
}
