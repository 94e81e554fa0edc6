//! The invariant "static SQL is checked at compile time" (ARCHITECTURE.md): every statement of
//! the store is a `sqlx::query!`-family macro, except the few that cannot be (COPY, statements
//! over a transaction's temporary tables), each of which says so in a `Runtime-checked` comment
//! just above it; builds use the committed offline cache only.

use std::path::{Path, PathBuf};

const RUNTIME_CALLS: [&str; 5] =
    ["sqlx::query(", "sqlx::query_as(", "sqlx::query_scalar(", "sqlx::query_as::<", "copy_in_raw("];

fn sources() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("shared/store/src")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("source file");
            (p, text)
        })
        .collect();
    files.sort();
    files
}

/// (file, line number, line) of each runtime statement without a `Runtime-checked` comment in
/// the three lines above it.
fn unexplained_runtime_statements(files: &[(PathBuf, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (path, text) in files {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if RUNTIME_CALLS.iter().any(|c| line.contains(c)) && !line.trim_start().starts_with("//") {
                let explained = lines[i.saturating_sub(3)..i].iter().any(|l| l.contains("Runtime-checked"));
                if !explained {
                    bad.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
    }
    bad
}

#[test]
fn every_runtime_statement_says_why() {
    let files = sources();
    let bad = unexplained_runtime_statements(&files);
    assert!(bad.is_empty(), "runtime SQL without a `Runtime-checked` reason (use sqlx::query!):\n{}", bad.join("\n"));
    let macros: usize = files
        .iter()
        .map(|(_, t)| {
            t.matches("sqlx::query!(").count()
                + t.matches("sqlx::query_as!(").count()
                + t.matches("sqlx::query_scalar!(").count()
        })
        .sum();
    assert!(macros >= 100, "only {macros} checked statements found: the scan is not reading the store");
    for (path, text) in &files {
        assert!(!text.contains("AssertSqlSafe"), "{}: SQL formatted at run time", path.display());
    }
}

#[test]
fn the_scan_finds_an_unexplained_runtime_statement() {
    let file = (
        PathBuf::from("example.rs"),
        "fn f() {\n    // Runtime-checked: COPY.\n    x.copy_in_raw(\"COPY t FROM STDIN\");\n\n\n\n    sqlx::query(\"SELECT 1\");\n}\n"
            .to_string(),
    );
    assert_eq!(unexplained_runtime_statements(&[file]), vec!["example.rs:7: sqlx::query(\"SELECT 1\");".to_string()]);
}

#[test]
fn builds_read_the_offline_cache_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let config = std::fs::read_to_string(root.join(".cargo/config.toml")).expect(".cargo/config.toml");
    assert!(
        config.lines().any(|l| l.replace(' ', "") == "SQLX_OFFLINE=\"true\""),
        ".cargo/config.toml must set SQLX_OFFLINE = \"true\" under [env]"
    );
    let cached = std::fs::read_dir(root.join(".sqlx"))
        .expect(".sqlx/ (run ./dev sqlx-prepare)")
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().starts_with("query-")))
        .count();
    assert!(cached >= 100, "only {cached} cached queries in .sqlx/");
}
