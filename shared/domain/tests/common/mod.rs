//! Locating the real source files (shared by the real-file test binaries).
//!
//! The files live outside the repository: `$EXOMAPS_SOURCES`, or by default
//! `<CARGO_MANIFEST_DIR>/../../../shared/data/sources`. When the directory is missing the tests
//! print a skip message and pass — unless `CI=true`, where a missing directory is a failure.

use std::path::{Path, PathBuf};

pub fn sources_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EXOMAPS_SOURCES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sources"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("source directory {} is missing (CI=true)", dir.display());
    }
    eprintln!("skipping: source directory {} not found (set EXOMAPS_SOURCES)", dir.display());
    None
}

/// The bytes of one source file, or `None` when the sources are unavailable.
pub fn read(name: &str) -> Option<Vec<u8>> {
    let path = sources_dir()?.join(name);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}

/// The fetched catalogue packages (`data/fetch-catalogues`): `$EXOMAPS_CATALOGUES`, else
/// `<repo>/.exomaps/catalogues`. Missing: a skip message, or a failure under `CI=true`.
#[allow(dead_code)]
pub fn catalogues_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EXOMAPS_CATALOGUES").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.exomaps/catalogues"),
    };
    if dir.join("hip2.dat").is_file() && dir.join("starnames.json").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("catalogues {} are missing (CI=true): run data/fetch-catalogues", dir.display());
    }
    eprintln!("skipping: catalogues not found in {} (run data/fetch-catalogues)", dir.display());
    None
}

/// The bytes of one fetched catalogue file, or `None` when they are unavailable.
#[allow(dead_code)]
pub fn read_catalogue(name: &str) -> Option<Vec<u8>> {
    let path = catalogues_dir()?.join(name);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}
