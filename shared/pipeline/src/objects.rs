//! Where published files go: the SPA bucket in AWS (S3, behind CloudFront), a folder locally
//! (served by the local gateway under `/data/`).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

pub type PutFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Stores one object under a key like `data/world/7.exmp`.
pub trait ObjectSink: Send + Sync {
    fn put<'a>(&'a self, key: &'a str, bytes: Vec<u8>, content_type: &'a str) -> PutFuture<'a>;
}

/// A folder standing in for the bucket: key `a/b.c` → `<root>/a/b.c`, written atomically
/// (temporary file, then rename) so a reader never sees half a file.
#[derive(Debug, Clone)]
pub struct DirSink {
    root: PathBuf,
}

impl DirSink {
    pub fn new(root: impl Into<PathBuf>) -> DirSink {
        DirSink { root: root.into() }
    }

    pub fn root(&self) -> &std::path::Path {
        &self.root
    }
}

impl ObjectSink for DirSink {
    fn put<'a>(&'a self, key: &'a str, bytes: Vec<u8>, _content_type: &'a str) -> PutFuture<'a> {
        Box::pin(async move {
            if key.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
                return Err(format!("invalid object key {key:?}"));
            }
            let path = self.root.join(key);
            let dir = path.parent().ok_or("object key without a folder")?;
            tokio::fs::create_dir_all(dir).await.map_err(|e| format!("{}: {e}", dir.display()))?;
            let tmp = path.with_extension("tmp-upload");
            tokio::fs::write(&tmp, &bytes).await.map_err(|e| format!("{}: {e}", tmp.display()))?;
            tokio::fs::rename(&tmp, &path).await.map_err(|e| format!("{}: {e}", path.display()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_under_the_root_and_refuses_escapes() {
        let root = std::env::temp_dir().join(format!("exomaps-sink-{}", std::process::id()));
        let sink = DirSink::new(&root);
        sink.put("data/world/1.exmp", b"EXMP".to_vec(), "application/octet-stream").await.unwrap();
        assert_eq!(std::fs::read(root.join("data/world/1.exmp")).unwrap(), b"EXMP");
        for bad in ["../x", "data/../../x", "/abs", "a//b"] {
            assert!(sink.put(bad, vec![], "x").await.is_err(), "{bad}");
        }
        std::fs::remove_dir_all(root).unwrap();
    }
}
