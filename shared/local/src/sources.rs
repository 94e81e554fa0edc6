//! Which source files a local run ingests.
//!
//! The folder: `$EXOMAPS_SOURCES`, else `../shared/data/sources` (from the working directory or
//! from the repository), else the small sample the repository carries (`sample/sources`).
//! The files: `$EXOMAPS_SOURCE_FILES` (comma-separated names), else `SIMBAD_01.csv` when the
//! folder has it, else every `SIMBAD*.csv` in it.

use exomaps_pipeline::{Family, SourceSpec};
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
    let names: Vec<String> = match std::env::var("EXOMAPS_SOURCE_FILES") {
        Ok(list) if !list.trim().is_empty() => list.split(',').map(|s| s.trim().to_string()).collect(),
        _ if dir.join("SIMBAD_01.csv").is_file() => vec!["SIMBAD_01.csv".into()],
        _ => {
            let mut v: Vec<String> = std::fs::read_dir(dir)
                .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.to_ascii_uppercase().starts_with("SIMBAD") && n.to_ascii_lowercase().ends_with(".csv"))
                .collect();
            v.sort();
            v
        }
    };
    if names.is_empty() {
        return Err(format!("no SIMBAD*.csv source in {}", dir.display()));
    }
    names
        .into_iter()
        .map(|n| {
            let family = Family::from_file_name(&n)
                .ok_or_else(|| format!("{n}: file names must start with SIMBAD or EXOPLANETS"))?;
            Ok(SourceSpec::file(family, dir.join(n)))
        })
        .collect()
}
