//! Where source bytes come from.

use crate::PhaseError;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// A source family and one source of a run (pure; in `exomaps-wire`, with the messages).
pub use exomaps_wire::pipeline::{Family, SourceSpec};

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

/// A source's bytes, read once, with the SHA-256 computed while they arrived.
#[derive(Debug, Clone)]
pub struct SourceBytes {
    pub bytes: Vec<u8>,
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
}

impl SourceBytes {
    fn of(bytes: Vec<u8>) -> SourceBytes {
        let sha256 = exomaps_domain::hex::sha256_hex(&bytes);
        SourceBytes { bytes, sha256 }
    }
}

/// `s3://bucket/key` as (bucket, key), if the URI is one (key as written, not decoded).
pub fn s3_location(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// Reads a source's bytes: `file://` URIs and plain paths from the file system, `s3://bucket/key`
/// from S3 through `exomaps-platform` (streamed: each chunk is hashed as it arrives and appended
/// to the one buffer the CSV contracts parse, so the object is held once, never twice). A missing
/// file or object, a denied read or an unknown scheme rejects the source with the reason.
pub async fn read_source(spec: &SourceSpec) -> Result<SourceBytes, PhaseError> {
    if spec.uri.starts_with("s3:") {
        let (bucket, key) = s3_location(&spec.uri)
            .ok_or_else(|| PhaseError::Rejected(format!("not a valid s3:// URI (s3://bucket/key): {}", spec.uri)))?;
        let store = exomaps_platform::ObjectStore::new(s3_client().await.clone(), bucket);
        // Boxed: the SDK's future is deep, and every phase function's future embeds this one.
        return Box::pin(read_object(&store, key)).await;
    }
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
        .map(SourceBytes::of)
        .map_err(|e| PhaseError::Rejected(format!("cannot read source {}: {e}", path.display())))
}

/// Where a source is: a local path, or an S3 bucket and key.
enum Location {
    File(PathBuf),
    S3(exomaps_platform::ObjectStore, String),
}

async fn locate(spec: &SourceSpec) -> Result<Location, PhaseError> {
    if spec.uri.starts_with("s3:") {
        let (bucket, key) = s3_location(&spec.uri)
            .ok_or_else(|| PhaseError::Rejected(format!("not a valid s3:// URI (s3://bucket/key): {}", spec.uri)))?;
        let store = exomaps_platform::ObjectStore::new(s3_client().await.clone(), bucket);
        return Ok(Location::S3(store, key.to_string()));
    }
    if spec.uri.starts_with("file:") {
        return url::Url::parse(&spec.uri)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .map(Location::File)
            .ok_or_else(|| PhaseError::Rejected(format!("not a valid file URI: {}", spec.uri)));
    }
    if spec.uri.contains("://") {
        return Err(PhaseError::Rejected(format!("unsupported source URI scheme: {}", spec.uri)));
    }
    Ok(Location::File(PathBuf::from(&spec.uri)))
}

/// A source's size in bytes (file metadata, or S3 HeadObject).
pub async fn source_len(spec: &SourceSpec) -> Result<u64, PhaseError> {
    let cannot = |e: String| PhaseError::Rejected(format!("cannot read source {}: {e}", spec.uri));
    match locate(spec).await? {
        Location::File(path) => tokio::fs::metadata(&path).await.map(|m| m.len()).map_err(|e| cannot(e.to_string())),
        Location::S3(store, key) => match store.head(&key).await.map_err(|e| cannot(e.to_string()))? {
            Some(meta) => Ok(meta.len),
            None => Err(cannot("no such object".into())),
        },
    }
}

/// Streams a source through `each` chunk by chunk (1 MiB reads from a file, S3's chunks),
/// without holding it: how a source too big for one worker is planned.
pub async fn stream_source(spec: &SourceSpec, mut each: impl FnMut(&[u8])) -> Result<(), PhaseError> {
    let cannot = |e: String| PhaseError::Rejected(format!("cannot read source {}: {e}", spec.uri));
    match locate(spec).await? {
        Location::File(path) => {
            use tokio::io::AsyncReadExt;
            let mut f = tokio::fs::File::open(&path).await.map_err(|e| cannot(e.to_string()))?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).await.map_err(|e| cannot(e.to_string()))?;
                if n == 0 {
                    return Ok(());
                }
                each(&buf[..n]);
            }
        }
        Location::S3(store, key) => {
            let Some(mut reader) = store.open(&key).await.map_err(|e| cannot(e.to_string()))? else {
                return Err(cannot("no such object".into()));
            };
            while let Some(chunk) = reader.next_chunk().await.map_err(|e| cannot(e.to_string()))? {
                each(&chunk);
            }
            Ok(())
        }
    }
}

