//! The integration suite: the real binary's application on SQLite and on PostgreSQL,
//! organised by feature. `db_tests!` runs each listed test once per backend.

mod accounts;
mod appeals;
mod audit;
mod auth;
mod browser;
mod calendar;
mod cli;
mod enterprise_import;
mod enterprises;
mod groups;
mod hotline_import;
mod import;
mod inspections;
mod kernel;
mod notify;
mod open311;
mod org;
mod policy;
mod ratings;
mod reorg;
mod staff;
mod store;
mod tasks;
mod tokens;
mod visits;
mod web;

/// The first worksheet of an XLSX file, every cell as text.
pub fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut workbook =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX file");
    let range = workbook
        .worksheet_range_at(0)
        .expect("a worksheet")
        .expect("a readable worksheet");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// Runs the `bizenv` binary with `args` against `app`'s database and data directory.
pub fn bizenv(app: &test_support::TestApp, args: &[&str]) -> std::process::Output {
    bizenv_with_input(app, args, "")
}

/// Runs the `bizenv` binary with `input` on its standard input.
pub fn bizenv_with_input(
    app: &test_support::TestApp,
    args: &[&str],
    input: &str,
) -> std::process::Output {
    use std::io::Write;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bizenv"));
    command
        .arg("--data-dir")
        .arg(app.data_dir())
        .arg("--database-url")
        .arg(app.database_url().expose())
        .args(args)
        .env_remove("BIZENV_CONFIG")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("running the bizenv binary");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().expect("running the bizenv binary")
}
