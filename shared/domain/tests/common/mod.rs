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
