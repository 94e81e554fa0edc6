//! S3 objects in one bucket: put bytes with their content type and encoding, get them back,
//! read their metadata. Bytes are stored and returned as given: a gzip'd asset put with
//! `content_encoding("gzip")` comes back gzip'd (S3 and this client do not decode it).

use crate::error::{PlatformError, aws};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

/// How to store an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOptions {
    pub content_type: String,
    pub content_encoding: Option<String>,
    pub cache_control: Option<String>,
}

impl PutOptions {
    pub fn new(content_type: impl Into<String>) -> Self {
        PutOptions { content_type: content_type.into(), content_encoding: None, cache_control: None }
    }

    pub fn content_encoding(mut self, encoding: impl Into<String>) -> Self {
        self.content_encoding = Some(encoding.into());
        self
    }

    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }
}

/// What S3 reports about an object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectMeta {
    pub len: u64,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub cache_control: Option<String>,
    pub etag: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StoredObject {
    pub body: Bytes,
    pub meta: ObjectMeta,
}

/// An object's body being read: chunks as they arrive from S3 (nothing is buffered here).
#[derive(Debug)]
pub struct ObjectReader {
    body: ByteStream,
    target: String,
    /// `Content-Length` as S3 sent it.
    pub len: Option<u64>,
    pub etag: Option<String>,
}

impl ObjectReader {
    /// The next chunk of the body, or `None` at its end.
    pub async fn next_chunk(&mut self) -> crate::Result<Option<Bytes>> {
        self.body
            .try_next()
            .await
            .map_err(|e| PlatformError::invalid(self.target.clone(), format!("reading the body failed: {e}")))
    }
}

#[derive(Debug, Clone)]
pub struct ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl ObjectStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        ObjectStore { client, bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn target(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, key)
    }

    /// A whole response body in memory.
    async fn collect(&self, key: &str, body: ByteStream) -> crate::Result<Bytes> {
        let data = body
            .collect()
            .await
            .map_err(|e| PlatformError::invalid(self.target(key), format!("reading the body failed: {e}")))?;
        Ok(data.into_bytes())
    }

    /// Store `body` at `key`, replacing any object there; returns the ETag.
    pub async fn put(&self, key: &str, body: impl Into<Bytes>, options: &PutOptions) -> crate::Result<Option<String>> {
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(&options.content_type)
            .set_content_encoding(options.content_encoding.clone())
            .set_cache_control(options.cache_control.clone())
            .body(ByteStream::from(body.into()))
            .send()
            .await
            .map_err(|e| aws("PutObject", self.target(key), e))?;
        Ok(out.e_tag)
    }

    /// The object's bytes and metadata, or `None` when there is no such key.
    pub async fn get(&self, key: &str) -> crate::Result<Option<StoredObject>> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => return Ok(None),
            Err(e) => return Err(aws("GetObject", self.target(key), e)),
        };
        let meta = ObjectMeta {
            len: out.content_length.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
            content_type: out.content_type,
            content_encoding: out.content_encoding,
            cache_control: out.cache_control,
            etag: out.e_tag,
        };
        let body = self.collect(key, out.body).await?;
        Ok(Some(StoredObject { meta: ObjectMeta { len: body.len() as u64, ..meta }, body }))
    }

    /// The object's body as a stream of chunks, or `None` when there is no such key (a denied
    /// read is an error with its code, `AccessDenied`).
    pub async fn open(&self, key: &str) -> crate::Result<Option<ObjectReader>> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => return Ok(None),
            Err(e) => return Err(aws("GetObject", self.target(key), e)),
        };
        Ok(Some(ObjectReader {
            len: out.content_length.and_then(|n| u64::try_from(n).ok()),
            etag: out.e_tag,
            body: out.body,
            target: self.target(key),
        }))
    }

    /// Bytes `start..end` of the object (an S3 ranged GET); empty for an empty range.
    pub async fn get_range(&self, key: &str, start: u64, end: u64) -> crate::Result<Bytes> {
        if end <= start {
            return Ok(Bytes::new());
        }
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes={start}-{}", end - 1))
            .send()
            .await
            .map_err(|e| aws("GetObject", self.target(key), e))?;
        let body = self.collect(key, out.body).await?;
        if body.len() as u64 != end - start {
            return Err(PlatformError::invalid(
                self.target(key),
                format!("bytes {start}..{end}: {} bytes arrived", body.len()),
            ));
        }
        Ok(body)
    }

    /// The object's metadata, or `None` when there is no such key.
    pub async fn head(&self, key: &str) -> crate::Result<Option<ObjectMeta>> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(ObjectMeta {
                len: out.content_length.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                content_type: out.content_type,
                content_encoding: out.content_encoding,
                cache_control: out.cache_control,
                etag: out.e_tag,
            })),
            Err(e) if matches!(e.as_service_error(), Some(HeadObjectError::NotFound(_))) => Ok(None),
            Err(e) => Err(aws("HeadObject", self.target(key), e)),
        }
    }
}