/// Bytes `start..end` of a source: a file read at an offset, or an S3 ranged GET.
pub async fn read_range(spec: &SourceSpec, start: u64, end: u64) -> Result<Vec<u8>, PhaseError> {
    let cannot = |e: String| PhaseError::Rejected(format!("cannot read bytes {start}..{end} of {}: {e}", spec.uri));
    if end <= start {
        return Ok(Vec::new());
    }
    match locate(spec).await? {
        Location::File(path) => {
            let len = usize::try_from(end - start).map_err(|e| cannot(e.to_string()))?;
            let read = tokio::task::spawn_blocking(move || {
                use std::io::{Read, Seek};
                let mut f = std::fs::File::open(&path)?;
                f.seek(std::io::SeekFrom::Start(start))?;
                let mut buf = vec![0u8; len];
                f.read_exact(&mut buf)?;
                Ok::<_, std::io::Error>(buf)
            })
            .await
            .map_err(|e| cannot(e.to_string()))?;
            read.map_err(|e| cannot(e.to_string()))
        }
        Location::S3(store, key) => {
            store.get_range(&key, start, end).await.map(|b| b.to_vec()).map_err(|e| cannot(e.to_string()))
        }
    }
}

/// Streams one object of `store` into memory, hashing as it goes.
pub async fn read_object(store: &exomaps_platform::ObjectStore, key: &str) -> Result<SourceBytes, PhaseError> {
    let uri = format!("s3://{}/{key}", store.bucket());
    let cannot = |e: exomaps_platform::PlatformError| PhaseError::Rejected(format!("cannot read source {uri}: {e}"));
    let Some(mut reader) = store.open(key).await.map_err(cannot)? else {
        return Err(PhaseError::Rejected(format!("cannot read source {uri}: no such object")));
    };
    let mut bytes = Vec::with_capacity(reader.len.and_then(|n| usize::try_from(n).ok()).unwrap_or(0));
    let mut hasher = Sha256::new();
    while let Some(chunk) = reader.next_chunk().await.map_err(cannot)? {
        hasher.update(&chunk);
        bytes.extend_from_slice(&chunk);
    }
    if let Some(len) = reader.len
        && len != bytes.len() as u64
    {
        return Err(PhaseError::Rejected(format!("cannot read source {uri}: {} of {len} bytes arrived", bytes.len())));
    }
    Ok(SourceBytes { bytes, sha256: exomaps_domain::hex::hex(&hasher.finalize()) })
}

/// The process's S3 client, built once from the shared SDK configuration.
async fn s3_client() -> &'static aws_sdk_s3::Client {
    static CLIENT: tokio::sync::OnceCell<aws_sdk_s3::Client> = tokio::sync::OnceCell::const_new();
    CLIENT.get_or_init(|| async { exomaps_platform::aws::s3_client(exomaps_platform::aws::config().await) }).await
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
        let ftp = SourceSpec { family: Family::Simbad, uri: "ftp://x/y.csv".into() };
        assert!(read_source(&ftp).await.unwrap_err().to_string().contains("unsupported"));
        for bad in ["s3://", "s3://bucket", "s3://bucket/", "s3:///key"] {
            let spec = SourceSpec { family: Family::Simbad, uri: bad.into() };
            assert!(read_source(&spec).await.unwrap_err().to_string().contains("not a valid s3:// URI"), "{bad}");
        }
    }

    #[test]
    fn a_source_is_an_object_or_a_bare_uri_named_by_family() {
        let v: Vec<SourceSpec> =
            serde_json::from_str(r#"["s3://b/x/EXOPLANETS_01x.csv", {"family": "SIMBAD", "uri": "s3://b/any.csv"}]"#)
                .unwrap();
        assert_eq!(v[0], SourceSpec { family: Family::Exoplanets, uri: "s3://b/x/EXOPLANETS_01x.csv".into() });
        assert_eq!(v[1], SourceSpec { family: Family::Simbad, uri: "s3://b/any.csv".into() });
        assert_eq!(
            serde_json::to_value(&v[0]).unwrap(),
            serde_json::json!({"family": "EXOPLANETS", "uri": "s3://b/x/EXOPLANETS_01x.csv"})
        );
        let err = serde_json::from_str::<SourceSpec>(r#""s3://b/notes.csv""#).unwrap_err().to_string();
        assert!(err.contains("must start with SIMBAD or EXOPLANETS"), "{err}");
        assert!(serde_json::from_str::<SourceSpec>(r#"{"family": "NOPE", "uri": "s3://b/k"}"#).is_err());
    }

    #[test]
    fn s3_locations() {
        assert_eq!(s3_location("s3://b/dir/SIMBAD_01.csv"), Some(("b", "dir/SIMBAD_01.csv")));
        assert_eq!(s3_location("s3://b/"), None);
        assert_eq!(s3_location("file:///b/k"), None);
        let s = SourceSpec { family: Family::Simbad, uri: "s3://b/dir/SIMBAD_01.csv".into() };
        assert_eq!(s.source_name(), "SIMBAD_01.csv");
    }
}
