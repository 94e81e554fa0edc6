//! Which source files a local run ingests.
//!
//! The folder: `$EXOMAPS_SOURCES`, else `../shared/data/sources` (from the working directory or
//! from the repository), else the small sample the repository carries (`sample/sources`).
//! The files: `$EXOMAPS_SOURCE_FILES` (comma-separated names), else every `SIMBAD*.csv` and
//! `EXOPLANETS*.csv` in it.

use exomaps_pipeline::SourceSpec;
use std::path::{Path, PathBuf};

/// The repository root (this crate lives at `shared/local`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn sources_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EXOMAPS_SOURCES").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let candidates = [PathBuf::from("../shared/data/sources"), repo_root().join("../shared/data/sources")];
    for c in candidates {
        if c.is_dir() {
            return std::path::absolute(&c).unwrap_or(c);
        }
    }
    std::path::absolute(repo_root().join("sample/sources")).unwrap_or_else(|_| repo_root().join("sample/sources"))
}

pub fn source_specs(dir: &Path) -> Result<Vec<SourceSpec>, String> {
    let names: Option<Vec<String>> = std::env::var("EXOMAPS_SOURCE_FILES")
        .ok()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|s| s.trim().to_string()).collect());
    exomaps_pipeline::sources_in(dir, names.as_deref())
}
