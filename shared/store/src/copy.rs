//! Writers for PostgreSQL's COPY formats (one round trip for a whole batch): text, and binary
//! for the big staging tables (no number, array or uuid parsing on the server).

use std::fmt::Write;

#[derive(Default)]
pub(crate) struct CopyBuf {
    buf: String,
    first: bool,
}

impl CopyBuf {
    pub fn new() -> CopyBuf {
        CopyBuf { buf: String::with_capacity(1 << 16), first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push('\t');
        }
        self.first = false;
    }

    fn escaped(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
    }

    pub fn text(&mut self, v: &str) -> &mut Self {
        self.sep();
        self.escaped(v);
        self
    }

    pub fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.push_str("\\N");
        self
    }

    pub fn display(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    /// A finite float, or NULL (PostgreSQL would accept NaN; ExoMaps never stores one).
    pub fn f64(&mut self, v: Option<f64>) -> &mut Self {
        match v.filter(|v| v.is_finite()) {
            Some(v) => self.display(v),
            None => self.null(),
        }
    }

    /// A `text[]` literal: `{"a","b"}` with `"` and `\` escaped inside elements.
    pub fn text_array(&mut self, items: &[String]) -> &mut Self {
        let mut lit = String::from("{");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                lit.push(',');
            }
            lit.push('"');
            for c in item.chars() {
                if c == '"' || c == '\\' {
                    lit.push('\\');
                }
                lit.push(c);
            }
            lit.push('"');
        }
        lit.push('}');
        self.text(&lit)
    }

    pub fn end_row(&mut self) {
        self.buf.push('\n');
        self.first = true;
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_bytes()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf.into_bytes()
    }
}

/// PostgreSQL's binary COPY format (`COPY … FROM STDIN WITH (FORMAT binary)`): a header, then per
/// row a field count and each field as a length and its `*_send` bytes (big-endian numbers,
/// UTF-8 text, 16-byte uuid, one-dimensional arrays with their element type), NULL as length
/// -1, and a trailer. Each row states its field count: [`BinCopy::row`] takes it and
/// [`BinCopy::finish`] checks every row wrote that many.
pub(crate) struct BinCopy {
    buf: Vec<u8>,
    /// Fields still to write in the current row.
    left: i16,
}

/// `text`'s type oid: the element type of a `text[]`.
const TEXT_OID: i32 = 25;

impl BinCopy {
    pub fn new() -> BinCopy {
        let mut buf = Vec::with_capacity(1 << 16);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        BinCopy { buf, left: 0 }
    }

    /// Starts a row of `fields` fields.
    pub fn row(&mut self, fields: i16) -> &mut Self {
        assert_eq!(self.left, 0, "the previous row has fields left to write");
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self.left = fields;
        self
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.left -= 1;
        let len = i32::try_from(bytes.len()).expect("a COPY field is under 2 GB");
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.left -= 1;
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    pub fn uuid(&mut self, v: &uuid::Uuid) -> &mut Self {
        self.field(v.as_bytes())
    }

    pub fn text(&mut self, v: &str) -> &mut Self {
        self.field(v.as_bytes())
    }

    pub fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    /// A finite float, or NULL (as [`CopyBuf::f64`]).
    pub fn f64(&mut self, v: Option<f64>) -> &mut Self {
        match v.filter(|v| v.is_finite()) {
            Some(v) => self.field(&v.to_be_bytes()),
            None => self.null(),
        }
    }

    /// A `jsonb` value from its JSON text (format version 1, then the text).
    pub fn jsonb(&mut self, json: &str) -> &mut Self {
        self.left -= 1;
        let len = i32::try_from(json.len() + 1).expect("a COPY field is under 2 GB");
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.push(1);
        self.buf.extend_from_slice(json.as_bytes());
        self
    }

    /// A one-dimensional `text[]` without NULLs (an empty slice is the empty array).
    pub fn text_array(&mut self, items: &[String]) -> &mut Self {
        self.left -= 1;
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // the length, set below
        let dims: i32 = if items.is_empty() { 0 } else { 1 };
        self.buf.extend_from_slice(&dims.to_be_bytes());
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // no NULL elements
        self.buf.extend_from_slice(&TEXT_OID.to_be_bytes());
        if !items.is_empty() {
            let n = i32::try_from(items.len()).expect("an array under 2^31 elements");
            self.buf.extend_from_slice(&n.to_be_bytes());
            self.buf.extend_from_slice(&1i32.to_be_bytes()); // lower bound
            for item in items {
                let l = i32::try_from(item.len()).expect("an element under 2 GB");
                self.buf.extend_from_slice(&l.to_be_bytes());
                self.buf.extend_from_slice(item.as_bytes());
            }
        }
        let len = i32::try_from(self.buf.len() - len_at - 4).expect("a COPY field is under 2 GB");
        self.buf[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
        self
    }

    /// The stream, with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        assert_eq!(self.left, 0, "the last row has fields left to write");
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }
}

/// Bytes per `CopyData` message. sqlx writes each `send` whole into the connection's write
/// buffer, which keeps its capacity for the connection's life: a staging table sent in one piece
/// (tens of MB for Hipparcos) would leave every pooled connection that ever carried one that
/// large. In pieces, the buffer stays at this size.
pub const COPY_CHUNK_BYTES: usize = 256 << 10;

/// Sends `data` to a `COPY … FROM STDIN` in [`COPY_CHUNK_BYTES`] pieces.
pub async fn send_chunked<C>(copy: &mut sqlx::postgres::PgCopyIn<C>, data: &[u8]) -> sqlx::Result<()>
where
    C: std::ops::DerefMut<Target = sqlx::PgConnection>,
{
    for chunk in data.chunks(COPY_CHUNK_BYTES) {
        copy.send(chunk).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_nulls_and_arrays() {
        let mut c = CopyBuf::new();
        c.text("a\tb\\c\nd").null().f64(Some(1.5)).f64(Some(f64::NAN));
        c.text_array(&["x\"y".into(), "p,q".into(), "back\\slash".into()]);
        c.end_row();
        let s = String::from_utf8(c.as_bytes().to_vec()).unwrap();
        assert_eq!(s, "a\\tb\\\\c\\nd\t\\N\t1.5\t\\N\t{\"x\\\\\"y\",\"p,q\",\"back\\\\\\\\slash\"}\n");
    }
}
