//! `bizenv`: the platform's one binary — serve, migrate, and the administrator's commands.

mod bench;
mod config;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use domain::clock::SystemClock;
use store::Store;
use store::audit::AuditCtx;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, Given, LogFormat};

/// 营商环境优化平台 bizenv
#[derive(Debug, Parser)]
#[command(
    name = "bizenv",
    version,
    about = "营商环境优化平台 — business environment platform"
)]
struct Cli {
    /// Data directory: the SQLite database bizenv.db, key files, the demo manifest.
    #[arg(long, global = true, env = "BIZENV_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…); without it, SQLite in the data directory.
    #[arg(
        long,
        global = true,
        env = "BIZENV_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Config file (TOML): data_dir, database_url, bind, log_format.
    #[arg(long, global = true, env = "BIZENV_CONFIG")]
    config: Option<PathBuf>,
    /// Log format on standard error.
    #[arg(long, global = true, env = "BIZENV_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Key file kept outside the data directory (default: bizenv.keys in the data directory).
    #[arg(long, global = true, env = "BIZENV_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Mail relay for notifications, smtp://host[:port] (default: mail is not sent).
    #[arg(long, global = true, env = "BIZENV_MAIL_RELAY")]
    mail_relay: Option<String>,
    /// Sender of notification mail (default: 营商环境优化平台 <noreply@bizenv.local>).
    #[arg(long, global = true, env = "BIZENV_MAIL_FROM")]
    mail_from: Option<String>,
    /// The address users reach the platform at, for links in mail (https://…).
    #[arg(long, global = true, env = "BIZENV_PUBLIC_URL")]
    public_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the pages and the API.
    Serve {
        /// Fill the database with the demo district (idempotent).
        #[arg(long)]
        demo: bool,
        /// How much of a year of cases and ratings the demo holds when first seeded: `full`
        /// (a real district's, about 300,000 cases; the first start takes a minute or two)
        /// or `tenth` (a quick look).
        #[arg(long, default_value = "full")]
        demo_volume: store::demo::DemoVolume,
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "BIZENV_BIND")]
        bind: Option<SocketAddr>,
        /// A reverse proxy whose X-Forwarded-For is believed (repeat for several).
        #[arg(
            long = "trusted-proxy",
            env = "BIZENV_TRUSTED_PROXIES",
            value_delimiter = ','
        )]
        trusted_proxies: Vec<std::net::IpAddr>,
    },
    /// Create or migrate the database, then exit.
    Migrate,
    /// Tenants (one region each).
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Accounts: add, reset a password, unlock.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Bearer tokens for systems: add, list, revoke.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The working-day calendar.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Import units, staff (XLSX) or enterprises (CSV or XLSX) (docs/IMPORT.md).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Benchmarks through the product's own code, in a scratch database (docs/BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// The card sweep over many open deadlines. SQLite in a temporary directory unless
    /// --scratch-database-url names a PostgreSQL database to fill (it is written to).
    Cards {
        /// Open deadlines to seed.
        #[arg(long, default_value_t = 1_000_000)]
        deadlines: usize,
        /// An empty PostgreSQL database to use instead of a temporary SQLite file.
        #[arg(long)]
        scratch_database_url: Option<String>,
    },
    /// Enterprise import of a synthetic CSV through the product's import, and sqlite3's
    /// `.import` of the same file for reference.
    Import {
        /// Rows in the file.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// The sqlite3 command line shell.
        #[arg(long, default_value = "sqlite3")]
        sqlite3: String,
    },
    /// Appeals: intake through the product's own path, then one unit's queue page over a
    /// bulk-loaded table.
    Appeals {
        /// Appeals to load in bulk.
        #[arg(long, default_value_t = 1_000_000)]
        appeals: usize,
        /// Of those, open and led by the measured unit.
        #[arg(long, default_value_t = 10_000)]
        open: usize,
        /// Appeals received one by one first.
        #[arg(long, default_value_t = 2_000)]
        intake: usize,
        /// Queue readings to time.
        #[arg(long, default_value_t = 500)]
        queries: usize,
        /// Concurrent connections for the HTTP runs (the queue page, the public intake), one
        /// wrk run each; empty: none.
        #[arg(long, value_delimiter = ',', default_value = "10,100")]
        connections: Vec<usize>,
        /// Seconds per wrk run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The wrk binary.
        #[arg(long, default_value = "wrk")]
        wrk: String,
        /// An empty PostgreSQL database to use instead of a temporary SQLite file.
        #[arg(long)]
        scratch_database_url: Option<String>,
    },
    /// Ratings: one by one through the product's path beside raw fsync'd inserts, then the
    /// dashboard over bulk-loaded ratings (1,000,000, then `--ratings`).
    Ratings {
        /// Ratings to load in bulk (the dashboard is timed at 1,000,000 and at this count).
        #[arg(long, default_value_t = 1_000_000)]
        ratings: usize,
        /// Ratings stored one by one first.
        #[arg(long, default_value_t = 2_000)]
        intake: usize,
        /// Dashboard readings to time.
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// An empty PostgreSQL database to use instead of a temporary SQLite file.
        #[arg(long)]
        scratch_database_url: Option<String>,
    },
    /// Ratings over HTTP: the served product loaded by wrk with `POST /api/v1/ratings`
    /// (system token), each answer after its fsync'd group commit; beside raw fsync'd inserts.
    RatingsHttp {
        /// Seconds per wrk run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent connections, one wrk run each.
        #[arg(long, value_delimiter = ',', default_value = "16,64,256")]
        connections: Vec<usize>,
        /// The wrk binary.
        #[arg(long, default_value = "wrk")]
        wrk: String,
        /// An empty PostgreSQL database to use instead of a temporary SQLite file.
        #[arg(long)]
        scratch_database_url: Option<String>,
    },
    /// Enterprise search by 2-character name fragments over a synthetic registry.
    Search {
        /// Enterprises to seed.
        #[arg(long, default_value_t = 1_000_000)]
        enterprises: usize,
        /// Searches to time.
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// An empty PostgreSQL database to use instead of a temporary SQLite file.
        #[arg(long)]
        scratch_database_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Units: upsert by 代码; parents may come after their children in the file.
    Units {
        /// The XLSX file.
        file: PathBuf,
        /// Tenant code (may be left out when the installation has one tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Staff: a row updates the staff member with the same name in the same unit, else adds one.
    Staff {
        /// The XLSX file.
        file: PathBuf,
        /// Tenant code (may be left out when the installation has one tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Enterprises (CSV in UTF-8 or GB18030, or XLSX): upsert by 统一社会信用代码.
    Enterprises {
        /// The CSV or XLSX file.
        file: PathBuf,
        /// Tenant code (may be left out when the installation has one tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// Where to write the row errors as XLSX (default: beside the file, `…-错误.xlsx`).
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// 12345 hotline work orders (CSV in UTF-8 or GB18030, or XLSX): each new 工单编号 becomes
    /// an appeal; one imported before is left as it is.
    Appeals {
        /// The CSV or XLSX file.
        file: PathBuf,
        /// Tenant code (may be left out when the installation has one tenant).
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Add a tenant: a district or county by its GB/T 2260 code.
    Add {
        /// Six-digit region code, e.g. 370104.
        #[arg(long)]
        code: String,
        /// Name, e.g. 槐荫区.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add an account; its password is read from standard input and must be changed at first login.
    Add {
        /// Tenant code (may be left out when the installation has one tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// Login name.
        #[arg(long)]
        username: String,
        /// Shown name (defaults to the username).
        #[arg(long)]
        name: Option<String>,
        /// A role (repeat for several): sysadmin, secadmin, auditor, leader, supervisor,
        /// inspector, unit_admin, window_staff, observer, enterprise.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Unit code, for unit_admin and window_staff.
        #[arg(long)]
        unit: Option<String>,
        /// Unified social credit code, for enterprise.
        #[arg(long)]
        uscc: Option<String>,
    },
    /// Set a new password (read from standard input; to be changed at next login) and unlock.
    ResetPassword {
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Clear a lockout after repeated failed logins.
    Unlock {
        /// Login name.
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once, alone on the last line.
    Add {
        /// Tenant code (may be left out when the installation has one tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// Name, unique in the tenant (e.g. the calling system).
        #[arg(long)]
        name: String,
        /// A role (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Expiry: YYYY-MM-DD (valid until that day begins, Shanghai time) or RFC 3339.
        #[arg(long)]
        expires: Option<String>,
    },
    /// List the tenant's tokens (never the tokens themselves).
    List {
        /// Tenant code.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a token by name.
    Revoke {
        /// Tenant code.
        #[arg(long)]
        tenant: Option<String>,
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every chain against its keyed hashes and the heads kept outside the database.
    Verify,
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Load (or replace) official schedules from a TOML file (docs/CALENDAR.md).
    Load {
        /// The schedule file.
        file: PathBuf,
    },
}

/// mimalloc: a request allocates and frees many small strings and buffers on two threads
/// at once, which glibc's allocator serves with more locking (measured with the rating
/// benchmark, docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (bind, trusted_proxies) = match &cli.command {
        Command::Serve {
            bind,
            trusted_proxies,
            ..
        } => (
            *bind,
            Some(trusted_proxies.clone()).filter(|t| !t.is_empty()),
        ),
        _ => (None, None),
    };
    let config = match Config::settle(Given {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        config: cli.config.clone(),
        log_format: cli.log_format,
        bind,
        trusted_proxies,
        key_file: cli.key_file.clone(),
        mail_relay: cli.mail_relay.clone(),
        mail_from: cli.mail_from.clone(),
        public_url: cli.public_url.clone(),
    }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("错误：{e:#}");
            return ExitCode::FAILURE;
        }
    };
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::debug!(error = format!("{e:#}"), "command failed");
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open_with_keys(
        &config.database_url,
        &config.data_dir,
        config.key_file.as_deref(),
        Arc::new(SystemClock),
    )
    .await
    .map(|store| store.with_mail_relay(config.mail_relay.clone()))
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            demo, demo_volume, ..
        } => serve(config, demo.then_some(demo_volume)).await,
        Command::Migrate => {
            let store = open_store(&config).await?;
            println!(
                "数据库已是最新结构（{}）：{}",
                store.backend(),
                config.database_url
            );
            store.close().await;
            Ok(())
        }
        Command::Tenant {
            command: TenantCommand::Add { code, name },
        } => {
            let store = open_store(&config).await?;
            let tenant = store.create_tenant(&AuditCtx::cli(), &code, &name).await;
            store.close().await;
            let tenant = tenant.map_err(user_error)?;
            println!("已添加地区 {} {}", tenant.code, tenant.name);
            Ok(())
        }
        Command::User { command } => user_command(&config, command).await,
        Command::Import { command } => import_command(&config, command).await,
        Command::Bench {
            command:
                BenchCommand::Cards {
                    deadlines,
                    scratch_database_url,
                },
        } => bench::cards(scratch_database_url, deadlines).await,
        Command::Bench {
            command:
                BenchCommand::Search {
                    enterprises,
                    queries,
                    scratch_database_url,
                },
        } => bench::search(scratch_database_url, enterprises, queries).await,
        Command::Bench {
            command: BenchCommand::Import { rows, sqlite3 },
        } => bench::import(rows, &sqlite3).await,
        Command::Bench {
            command:
                BenchCommand::Appeals {
                    appeals,
                    open,
                    intake,
                    queries,
                    connections,
                    seconds,
                    wrk,
                    scratch_database_url,
                },
        } => {
            let http = bench::HttpLoad {
                connections,
                seconds,
                wrk,
            };
            bench::appeals(scratch_database_url, appeals, open, intake, queries, &http).await
        }
        Command::Bench {
            command:
                BenchCommand::Ratings {
                    ratings,
                    intake,
                    queries,
                    scratch_database_url,
                },
        } => bench::ratings(scratch_database_url, ratings, intake, queries).await,
        Command::Bench {
            command:
                BenchCommand::RatingsHttp {
                    seconds,
                    connections,
                    wrk,
                    scratch_database_url,
                },
        } => bench::ratings_http(scratch_database_url, seconds, &connections, &wrk).await,
        Command::Token { command } => token_command(&config, command).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let store = open_store(&config).await?;
            let report = store.verify_audit().await;
            store.close().await;
            let report = report?;
            if report.problems.is_empty() {
                println!(
                    "审计日志完整：{} 条链，{} 条记录，全部校验通过",
                    report.chains, report.entries
                );
                Ok(())
            } else {
                for problem in &report.problems {
                    println!("{problem}");
                }
                anyhow::bail!("审计日志发现 {} 处异常", report.problems.len())
            }
        }
        Command::Calendar {
            command: CalendarCommand::Load { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("读取文件 {} 失败", file.display()))?;
            let years = domain::calendar::parse_schedule_file(&text)
                .with_context(|| format!("文件 {} 未导入", file.display()))?;
            let store = open_store(&config).await?;
            let source = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.display().to_string());
            store
                .load_calendar_years(&AuditCtx::cli(), &source, &years)
                .await
                .map_err(user_error)?;
            for y in &years {
                println!(
                    "已导入 {} 年：放假 {} 天，调休上班 {} 天",
                    y.year(),
                    y.holidays().len(),
                    y.workdays().len()
                );
            }
            store.close().await;
            Ok(())
        }
    }
}

/// The password given on standard input (its first line).
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("读取标准输入中的密码失败")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!("请在标准输入中提供密码，例如：echo '新密码' | bizenv user …");
    }
    Ok(password)
}

