//! Which source files a local run ingests.
//!
//! The folder: `$EXOMAPS_SOURCES`, else `../shared/data/sources` (from the working directory or
//! from the repository), else the newest real files gzipped in the repository (`data/sources`),
//! else the small sample the repository carries (`sample/sources`).
//! The files: `$EXOMAPS_SOURCE_FILES` (comma-separated names), else every `SIMBAD*.csv`,
//! `EXOPLANETS*.csv`, `HIPPARCOS*.dat` and `NAMES*.json` in it, plus the fetched Hipparcos 2 and
//! star-name catalogues ([`catalogues_dir`]) for the families the folder has no file of.

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
    let candidates = [
        PathBuf::from("../shared/data/sources"),
        repo_root().join("../shared/data/sources"),
        // The newest SIMBAD and EXOPLANETS files, gzipped in the repository (data/README.md).
        repo_root().join("data/sources"),
    ];
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
    let mut specs = exomaps_pipeline::sources_in(dir, names.as_deref())?;
    // The fetched catalogues (data/fetch-catalogues), unless the sources name their own files
    // of those families or EXOMAPS_SOURCE_FILES picks the files.
    if names.is_none() {
        let have = |f: Family| specs.iter().any(|s| s.family == f);
        let (hip, names_family) = (have(Family::Hipparcos), have(Family::Names));
        if let Some(cat) = catalogues_dir() {
            if !hip {
                specs.push(SourceSpec::file(Family::Hipparcos, cat.join("hip2.dat")));
            }
            if !names_family {
                specs.push(SourceSpec::file(Family::Names, cat.join("starnames.json")));
                specs.push(SourceSpec::file(Family::Names, cat.join("constellations.json")));
            }
        }
    }
    Ok(specs)
}

/// The fetched catalogue packages: `$EXOMAPS_CATALOGUES`, else `<repo>/.exomaps/catalogues`,
/// when `hip2.dat`, `starnames.json` and `constellations.json` are there.
pub fn catalogues_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EXOMAPS_CATALOGUES")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".exomaps/catalogues"));
    ["hip2.dat", "starnames.json", "constellations.json"].iter().all(|f| dir.join(f).is_file()).then_some(dir)
}

/// Uploads local sources (`file://` specs, as [`source_specs`] gives them) to `store` under
/// `prefix` (`""` or ending in `/`), streaming nothing twice: each file is read once and put as
/// `text/csv`. Returns the same sources as `s3://` specs, in order — a kick message's `sources`.
pub async fn push(
    store: &exomaps_platform::ObjectStore,
    specs: &[SourceSpec],
    prefix: &str,
) -> Result<Vec<SourceSpec>, String> {
    let mut pushed = Vec::with_capacity(specs.len());
    for spec in specs {
        let path = exomaps_pipeline::file_path(spec).ok_or_else(|| format!("{}: not a local file", spec.uri))?;
        let bytes = tokio::fs::read(&path).await.map_err(|e| format!("{}: {e}", path.display()))?;
        let key = format!("{prefix}{}", spec.source_name());
        store
            .put(&key, bytes, &exomaps_platform::PutOptions::new("text/csv"))
            .await
            .map_err(|e| format!("uploading {}: {e}", path.display()))?;
        pushed.push(SourceSpec { family: spec.family, uri: format!("s3://{}/{key}", store.bucket()) });
    }
    Ok(pushed)
}
