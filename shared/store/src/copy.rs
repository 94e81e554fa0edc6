//! A writer for PostgreSQL's COPY text format (one round trip for a whole batch).

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
