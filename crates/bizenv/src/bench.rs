//! `bizenv bench …`: benchmarks through the product's own code, in a scratch database, with
//! the figures the issues ask for (docs/BENCHMARKS.md).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use domain::clock::{Clock, ManualClock};
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

/// A district office and forty departments under it; answers the departments' ids.
async fn forty_departments(
    store: &Store,
    ctx: &AuditCtx,
    tenant_id: &str,
) -> anyhow::Result<Vec<String>> {
    let mut units = vec![store::unit::NewUnit {
        code: domain::org::UnitCode::parse("ZFB")?,
        name: "区政府办公室".into(),
        kind: domain::org::UnitKind::DistrictOffice,
        parent: None,
        staffed_by: None,
    }];
    for i in 0..40 {
        units.push(store::unit::NewUnit {
            code: domain::org::UnitCode::parse(&format!("BM{i:02}"))?,
            name: format!("第{i}部门"),
            kind: domain::org::UnitKind::Department,
            parent: Some(domain::org::UnitCode::parse("ZFB")?),
            staffed_by: None,
        });
    }
    let ids = store.create_units(ctx, tenant_id, &units).await?;
    Ok(ids[1..].to_vec())
}

/// The benchmarks' start: Monday 2026-11-30 09:00 in Shanghai.
const BENCH_START: &str = "2026-11-30T01:00:00Z";

