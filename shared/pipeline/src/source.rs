//! Where source bytes come from.

use crate::PhaseError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Family {
    Simbad,
    Exoplanets,
    /// Hipparcos 2 (`hip2.dat`, fixed width).
    Hipparcos,
    /// Star and constellation names (d3-celestial `starnames.json`, `constellations.json`).
    Names,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Simbad => "SIMBAD",
            Family::Exoplanets => "EXOPLANETS",
            Family::Hipparcos => "HIPPARCOS",
            Family::Names => "NAMES",
        }
    }

    /// The family a file belongs to by its name prefix (`SIMBAD*`, `EXOPLANETS*`,
    /// `HIPPARCOS*` or `hip2*`, `NAMES*`, `starnames*` or `constellations*`).
    pub fn from_file_name(name: &str) -> Option<Family> {
        let upper = name.to_ascii_uppercase();
        if upper.starts_with("SIMBAD") {
            Some(Family::Simbad)
        } else if upper.starts_with("EXOPLANETS") {
            Some(Family::Exoplanets)
        } else if upper.starts_with("HIPPARCOS") || upper.starts_with("HIP2") {
            Some(Family::Hipparcos)
        } else if upper.starts_with("NAMES") || upper.starts_with("STARNAMES") || upper.starts_with("CONSTELLATIONS") {
            Some(Family::Names)
        } else {
            None
        }
    }

    /// The file extensions a family's files have.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Family::Simbad | Family::Exoplanets => &[".csv", ".csv.gz"],
            Family::Hipparcos => &[".dat"],
            Family::Names => &[".json"],
        }
    }

    /// Whether `name` is a source file of some family (name and extension).
    pub fn source_file(name: &str) -> Option<Family> {
        let lower = name.to_ascii_lowercase();
        Family::from_file_name(name).filter(|f| f.extensions().iter().any(|e| lower.ends_with(e)))
    }
}

/// One source of a run: `{"family": "SIMBAD", "uri": "file:///…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSpec {
    pub family: Family,
    pub uri: String,
}

impl SourceSpec {
    pub fn file(family: Family, path: impl Into<PathBuf>) -> SourceSpec {
        let path: PathBuf = path.into();
        let uri = url::Url::from_file_path(std::path::absolute(&path).unwrap_or(path.clone()))
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("file://{}", path.display()));
        SourceSpec { family, uri }
    }

    /// The file name, used as the source name in the manifest and quarantine.
    pub fn source_name(&self) -> String {
        let path = self.uri.split(['?', '#']).next().unwrap_or(&self.uri);
        path.rsplit('/').next().unwrap_or(path).to_string()
    }
}

/// The sources of a run from a folder: the named files, else every `SIMBAD*.csv` and
/// `EXOPLANETS*.csv` in it (sorted; canonicalise uses the newest of each family, the others
/// are validated and reported).
pub fn sources_in(dir: &std::path::Path, names: Option<&[String]>) -> Result<Vec<SourceSpec>, String> {
    let names: Vec<String> = match names {
        Some(n) if !n.is_empty() => n.to_vec(),
        _ => {
            let mut v: Vec<String> = std::fs::read_dir(dir)
                .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| Family::source_file(n).is_some())
                .collect();
            v.sort();
            v
        }
    };
    if names.is_empty() {
        return Err(format!(
            "no SIMBAD*.csv, EXOPLANETS*.csv, HIPPARCOS*.dat or NAMES*.json source in {}",
            dir.display()
        ));
    }
    names
        .into_iter()
        .map(|n| {
            if n.contains('/') || n.contains('\\') || n == ".." {
                return Err(format!("{n:?}: a source is a file name inside the sources folder"));
            }
            let family = Family::from_file_name(&n)
                .ok_or_else(|| format!("{n}: file names must start with SIMBAD, EXOPLANETS, HIPPARCOS or NAMES"))?;
            Ok(SourceSpec::file(family, dir.join(n)))
        })
        .collect()
}