/// The tenant named by `--tenant`, or the only one.
async fn tenant_of(store: &Store, code: Option<&str>) -> anyhow::Result<store::tenant::Tenant> {
    match code {
        Some(code) => store
            .tenant_by_code(code)
            .await?
            .ok_or_else(|| anyhow::anyhow!("地区 {code} 不存在")),
        None => {
            let mut tenants = store.tenants().await?;
            match tenants.len() {
                1 => Ok(tenants.remove(0)),
                0 => anyhow::bail!("系统中还没有地区，请先运行 bizenv tenant add"),
                _ => anyhow::bail!("系统中有多个地区，请用 --tenant 指明行政区划代码"),
            }
        }
    }
}

async fn user_command(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let result = async {
        match command {
            UserCommand::Add {
                tenant,
                username,
                name,
                roles,
                unit,
                uscc,
            } => {
                let roles = roles
                    .iter()
                    .map(|r| r.parse::<domain::account::Role>())
                    .collect::<Result<Vec<_>, _>>()?;
                let tenant = tenant_of(&store, tenant.as_deref()).await?;
                let password = read_password()?;
                let account = store
                    .create_account(
                        &AuditCtx::cli(),
                        &store::account::NewAccount {
                            tenant_id: tenant.id.clone(),
                            display_name: name.unwrap_or_else(|| username.clone()),
                            username,
                            password,
                            must_change_password: true,
                            roles,
                            unit_code: unit,
                            uscc,
                        },
                    )
                    .await
                    .map_err(user_error)?;
                println!(
                    "已添加用户 {}（{}），首次登录须修改密码",
                    account.username, tenant.name
                );
            }
            UserCommand::ResetPassword { username } => {
                let password = read_password()?;
                let account = store
                    .reset_password(&AuditCtx::cli(), &username, &password)
                    .await
                    .map_err(user_error)?;
                println!(
                    "已重置 {} 的密码并解除锁定，下次登录须修改密码",
                    account.username
                );
            }
            UserCommand::Unlock { username } => {
                let account = store
                    .unlock_account(&AuditCtx::cli(), &username)
                    .await
                    .map_err(user_error)?;
                println!("已解除 {} 的锁定", account.username);
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}

fn parse_expiry(text: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        return start
            .and_local_timezone(domain::calendar::shanghai())
            .single()
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok_or_else(|| anyhow::anyhow!("无效的到期日期 {text}"));
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| anyhow::anyhow!("到期时间“{text}”应为 YYYY-MM-DD 或 RFC 3339 格式"))
}

async fn token_command(config: &Config, command: TokenCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let result = async {
        match command {
            TokenCommand::Add {
                tenant,
                name,
                roles,
                expires,
            } => {
                let roles = roles
                    .iter()
                    .map(|r| r.parse::<domain::account::Role>())
                    .collect::<Result<Vec<_>, _>>()?;
                let expires = expires.as_deref().map(parse_expiry).transpose()?;
                let tenant = tenant_of(&store, tenant.as_deref()).await?;
                let (token, secret) = store
                    .create_token(&AuditCtx::cli(), &tenant.id, &name, &roles, expires)
                    .await
                    .map_err(user_error)?;
                println!(
                    "已创建令牌 {}（{}），令牌只显示这一次：",
                    token.name, tenant.name
                );
                println!("{secret}");
            }
            TokenCommand::List { tenant } => {
                let tenant = tenant_of(&store, tenant.as_deref()).await?;
                for t in store.tokens(&tenant.id).await? {
                    let roles: Vec<&str> = t.roles.iter().map(|r| r.as_str()).collect();
                    let state = match (t.revoked_at, t.expires_at) {
                        (Some(_), _) => "已吊销".to_owned(),
                        (None, Some(e)) => format!(
                            "有效至 {}",
                            e.with_timezone(&domain::calendar::shanghai())
                                .format("%Y-%m-%d %H:%M")
                        ),
                        (None, None) => "长期有效".to_owned(),
                    };
                    println!("{}\t{}\t{}", t.name, roles.join(","), state);
                }
            }
            TokenCommand::Revoke { tenant, name } => {
                let tenant = tenant_of(&store, tenant.as_deref()).await?;
                let token = store
                    .revoke_token(&AuditCtx::cli(), &tenant.id, &name)
                    .await
                    .map_err(user_error)?;
                println!("已吊销令牌 {}", token.name);
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}

async fn import_command(config: &Config, command: ImportCommand) -> anyhow::Result<()> {
    let (what, file, tenant) = match &command {
        ImportCommand::Units { file, tenant } => ("单位", file, tenant),
        ImportCommand::Staff { file, tenant } => ("人员", file, tenant),
        ImportCommand::Enterprises { file, tenant, .. } => ("企业", file, tenant),
        ImportCommand::Appeals { file, tenant } => ("热线工单", file, tenant),
    };
    let bytes = std::fs::read(file).with_context(|| format!("读取文件 {} 失败", file.display()))?;
    let store = open_store(config).await?;
    let result = async {
        let tenant = tenant_of(&store, tenant.as_deref()).await?;
        println!("正在导入{what}：{}（{}）…", file.display(), tenant.name);
        let report = match command {
            ImportCommand::Units { .. } => {
                store
                    .import_units(&AuditCtx::cli(), &tenant.id, &bytes)
                    .await
            }
            ImportCommand::Staff { .. } => {
                store
                    .import_staff(&AuditCtx::cli(), &tenant.id, &bytes)
                    .await
            }
            ImportCommand::Enterprises { ref report, .. } => {
                let report_path = report.clone().unwrap_or_else(|| {
                    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("企业");
                    file.with_file_name(format!("{stem}-错误.xlsx"))
                });
                import_enterprises(&store, &tenant.id, file, &bytes, &report_path).await
            }
            ImportCommand::Appeals { .. } => import_appeals(&store, &tenant.id, &bytes).await,
        }
        .map_err(user_error)?;
        if matches!(command, ImportCommand::Appeals { .. }) {
            // a work order imported before is left as it is: nothing is ever updated
            println!(
                "新增诉求 {} 件，此前已导入 {} 件，有误 {} 处",
                report.created,
                report.unchanged,
                report.errors.len()
            );
        } else {
            println!(
                "新增 {} 行，更新 {} 行，未变化 {} 行，有误 {} 处",
                report.created,
                report.updated,
                report.unchanged,
                report.errors.len()
            );
        }
        for e in &report.errors {
            println!("第 {} 行 列“{}”：{}", e.row, e.column, e.reason);
        }
        if report.errors.is_empty() {
            Ok(())
        } else {
            let rows: std::collections::BTreeSet<usize> =
                report.errors.iter().map(|e| e.row).collect();
            anyhow::bail!("{} 行有误未导入（其余各行已导入）", rows.len())
        }
    }
    .await;
    store.close().await;
    result
}

/// Imports enterprises with a progress bar; row errors also go to `report_path` as XLSX.
async fn import_enterprises(
    store: &Store,
    tenant_id: &str,
    file: &std::path::Path,
    bytes: &[u8],
    report_path: &std::path::Path,
) -> Result<store::import::ImportReport, store::StoreError> {
    use store::enterprise_import::{FileKind, error_report_xlsx};
    let bar = rows_bar(0);
    let kind = FileKind::from_name(&file.to_string_lossy());
    let done = store
        .import_enterprises_in_bulk(&AuditCtx::cli(), tenant_id, bytes, kind, &|p| {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
        })
        .await;
    bar.finish_and_clear();
    let report = done?.report;
    if !report.errors.is_empty() {
        let xlsx = error_report_xlsx(&report)?;
        std::fs::write(report_path, xlsx).map_err(|e| store::StoreError::Other(e.into()))?;
        println!("错误报告已写入 {}", report_path.display());
    }
    Ok(report)
}

/// The import's progress bar over `len` rows.
fn rows_bar(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} 行 {per_sec} 剩余 {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("导入");
    bar
}

/// Hotline work orders through the same import as the page, with a progress bar.
async fn import_appeals(
    store: &Store,
    tenant_id: &str,
    bytes: &[u8],
) -> Result<store::import::ImportReport, store::StoreError> {
    use store::enterprise_import::{FileKind, read_enterprise_file};
    let table = read_enterprise_file(bytes, FileKind::Unknown)?;
    let bar = rows_bar(table.rows().len() as u64);
    let done = store
        .import_hotline_with_progress(&AuditCtx::cli(), tenant_id, &table, &|n| {
            bar.set_position(n as u64)
        })
        .await;
    bar.finish_and_clear();
    done
}

/// A store error as the person at the terminal should read it.
fn user_error(e: store::StoreError) -> anyhow::Error {
    match e {
        store::StoreError::Conflict(m) | store::StoreError::Invalid(m) => anyhow::anyhow!(m),
        store::StoreError::NotFound => anyhow::anyhow!("记录不存在"),
        other => anyhow::Error::new(other),
    }
}

async fn serve(config: Config, demo: Option<store::demo::DemoVolume>) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    if let Some(volume) = demo {
        tracing::info!(
            ?volume,
            "seeding the demo district where it is not yet seeded"
        );
        let summary = store
            .seed_demo_with(volume)
            .await
            .context("seeding the demo district")?;
        if !config.database_url.is_postgres() {
            let manifest = config.data_dir.join("demo-manifest.json");
            std::fs::write(&manifest, serde_json::to_vec_pretty(&summary)?)
                .with_context(|| format!("writing {}", manifest.display()))?;
        }
        tracing::info!(tenant = %summary.tenant_code, seeded = ?summary.seeded_now, "demo district ready");
    }
    let app =
        web::Application::build_with(config.bind, store.clone(), config.trusted_proxies.clone())
            .await?;
    let addr = app.local_addr();
    tracing::info!(%addr, database = %config.database_url, "serving");
    println!("营商环境优化平台已启动：http://{addr}/");
    if demo.is_some() {
        println!("示例数据：槐荫区（示例），所有页面均标注“示例数据”。");
        println!("示例账号（密码均为 {}）：", store::demo::DEMO_PASSWORD);
        for (username, name, role, _) in store::demo::DEMO_ACCOUNTS {
            println!("  {username:<12} {}  {name}", role.label());
        }
    }
    app.run_until(web::shutdown_signal()).await?;
    store.close().await;
    Ok(())
}