/// A scratch store for a benchmark — `database_url` (an empty PostgreSQL database) or SQLite
/// in `dir` — with a manual clock at [`BENCH_START`].
async fn scratch_store(
    dir: &Path,
    database_url: Option<String>,
) -> anyhow::Result<(Store, Arc<ManualClock>)> {
    let url = match database_url {
        Some(url) => DatabaseUrl::new(url),
        None => DatabaseUrl::sqlite_in(dir),
    };
    let clock = Arc::new(ManualClock::new(BENCH_START.parse()?));
    let store = Store::open_with_keys(&url, dir, None, clock.clone()).await?;
    Ok((store, clock))
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
    let (store, clock) = scratch_store(dir, database_url).await?;
    let start = clock.now();
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

/// A 2-character fragment search over `n` enterprises: seeds them through the registry's bulk
/// path (with grams and audit), then times `queries` searches of fragments taken from random
/// names through `Store::list_enterprises` (first page of 50, with the total), and the same
/// fragments as a plain `LIKE '%…%'` scan for reference.
pub async fn search(database_url: Option<String>, n: usize, queries: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("bizenv-bench-search-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_search(&dir, database_url, n, queries).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}

/// Prints the rate of `times.len()` operations done in `secs` and their p50 and p99 (ms).
fn print_rate(what: &str, unit: &str, times: &mut [f64], secs: f64) {
    times.sort_by(f64::total_cmp);
    if !times.is_empty() {
        println!(
            "{what}：{:.0} {unit}/秒，p50 {:.1} ms，p99 {:.1} ms",
            times.len() as f64 / secs,
            percentile(times, 0.5),
            percentile(times, 0.99)
        );
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn run_search(
    dir: &Path,
    database_url: Option<String>,
    n: usize,
    queries: usize,
) -> anyhow::Result<()> {
    use store::enterprise::EnterpriseFilter;
    use store::page::PageRequest;

    let (store, _) = scratch_store(dir, database_url).await?;
    let ctx = AuditCtx::cli();
    let tenant = store.create_tenant(&ctx, "999998", "基准测试区").await?;
    println!(
        "企业名称检索基准：{} 家企业，{}，{} 核",
        n,
        store.backend(),
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    let all = store::synthetic::enterprises(n, 0, 7, &store::synthetic::World::default());
    let names: Vec<String> = all.iter().map(|e| e.name.clone()).collect();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let seeding = bar(n as u64, "写入企业");
    let t = Instant::now();
    store
        .insert_enterprises(&ctx, &tenant.id, &all, &|done| {
            seeding.set_position(done as u64)
        })
        .await?;
    seeding.finish_and_clear();
    println!(
        "写入 {n} 家企业（含名称二元组索引与审计）：{:.1} s",
        t.elapsed().as_secs_f64()
    );

    let fragments: Vec<String> = (0..queries)
        .map(|_| {
            let chars: Vec<char> = names[rng.below(n as u64) as usize].chars().collect();
            let at = rng.below(chars.len() as u64 - 1) as usize;
            chars[at..at + 2].iter().collect()
        })
        .collect();
    let progress = bar(queries as u64, "检索");
    let mut times = Vec::with_capacity(queries);
    let mut found = 0_i64;
    for fragment in &fragments {
        let t = Instant::now();
        let page = store
            .list_enterprises(
                &tenant.id,
                &EnterpriseFilter {
                    q: Some(fragment.clone()),
                    ..EnterpriseFilter::default()
                },
                PageRequest {
                    page: 1,
                    per_page: 50,
                },
            )
            .await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        found += page.total;
        progress.inc(1);
    }
    progress.finish_and_clear();
    times.sort_by(f64::total_cmp);
    println!(
        "二字检索（{queries} 次，第一页 50 条并计总数）：p50 {:.1} ms，p99 {:.1} ms，最大 {:.1} ms；平均命中 {} 家",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or_default(),
        found / queries.max(1) as i64
    );
    let reference = fragments.len().min(20);
    let t = Instant::now();
    for fragment in &fragments[..reference] {
        store.scan_enterprise_names(&tenant.id, fragment).await?;
    }
    println!(
        "参照：不用二元组索引的 LIKE 全表扫描，平均 {:.1} ms/次（{reference} 次）",
        t.elapsed().as_secs_f64() * 1000.0 / reference.max(1) as f64
    );
    Ok(())
}

/// The enterprise import of a CSV of `n` rows through `bizenv import enterprises`'s own code
/// (into the demo district, streets and leaders matched by name), then the same file imported
/// again (every row unchanged), and in the same run `sqlite3`'s `.import` of the file into a
/// table with the same key and indexes, for reference.
pub async fn import(n: usize, sqlite3: &str) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("bizenv-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_import(&dir, n, sqlite3).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}

async fn run_import(dir: &Path, n: usize, sqlite3: &str) -> anyhow::Result<()> {
    use store::enterprise_import::FileKind;
    let clock = Arc::new(ManualClock::new("2026-11-30T01:00:00Z".parse()?));
    let data = dir.join("data");
    let store = Store::open_with_keys(&DatabaseUrl::sqlite_in(&data), &data, None, clock).await?;
    // the streets and leaders the file names (a tenth of the year's cases, as the earlier
    // measurements had)
    store.seed_demo_with(store::demo::DemoVolume::Tenth).await?;
    let tenant = store
        .tenant_by_code("370104")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo district"))?;
    println!(
        "企业导入基准：{n} 行 CSV，SQLite（WAL，synchronous=FULL），{} 核",
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    // the file: the demo's streets and leaders by name, codes after the demo's own
    let units = store.units(&tenant.id).await?;
    let staff = store
        .list_staff(
            &tenant.id,
            &Default::default(),
            store::page::PageRequest {
                page: 1,
                per_page: store::page::PageRequest::MAX_PER_PAGE,
            },
        )
        .await?;
    let leaders = store.leader_texts(&tenant.id).await?;
    let world = store::synthetic::World {
        streets: units
            .iter()
            .filter(|u| u.active && u.kind == domain::org::UnitKind::Street)
            .map(|u| u.id.clone())
            .collect(),
        leaders: staff
            .items
            .iter()
            .filter(|s| leaders.contains_key(&s.id))
            .take(8)
            .map(|s| (s.id.clone(), s.unit_id.clone()))
            .collect(),
        leading: store.leading_industries(&tenant.id).await?,
    };
    let unit_name = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| units.iter().find(|u| &u.id == id))
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let rows: Vec<Vec<String>> =
        store::synthetic::enterprises(n, store::demo::DEMO_ENTERPRISES, 11, &world)
            .iter()
            .map(|v| {
                vec![
                    v.uscc.as_str().to_owned(),
                    v.name.clone(),
                    v.legal_rep.clone(),
                    v.address.clone(),
                    unit_name(&v.street_id),
                    v.industry_code
                        .as_ref()
                        .map(|c| c.as_str().to_owned())
                        .unwrap_or_default(),
                    v.leading_industry.clone().unwrap_or_default(),
                    v.scale.map(|s| s.label().to_owned()).unwrap_or_default(),
                    v.established_on.map(|d| d.to_string()).unwrap_or_default(),
                    v.capital
                        .map(domain::enterprise::capital_text)
                        .unwrap_or_default(),
                    v.status.label().to_owned(),
                    v.contact_name.clone(),
                    v.contact_phone
                        .as_ref()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                    if v.key_enterprise { "是" } else { "否" }.to_owned(),
                    v.liaison_leader_id
                        .as_ref()
                        .and_then(|id| leaders.get(id).cloned())
                        .unwrap_or_default(),
                ]
            })
            .collect();
    let csv = store::import::csv_with_bom(&domain::enterprise::FILE_COLUMNS, &rows);
    let file = dir.join("enterprises.csv");
    std::fs::write(&file, &csv)?;
    println!("文件 {:.1} MB", csv.len() as f64 / 1e6);

    let ctx = AuditCtx::cli();
    for (round, what) in [(1, "首次导入"), (2, "再次导入同一文件")] {
        let progress = bar(n as u64, what);
        let t = Instant::now();
        let done = store
            // as `bizenv import enterprises` imports (in bulk)
            .import_enterprises_in_bulk(&ctx, &tenant.id, &csv, FileKind::Csv, &|p| {
                progress.set_position(p.done as u64)
            })
            .await?;
        progress.finish_and_clear();
        let r = &done.report;
        println!(
            "{what}：{:.1} s（新增 {}，更新 {}，未变化 {}，有误 {}）",
            t.elapsed().as_secs_f64(),
            r.created,
            r.updated,
            r.unchanged,
            r.errors.len()
        );
        if round == 1 {
            anyhow::ensure!(r.created == n && r.errors.is_empty(), "every row lands");
        } else {
            anyhow::ensure!(r.unchanged == n, "the second import changes nothing");
        }
    }
    store.close().await;

    // the reference: sqlite3's own CSV import into a table with the same key and indexes
    let reference = dir.join("reference.db");
    let script = format!(
        "PRAGMA journal_mode=WAL;\n\
         CREATE TABLE e (uscc TEXT PRIMARY KEY, name TEXT NOT NULL, legal_rep TEXT, address TEXT, street TEXT, \
         industry TEXT, leading TEXT, scale TEXT, established TEXT, capital TEXT, status TEXT, contact TEXT, \
         phone TEXT, key_flag TEXT, leader TEXT);\n\
         CREATE INDEX e_street ON e (street);\nCREATE INDEX e_key ON e (key_flag);\n\
         CREATE INDEX e_phone ON e (phone);\nCREATE INDEX e_name ON e (name);\n\
         .import --csv --skip 1 {} e\n",
        file.display()
    );
    let t = Instant::now();
    let mut child = std::process::Command::new(sqlite3)
        .arg(&reference)
        .stdin(std::process::Stdio::piped())
        // (the pragma's answer, "wal", is not the bench's to print)
        .stdout(std::process::Stdio::null())
        .spawn()?;
    if let Some(stdin) = child.stdin.as_mut() {
        use std::io::Write;
        stdin.write_all(script.as_bytes())?;
    }
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "sqlite3 .import failed");
    println!(
        "参照：sqlite3 .import 同一文件（同样的主键与索引，无校验、无加密、无审计）：{:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Appeals: intake through `Store::create_appeal` (validation, sealing, numbering, the
/// dispatch deadline, notices, timeline and audit, one transaction each) for `intake`
/// appeals, then `n` appeals loaded in bulk — `open` of them open and led by one unit, the
/// rest spread over 40 units, nine in ten closed — and `queries` readings of that unit's
/// queue (the 50 newest open, with the total) as its contact sees it.
pub async fn appeals(
    database_url: Option<String>,
    n: usize,
    open: usize,
    intake: usize,
    queries: usize,
    http: &HttpLoad,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("bizenv-bench-appeals-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_appeals(&dir, database_url, n, open, intake, queries, http).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}

/// A wrk load: connection counts (one run each, none: no HTTP phase), seconds per run, the
/// wrk binary.
pub struct HttpLoad {
    /// Connections per run.
    pub connections: Vec<usize>,
    /// Seconds per run.
    pub seconds: u64,
    /// The wrk binary.
    pub wrk: String,
}

async fn run_appeals(
    dir: &Path,
    database_url: Option<String>,
    n: usize,
    open: usize,
    intake: usize,
    queries: usize,
    http: &HttpLoad,
) -> anyhow::Result<()> {
    use domain::appeal::{AppealState, Kind, Source};
    use store::appeal::{AppealFilter, AppealVisibility, BulkAppeal, Category, NewAppeal};
    use store::page::PageRequest;

    let (store, clock) = scratch_store(dir, database_url).await?;
    let start = clock.now();
    let ctx = AuditCtx::cli();
    let tenant = store.create_tenant(&ctx, "999997", "基准测试区").await?;
    let departments = forty_departments(&store, &ctx, &tenant.id).await?;
    let lead = departments[0].clone();
    store
        .save_appeal_category(
            &ctx,
            &tenant.id,
            &Category {
                code: "BENCH".into(),
                name: "基准类别".into(),
                description: String::new(),
                unit_id: Some(lead.clone()),
                sort_order: 0,
                active: true,
            },
        )
        .await?;
    println!(
        "诉求基准：受理 {intake} 件，批量 {n} 件（其中本单位未办结 {open} 件），{}，{} 核",
        store.backend(),
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );

    // intake, one appeal at a time through the product's own path
    let progress = bar(intake as u64, "受理诉求");
    let mut times = Vec::with_capacity(intake);
    let t = Instant::now();
    for i in 0..intake {
        let one = Instant::now();
        store
            .create_appeal(
                &ctx,
                &tenant.id,
                &NewAppeal {
                    kind: Kind::Demand,
                    source: Source::Portal,
                    category_code: "BENCH".into(),
                    street_id: None,
                    enterprise_id: None,
                    title: format!("基准诉求{i}"),
                    content: "请尽快处理门前道路破损问题。".into(),
                    address: String::new(),
                    publish: false,
                    submitter_name: Some("基准测试人".into()),
                    submitter_phone: Some(format!("139{:08}", i)),
                    submitter_account_id: None,
                    external_id: None,
                },
            )
            .await?;
        times.push(one.elapsed().as_secs_f64() * 1000.0);
        progress.inc(1);
    }
    progress.finish_and_clear();
    print_rate(
        "逐件受理（含校验、加密、编号、派发时限、通知、时间线、审计，每件一个事务）",
        "件",
        &mut times,
        t.elapsed().as_secs_f64(),
    );

    // the bulk load: the unit's open queue among many others' closed appeals
    let mut rng = Rng(0x5851_f42d_4c95_7f2d);
    let kinds = Kind::ALL;
    let all: Vec<BulkAppeal> = (0..n)
        .map(|i| {
            let (unit, state) = if i < open {
                (lead.clone(), AppealState::Accepted)
            } else {
                let unit =
                    departments[1 + rng.below(departments.len() as u64 - 1) as usize].clone();
                let state = if rng.below(10) == 0 {
                    AppealState::Dispatched
                } else {
                    AppealState::Closed
                };
                (unit, state)
            };
            BulkAppeal {
                number: format!("BQ{i:09}"),
                kind: kinds[rng.below(kinds.len() as u64) as usize],
                source: Source::Hotline,
                category_code: "BENCH".into(),
                lead_unit_id: Some(unit),
                state,
                title: format!("批量诉求{i}"),
                content: "批量生成的诉求内容。".into(),
                received_at: start - Duration::minutes(rng.below(365 * 24 * 60) as i64),
            }
        })
        .collect();
    let seeding = bar(n as u64, "批量写入诉求");
    let t = Instant::now();
    store
        .insert_appeals(&ctx, &tenant.id, &all, &|done| {
            seeding.set_position(done as u64)
        })
        .await?;
    seeding.finish_and_clear();
    println!("批量写入 {n} 件诉求：{:.1} s", t.elapsed().as_secs_f64());

    // the unit's queue, as its contact reads it
    let vis = AppealVisibility {
        units: Some(vec![lead.clone()]),
        ..AppealVisibility::default()
    };
    let filter = AppealFilter {
        open: true,
        ..AppealFilter::default()
    };
    let progress = bar(queries as u64, "读取待办");
    let mut times = Vec::with_capacity(queries);
    let mut total = 0;
    for _ in 0..queries {
        // the query itself, as after any change (an unchanged queue is served from memory)
        store.drop_kept_reads();
        let t = Instant::now();
        let page = store
            .list_appeals(
                &tenant.id,
                &vis,
                &filter,
                PageRequest {
                    page: 1,
                    per_page: 50,
                },
            )
            .await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        total = page.total;
        progress.inc(1);
    }
    progress.finish_and_clear();
    times.sort_by(f64::total_cmp);
    if !times.is_empty() {
        println!(
            "单位待办首页（最新 50 件未办结，共 {total} 件，含总数与时限）：p50 {:.1} ms，p99 {:.1} ms，最大 {:.1} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or_default()
        );
    }
    if !http.connections.is_empty() {
        appeals_over_http(dir, &store, &tenant.id, http).await?;
    }
    store.close().await;
    Ok(())
}

/// The same unit's queue page (`GET /appeals`, HTML, as its contact's browser asks for it)
/// and the public intake (`POST /api/v1/public/appeals`) served by the product's router on
/// loopback and loaded with wrk on the same machine.
async fn appeals_over_http(
    dir: &Path,
    store: &Store,
    tenant_id: &str,
    http: &HttpLoad,
) -> anyhow::Result<()> {
    use domain::account::Role;
    let ctx = AuditCtx::cli();
    let password = "Bench-Queue-2026";
    store
        .create_account(
            &ctx,
            &store::account::NewAccount {
                tenant_id: tenant_id.to_owned(),
                username: "bench-unit".into(),
                display_name: "基准单位联络员".into(),
                password: password.into(),
                must_change_password: false,
                roles: vec![Role::UnitAdmin],
                unit_code: Some("BM00".into()),
                uscc: None,
            },
        )
        .await?;
    let session = store
        .login("bench-unit", password, None)
        .await
        .map_err(|e| anyhow::anyhow!("the benchmark's contact cannot sign in: {e:?}"))?;
    let server = BenchServer::start(store).await?;
    let addr = server.addr;
    let queue = dir.join("queue.lua");
    std::fs::write(
        &queue,
        format!(
            r#"local headers = {{ ["Cookie"] = "bizenv_session={}" }}
request = function()
  return wrk.format("GET", "/appeals", headers)
end
"#,
            session.token
        ),
    )?;
    let intake = dir.join("intake.lua");
    std::fs::write(
        &intake,
        r#"local headers = { ["Content-Type"] = "application/json" }
request = function()
  local body = '{"kind":"demand","category_code":"BENCH","title":"路灯不亮","content":"小区门口路灯已坏一周，请尽快维修。","submitter_phone":"139' ..
    string.format("%08d", math.random(0, 99999999)) .. '"}'
  return wrk.format("POST", "/api/v1/public/appeals", headers, body)
end
"#,
    )?;
    for (script, what, unit) in [
        (&queue, "单位待办页面（HTML，最新 50 件未办结）", "次"),
        (&intake, "公众提交诉求（接口，逐件事务）", "件"),
    ] {
        for &c in &http.connections {
            let r = run_wrk(&http.wrk, script, addr, c, http.seconds).await?;
            println!(
                "{what} {c} 个连接：{:.0} {unit}/秒，p50 {}，p99 {}（{} 次应答，非 2xx {} 次）",
                r.per_second, r.p50, r.p99, r.requests, r.not_ok
            );
        }
    }
    // the queue page again while appeals keep arriving (ten a second through the store):
    // each one is an audited change, so what was kept is read again after it
    for &c in &http.connections {
        let arriving = tokio::spawn(keep_appeals_arriving(store.clone(), tenant_id.to_owned()));
        let r = run_wrk(&http.wrk, &queue, addr, c, http.seconds).await;
        arriving.abort();
        let _ = arriving.await;
        let r = r?;
        println!(
            "单位待办页面，同时每秒受理 10 件 {c} 个连接：{:.0} 次/秒，p50 {}，p99 {}（{} 次应答，非 2xx {} 次）",
            r.per_second, r.p50, r.p99, r.requests, r.not_ok
        );
    }
    server.stop().await?;
    Ok(())
}

/// Public appeals arriving through the store, ten a second, until aborted.
async fn keep_appeals_arriving(store: Store, tenant_id: String) {
    use domain::appeal::{Kind, Source};
    let ctx = AuditCtx::cli();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    for i in 0u64.. {
        tick.tick().await;
        let new = store::appeal::NewAppeal {
            kind: Kind::Demand,
            source: Source::Portal,
            category_code: "BENCH".into(),
            street_id: None,
            enterprise_id: None,
            title: format!("基准并发诉求{i}"),
            content: "请尽快处理门前道路破损问题。".into(),
            address: String::new(),
            publish: false,
            submitter_name: None,
            submitter_phone: Some(format!("137{:08}", i % 100_000_000)),
            submitter_account_id: None,
            external_id: None,
        };
        if let Err(e) = store.create_appeal(&ctx, &tenant_id, &new).await {
            eprintln!("基准并发受理失败：{e}");
        }
    }
}

/// Ratings: `intake` ratings one by one through the product's own path (validation, sealing,
/// running totals, a bad rating's workflow and deadline, audit; one fsync'd transaction each)
/// beside the raw rate of fsync'd single-row SQLite inserts from Rust; then the unit
/// dashboard's reading of the running totals over 1,000,000 bulk-loaded ratings and again over
/// `bulk` (10,000,000 for the issue's figure), with a recount checking the totals.
pub async fn ratings(
    database_url: Option<String>,
    bulk: usize,
    intake: usize,
    queries: usize,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("bizenv-bench-ratings-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_ratings(&dir, database_url, bulk, intake, queries).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}

async fn run_ratings(
    dir: &Path,
    database_url: Option<String>,
    bulk: usize,
    intake: usize,
    queries: usize,
) -> anyhow::Result<()> {
    use domain::rating::{BadState, Channel, Level, Reason, TargetKind};
    use store::rating::{BulkRating, NewRating, RatingTarget};

    let sqlite = database_url.is_none();
    let (store, clock) = scratch_store(dir, database_url).await?;
    let start = clock.now();
    let ctx = AuditCtx::cli();
    let tenant = store.create_tenant(&ctx, "999996", "基准测试区").await?;
    let departments = forty_departments(&store, &ctx, &tenant.id).await?;
    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    let mode = if sqlite {
        "（WAL，synchronous=FULL）"
    } else {
        ""
    };
    println!(
        "好差评基准：逐条评价 {intake} 条，批量 {bulk} 条，{}{mode}，{cores} 核",
        store.backend()
    );

    // one by one through the product's path, 1 in 20 a bad rating with its workflow
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let progress = bar(intake as u64, "逐条评价");
    let mut times = Vec::with_capacity(intake);
    let t = Instant::now();
    for i in 0..intake {
        let bad = i % 20 == 0;
        let one = Instant::now();
        store
            .create_rating(
                &ctx,
                &tenant.id,
                &NewRating {
                    target: RatingTarget::Department(
                        departments[rng.below(departments.len() as u64) as usize].clone(),
                    ),
                    channel: Channel::Device,
                    process: if bad { 2 } else { 5 },
                    result: if bad { 1 } else { 4 },
                    reasons: if bad { vec![Reason::Attitude] } else { vec![] },
                    comment: String::new(),
                    rater_name: None,
                    rater_phone: Some(format!("139{:08}", i)),
                    device: None,
                    public: false,
                },
            )
            .await?;
        times.push(one.elapsed().as_secs_f64() * 1000.0);
        progress.inc(1);
    }
    progress.finish_and_clear();
    print_rate(
        "逐条评价（含校验、加密、防刷、累计值、差评流程与时限、审计，每条一个事务）",
        "条",
        &mut times,
        t.elapsed().as_secs_f64(),
    );
    if sqlite {
        raw_fsync_inserts(dir, intake).await?;
    }

    // the dashboard over bulk-loaded ratings: 1,000,000 first, then the rest
    let months: Vec<DateTime<Utc>> = (0..12).map(|m| start - Duration::days(30 * m)).collect();
    let make = |rng: &mut Rng, n: usize| -> Vec<BulkRating> {
        (0..n)
            .map(|_| {
                let level = |x: u64| {
                    Level::new(if x < 70 {
                        5
                    } else if x < 90 {
                        4
                    } else if x < 96 {
                        3
                    } else if x < 99 {
                        2
                    } else {
                        1
                    } as i64)
                };
                let process = level(rng.below(100)).unwrap_or_else(|_| unreachable!());
                let result = level(rng.below(100)).unwrap_or_else(|_| unreachable!());
                let at = months[rng.below(12) as usize]
                    - Duration::minutes(rng.below(60 * 24 * 28) as i64);
                BulkRating {
                    target: TargetKind::Department,
                    case_id: None,
                    window_id: None,
                    unit_id: departments[rng.below(departments.len() as u64) as usize].clone(),
                    item_code: format!("SX-{:03}", rng.below(60)),
                    channel: Channel::ALL[rng.below(4) as usize],
                    process,
                    result,
                    reasons: if process.is_bad() || result.is_bad() {
                        vec![Reason::Visits]
                    } else {
                        vec![]
                    },
                    comment: String::new(),
                    rated_at: at,
                    bad_state: BadState::Closed,
                }
            })
            .collect()
    };
    let unit = departments[0].clone();
    let first = bulk.min(1_000_000);
    let mut loaded = 0;
    for stage in [first, bulk] {
        let progress = bar(stage as u64, "批量写入评价");
        progress.set_position(loaded as u64);
        let t = Instant::now();
        while loaded < stage {
            let n = (stage - loaded).min(100_000);
            let rows = make(&mut rng, n);
            store
                .insert_ratings(&ctx, &tenant.id, &rows, &|done| {
                    progress.set_position((loaded + done) as u64)
                })
                .await?;
            loaded += n;
        }
        progress.finish_and_clear();
        println!("批量写入至 {loaded} 条：{:.1} s", t.elapsed().as_secs_f64());
        let mut tenant_times = Vec::with_capacity(queries);
        let mut unit_times = Vec::with_capacity(queries);
        for _ in 0..queries {
            for (scope, times) in [
                (None, &mut tenant_times),
                (Some(vec![unit.clone()]), &mut unit_times),
            ] {
                let one = Instant::now();
                // what /ratings reads: this month by unit and channel, and the 12-month trend
                let month = store
                    .rating_totals(&tenant.id, scope.as_deref(), "2026-11", "2026-11")
                    .await?;
                let trend = store
                    .rating_totals(&tenant.id, scope.as_deref(), "2025-12", "2026-11")
                    .await?;
                std::hint::black_box((month.len(), trend.len()));
                times.push(one.elapsed().as_secs_f64() * 1000.0);
            }
        }
        for (what, times) in [("全区", &mut tenant_times), ("单个单位", &mut unit_times)] {
            times.sort_by(f64::total_cmp);
            if !times.is_empty() {
                println!(
                    "统计页读取（{what}，{loaded} 条评价）：p50 {:.2} ms，p99 {:.2} ms",
                    percentile(times, 0.5),
                    percentile(times, 0.99)
                );
            }
        }
        let t = Instant::now();
        let recount = store.recount_rating_totals(&tenant.id, false).await?;
        let totals = store
            .rating_item_totals(&tenant.id, None, "0000-01", "9999-12")
            .await?;
        anyhow::ensure!(recount == totals, "running totals differ from the recount");
        let rollups = store
            .rating_totals(&tenant.id, None, "0000-01", "9999-12")
            .await?;
        anyhow::ensure!(
            store.recount_rating_totals(&tenant.id, true).await? == rollups,
            "the units' roll-ups differ from the recount"
        );
        println!(
            "累计值与逐条重算一致（{} 组明细、{} 组单位汇总，重算 {:.1} s）",
            totals.len(),
            rollups.len(),
            t.elapsed().as_secs_f64()
        );
        if loaded >= bulk {
            break;
        }
    }
    store.close().await;
    Ok(())
}

/// The reference the rating benchmarks compare with: `n` single-row inserts into a bare
/// SQLite table from Rust, each its own fsync'd commit (WAL, synchronous=FULL), on the same
/// disk. Prints and answers the rate.
async fn raw_fsync_inserts(dir: &Path, n: usize) -> anyhow::Result<f64> {
    use sqlx::ConnectOptions;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("reference.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
    let mut conn = options.connect().await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS r (id INTEGER PRIMARY KEY, unit TEXT NOT NULL, process INTEGER NOT NULL, result INTEGER NOT NULL)")
        .execute(&mut conn)
        .await?;
    let t = Instant::now();
    for i in 0..n {
        sqlx::query("INSERT INTO r (unit, process, result) VALUES (?1, 5, 4)")
            .bind(format!("BM{:02}", i % 40))
            .execute(&mut conn)
            .await?;
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    println!("参照：同一磁盘上逐行插入（每行一次提交并 fsync，无校验、无审计）：{rate:.0} 行/秒");
    Ok(rate)
}

pub async fn ratings_http(
    database_url: Option<String>,
    seconds: u64,
    connections: &[usize],
    wrk: &str,
) -> anyhow::Result<()> {
    let dir =
        std::env::temp_dir().join(format!("bizenv-bench-ratings-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_ratings_http(&dir, database_url, seconds, connections, wrk).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}

/// What one wrk run reported.
#[derive(Debug, Default, PartialEq)]
struct WrkReport {
    requests: u64,
    not_ok: u64,
    per_second: f64,
    p50: String,
    p99: String,
}

/// The product's router (the same `web::Application` as `bizenv serve`, background jobs
/// off) served on a loopback port for wrk.
struct BenchServer {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl BenchServer {
    async fn start(store: &Store) -> anyhow::Result<Self> {
        let app = web::Application::build("127.0.0.1:0".parse()?, store.clone())
            .await?
            .without_background_jobs();
        let addr = app.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Ok(Self { addr, stop, task })
    }

    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await?
    }
}

/// Runs wrk with `script` against the server at `addr`: `connections` connections for
/// `seconds`, two threads, latency percentiles.
async fn run_wrk(
    wrk: &str,
    script: &Path,
    addr: std::net::SocketAddr,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<WrkReport> {
    use anyhow::Context;
    let out = tokio::process::Command::new(wrk)
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://{addr}/"))
        .output()
        .await
        .with_context(|| format!("running {wrk} (Debian package wrk)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = parse_wrk(&text);
    anyhow::ensure!(report.requests > 0, "wrk reported no requests: {text}");
    Ok(report)
}

/// Reads wrk's `--latency` report.
fn parse_wrk(out: &str) -> WrkReport {
    let mut report = WrkReport::default();
    for line in out.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("50%"), Some(v)) => report.p50 = v.to_owned(),
            (Some("99%"), Some(v)) => report.p99 = v.to_owned(),
            (Some("Requests/sec:"), Some(v)) => report.per_second = v.parse().unwrap_or(0.0),
            (Some(n), Some("requests")) => report.requests = n.parse().unwrap_or(0),
            _ => {}
        }
        if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            report.not_ok = n.trim().parse().unwrap_or(0);
        }
    }
    report
}

/// Ratings over HTTP: the served product (the same router, the group-commit writer) on a
/// loopback port, loaded by wrk with `POST /api/v1/ratings` under a system token — each answer
/// sent only after its transaction's fsync'd commit.
async fn run_ratings_http(
    dir: &Path,
    database_url: Option<String>,
    seconds: u64,
    connections: &[usize],
    wrk: &str,
) -> anyhow::Result<()> {
    let sqlite = database_url.is_none();
    let (store, _) = scratch_store(dir, database_url).await?;
    let ctx = AuditCtx::cli();
    let tenant = store.create_tenant(&ctx, "999995", "基准测试区").await?;
    let departments = forty_departments(&store, &ctx, &tenant.id).await?;
    let (_, key) = store
        .create_token(
            &ctx,
            &tenant.id,
            "rating-bench",
            &[domain::account::Role::Supervisor],
            None,
        )
        .await?;
    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    let mode = if sqlite {
        "（WAL，synchronous=FULL）"
    } else {
        ""
    };
    println!(
        "好差评 HTTP 基准：wrk 与服务同机，{}{mode}，{cores} 核，每轮 {seconds} 秒",
        store.backend()
    );
    if sqlite {
        raw_fsync_inserts(dir, 2_000).await?;
    }

    let server = BenchServer::start(&store).await?;
    let addr = server.addr;

    // each request: a random department of the 40, a rater's phone, 1 in 20 a bad rating
    let ids: Vec<String> = departments.iter().map(|d| format!("\"{d}\"")).collect();
    let script = format!(
        r#"local ids = {{ {ids} }}
local n = 0
local headers = {{ ["Content-Type"] = "application/json", ["Authorization"] = "Bearer {key}" }}
request = function()
  n = n + 1
  local scores = '"process":5,"result":4'
  if n % 20 == 0 then scores = '"process":2,"result":1,"reasons":["attitude"]' end
  local body = '{{"target":"department","target_id":"' .. ids[math.random(#ids)] ..
    '","channel":"device","rater_phone":"139' .. string.format("%08d", math.random(0, 99999999)) ..
    '",' .. scores .. '}}'
  return wrk.format("POST", "/api/v1/ratings", headers, body)
end
"#,
        ids = ids.join(", ")
    );
    let script_path = dir.join("ratings.lua");
    std::fs::write(&script_path, script)?;
    let mut acknowledged = 0;
    for &c in connections {
        let report = run_wrk(wrk, &script_path, addr, c, seconds).await?;
        println!(
            "{c} 个连接：{:.0} 条/秒，p50 {}，p99 {}（{} 条应答，非 2xx {} 条）",
            report.per_second, report.p50, report.p99, report.requests, report.not_ok
        );
        acknowledged += report.requests - report.not_ok;
    }
    server.stop().await?;
    // requests wrk left in flight may still be in the writer's last batch: wait until it lands
    let mut stored = 0;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let now = store.count_ratings(&tenant.id).await?;
        if now == stored {
            break;
        }
        stored = now;
    }
    // what was acknowledged is there, and the totals still equal a recount
    let totals = store
        .rating_totals(&tenant.id, None, "0000-01", "9999-12")
        .await?;
    anyhow::ensure!(
        totals.iter().map(|t| t.process.n).sum::<u64>() == stored,
        "the running totals do not count {stored} ratings"
    );
    anyhow::ensure!(
        stored >= acknowledged,
        "{stored} ratings stored, {acknowledged} acknowledged"
    );
    anyhow::ensure!(
        store.recount_rating_totals(&tenant.id, true).await? == totals,
        "the units' roll-ups differ from the recount"
    );
    println!(
        "已应答 {acknowledged} 条，库中 {stored} 条（含 wrk 停止时在途的请求），累计值与重算一致"
    );
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_latency_report() {
        let out = "Running 10s test @ http://127.0.0.1:4000/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.12ms    2.01ms  40.10ms   80.00%
  Latency Distribution
     50%    5.80ms
     75%    6.90ms
     90%    8.10ms
     99%   14.20ms
  104857 requests in 10.00s, 60.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  10485.70
Transfer/sec:      6.00MB
";
        assert_eq!(
            parse_wrk(out),
            WrkReport {
                requests: 104_857,
                not_ok: 3,
                per_second: 10_485.7,
                p50: "5.80ms".into(),
                p99: "14.20ms".into(),
            }
        );
    }
}