/// Gzip-compressed sources (a name ending in `.gz`) are decompressed after reading (any
/// scheme); the manifest's checksum is of the bytes as stored. At most 1 GiB decompressed.
pub fn decompress(spec: &SourceSpec, bytes: Vec<u8>) -> Result<Vec<u8>, PhaseError> {
    if !spec.source_name().to_ascii_lowercase().ends_with(".gz") {
        return Ok(bytes);
    }
    use std::io::Read;
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::GzDecoder::new(bytes.as_slice())
        .take(1 << 30)
        .read_to_end(&mut out)
        .map_err(|e| PhaseError::Rejected(format!("{}: not a valid gzip file: {e}", spec.source_name())))?;
    Ok(out)
}

/// The local path of a `file://` source, if it is one.
pub fn file_path(spec: &SourceSpec) -> Option<PathBuf> {
    url::Url::parse(&spec.uri).ok().filter(|u| u.scheme() == "file").and_then(|u| u.to_file_path().ok())
}

/// Reads a source's bytes. `file://` URIs and plain paths are supported here; `s3://` arrives
/// with the object-store adapter.
pub async fn read_source(spec: &SourceSpec) -> Result<Vec<u8>, PhaseError> {
    let path = if spec.uri.starts_with("file:") {
        url::Url::parse(&spec.uri)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .ok_or_else(|| PhaseError::Rejected(format!("not a valid file URI: {}", spec.uri)))?
    } else if spec.uri.contains("://") {
        return Err(PhaseError::Rejected(format!("unsupported source URI scheme: {}", spec.uri)));
    } else {
        PathBuf::from(&spec.uri)
    };
    tokio::fs::read(&path)
        .await
        .map_err(|e| PhaseError::Rejected(format!("cannot read source {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_and_name_from_uri() {
        assert_eq!(Family::from_file_name("SIMBAD_01.csv"), Some(Family::Simbad));
        assert_eq!(Family::from_file_name("exoplanets_01x.csv"), Some(Family::Exoplanets));
        assert_eq!(Family::from_file_name("notes.csv"), None);
        assert_eq!(Family::source_file("hip2.dat"), Some(Family::Hipparcos));
        assert_eq!(Family::source_file("HIPPARCOS_sample.dat"), Some(Family::Hipparcos));
        assert_eq!(Family::source_file("starnames.json"), Some(Family::Names));
        assert_eq!(Family::source_file("constellations.json"), Some(Family::Names));
        assert_eq!(Family::source_file("hip2.csv"), None);
        assert_eq!(Family::source_file("SIMBAD_01.csv"), Some(Family::Simbad));
        assert_eq!(Family::source_file("SIMBAD_03.csv.gz"), Some(Family::Simbad));
        let gz = SourceSpec::file(Family::Simbad, "/x/SIMBAD_03.csv.gz");
        assert!(decompress(&gz, b"not gzip".to_vec()).unwrap_err().to_string().contains("gzip"));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, b"sys_id,main_id").unwrap();
        assert_eq!(decompress(&gz, enc.finish().unwrap()).unwrap(), b"sys_id,main_id");
        let plain = SourceSpec::file(Family::Simbad, "/x/SIMBAD_03.csv");
        assert_eq!(decompress(&plain, b"plain".to_vec()).unwrap(), b"plain");
        let s = SourceSpec::file(Family::Simbad, "/data/src/SIMBAD_01.csv");
        assert_eq!(s.uri, "file:///data/src/SIMBAD_01.csv");
        assert_eq!(s.source_name(), "SIMBAD_01.csv");
    }

    #[tokio::test]
    async fn unreadable_sources_are_rejected_with_a_reason() {
        let missing = SourceSpec::file(Family::Simbad, "/nonexistent/SIMBAD_X.csv");
        let err = read_source(&missing).await.unwrap_err();
        assert!(err.to_string().contains("cannot read source"), "{err}");
        let s3 = SourceSpec { family: Family::Simbad, uri: "ftp://x/y.csv".into() };
        assert!(read_source(&s3).await.unwrap_err().to_string().contains("unsupported"));
    }
}
