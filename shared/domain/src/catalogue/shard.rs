//! Splitting a CSV source into line-aligned byte ranges, so shards of one file can be
//! ingested by parallel workers (issue 15) and still give what one pass gives.
//!
//! The [`Splitter`] is fed the file's bytes in chunks (as they stream from S3 or a file) and
//! follows the CSV reader's quoting, so a cut never falls inside a quoted field, even one
//! spanning lines. A cut is made at the first record end (`\n` outside quotes) once a shard
//! holds `target` bytes. Each shard knows the 1-based line its first row is on (physical
//! lines, counted as the contracts count them), so rows keep their line in the whole file.
//! A shard is parsed as the file's header (bytes `0..header_end`) followed by its bytes.

/// One shard: bytes `start..end` of the file; its first row is on line `first_line`, the next
/// shard's on `next_line` (for the last shard, one past the file's last line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    pub index: u32,
    pub start: u64,
    pub end: u64,
    pub first_line: u32,
    pub next_line: u32,
}

impl ShardRange {
    /// The offset that turns a line of the parsed `header + shard` bytes into the file's line.
    pub fn line_offset(&self, header_lines: u32) -> u32 {
        self.first_line.saturating_sub(header_lines + 1)
    }
}

/// How a file is split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardPlan {
    /// Bytes `0..header_end` are the header record (with its line end, and any BOM).
    pub header_end: u64,
    /// Line ends inside the header (1 for a one-line header).
    pub header_lines: u32,
    pub ranges: Vec<ShardRange>,
    /// Every byte fed.
    pub total_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted field: the field's end, or the first half of `""`.
    QuoteInQuoted,
}

/// Finds the cuts of a file fed in chunks. See the module docs.
#[derive(Debug, Clone)]
pub struct Splitter {
    target: u64,
    state: State,
    pos: u64,
    newlines: u64,
    header: Option<(u64, u32)>,
    /// (start, first line) of every shard begun so far.
    starts: Vec<(u64, u32)>,
}

impl Splitter {
    /// `target`: the bytes a shard should hold before it is cut (at least 1).
    pub fn new(target: u64) -> Splitter {
        Splitter {
            target: target.max(1),
            state: State::FieldStart,
            pos: 0,
            newlines: 0,
            header: None,
            starts: Vec::new(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let mut i = 0;
        while i < chunk.len() {
            // Runs of bytes that change nothing are skipped whole: inside quotes, everything up
            // to the next quote (its line ends counted); unquoted, everything up to the next
            // separator, quote or line end.
            let skip = match self.state {
                State::Quoted => {
                    let n = memchr::memchr(b'"', &chunk[i..]).unwrap_or(chunk.len() - i);
                    self.newlines += memchr::memchr_iter(b'\n', &chunk[i..i + n]).count() as u64;
                    n
                }
                State::Unquoted => {
                    let rest = &chunk[i..];
                    let n = memchr::memchr3(b',', b'\n', b'\r', rest).unwrap_or(rest.len());
                    // A quote inside an unquoted field is literal: skipping it is what the reader does.
                    n
                }
                _ => 0,
            };
            self.pos += skip as u64;
            i += skip;
            if i < chunk.len() {
                self.step(chunk[i]);
                i += 1;
            }
        }
    }

    /// One byte through the reader's quoting states; a record end may cut a shard.
    fn step(&mut self, b: u8) {
        self.pos += 1;
        let record_end = match (self.state, b) {
            (State::Quoted, b'"') => {
                self.state = State::QuoteInQuoted;
                false
            }
            (State::Quoted, _) => false,
            (State::QuoteInQuoted, b'"') => {
                self.state = State::Quoted;
                false
            }
            (State::FieldStart, b'"') => {
                self.state = State::Quoted;
                false
            }
            (_, b',') => {
                self.state = State::FieldStart;
                false
            }
            (_, b'\n' | b'\r') => {
                self.state = State::FieldStart;
                b == b'\n'
            }
            _ => {
                self.state = State::Unquoted;
                false
            }
        };
        if b == b'\n' {
            self.newlines += 1;
        }
        if !record_end {
            return;
        }
        let line = u32::try_from(self.newlines + 1).unwrap_or(u32::MAX);
        match (self.header, self.starts.last()) {
            (None, _) => {
                self.header = Some((self.pos, u32::try_from(self.newlines).unwrap_or(u32::MAX)));
                self.starts.push((self.pos, line));
            }
            (Some(_), Some(&(start, _))) if self.pos - start >= self.target => self.starts.push((self.pos, line)),
            _ => {}
        }
    }

    /// The plan of the bytes fed; `None` when they hold no complete header record (the file is
    /// then read whole, as before).
    pub fn finish(self) -> Option<ShardPlan> {
        let (header_end, header_lines) = self.header?;
        let total = self.pos;
        let mut starts = self.starts;
        // A cut at the very end leaves an empty shard: drop it (one shard always stays).
        while starts.len() > 1 && starts.last().is_some_and(|&(s, _)| s >= total) {
            starts.pop();
        }
        let lines_after = u32::try_from(self.newlines + 2).unwrap_or(u32::MAX);
        let ranges = starts
            .iter()
            .enumerate()
            .map(|(i, &(start, first_line))| {
                let (end, next_line) = starts.get(i + 1).copied().unwrap_or((total, lines_after));
                ShardRange { index: i as u32, start, end, first_line, next_line }
            })
            .collect();
        Some(ShardPlan { header_end, header_lines, ranges, total_bytes: total })
    }
}

/// The plan of a file held in memory, for about `shards` shards of equal size.
pub fn plan(bytes: &[u8], shards: u32) -> Option<ShardPlan> {
    let target = (bytes.len() as u64).div_ceil(u64::from(shards.max(1)));
    let mut s = Splitter::new(target);
    s.feed(bytes);
    s.finish()
}

/// The bytes one shard is parsed from: the header, then the shard's lines.
pub fn shard_bytes(file: &[u8], plan: &ShardPlan, range: &ShardRange) -> Vec<u8> {
    let header = &file[..plan.header_end as usize];
    let body = &file[range.start as usize..range.end as usize];
    [header, body].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::simbad;
    use std::collections::HashMap;

    const HEADER: &str = "sys_id,sys_code,main_id,ids,otype_txt,otype_shortname,otype_longname,otypes,Average of ra,Average of dec,Average of dist\n";

    fn file() -> String {
        let mut s = String::from("\u{feff}") + HEADER;
        for i in 1..=60 {
            // Quoted lists with commas, a quoted field spanning a line, a blank line, CRLF, and
            // duplicates whose first occurrence lies far earlier.
            let ids = if i % 7 == 0 { format!("\"A {i}|B, {i}\nC {i}\"") } else { format!("\"A {i}|B {i}\"") };
            let id = if i % 11 == 0 { i - 10 } else { i };
            let end = if i % 5 == 0 { "\r\n" } else { "\n" };
            s += &format!("{id},,STAR {id},{ids},PM*,PM*,x,PM*,{}.5,{}.25,{}.5{end}", i * 3, i - 30, i % 20 + 1);
            if i % 13 == 0 {
                s += "\n";
            }
            if i == 17 {
                s += "bad,,,,,,,,,,\n";
            }
        }
        s
    }

    fn one_pass_by_shards(bytes: &[u8], shards: u32) -> simbad::SimbadBatch {
        let plan = plan(bytes, shards).unwrap();
        let mut seen = HashMap::new();
        let mut out = simbad::SimbadBatch { total_rows: 0, accepted: vec![], quarantined: vec![], duplicate_rows: 0 };
        for r in &plan.ranges {
            let part = shard_bytes(bytes, &plan, r);
            let (b, s) = simbad::parse_part(&part, r.line_offset(plan.header_lines), seen).unwrap();
            seen = s;
            assert!(b.accepted.iter().all(|a| a.line >= r.first_line && a.line < r.next_line), "{r:?}");
            out.total_rows += b.total_rows;
            out.accepted.extend(b.accepted);
            out.quarantined.extend(b.quarantined);
            out.duplicate_rows += b.duplicate_rows;
        }
        out
    }

    #[test]
    fn shards_parsed_in_turn_equal_one_pass() {
        let f = file();
        let whole = simbad::parse(f.as_bytes()).unwrap();
        assert!(whole.duplicate_rows > 0 && !whole.quarantined.is_empty());
        for n in [1, 2, 3, 4, 7, 16, 200] {
            let p = plan(f.as_bytes(), n).unwrap();
            assert!(p.ranges.len() as u32 <= n.max(1) + 1, "{n}: {}", p.ranges.len());
            if n > 1 {
                assert!(p.ranges.len() > 1, "{n}");
            }
            // Contiguous, covering, cut after a line end.
            assert_eq!(p.ranges[0].start, p.header_end);
            assert_eq!(p.ranges.last().unwrap().end, f.len() as u64);
            for w in p.ranges.windows(2) {
                assert_eq!(w[0].end, w[1].start);
                assert_eq!(f.as_bytes()[w[1].start as usize - 1], b'\n');
                assert_eq!(w[0].next_line, w[1].first_line);
                let lines_before = f.as_bytes()[..w[1].start as usize].iter().filter(|&&b| b == b'\n').count();
                assert_eq!(w[1].first_line as usize, lines_before + 1);
            }
            assert_eq!(one_pass_by_shards(f.as_bytes(), n), whole, "{n} shards");
        }
    }

    #[test]
    fn a_cut_never_falls_inside_quotes() {
        // One record whose quoted field holds many lines: no cut inside it, whatever the target.
        let mut f = String::from("a,b\n1,\"");
        for i in 0..100 {
            f += &format!("line {i} \"\" quoted\n");
        }
        f += "\"\n2,x\n3,\"y\"\"\"\n";
        let p = plan(f.as_bytes(), 50).unwrap();
        let inside = f.find("1,\"").unwrap() as u64..f.find("\"\n2,x").unwrap() as u64;
        for r in &p.ranges {
            assert!(!inside.contains(&r.start) || r.start == inside.start, "cut at {} inside quotes", r.start);
        }
        assert_eq!(p.ranges.len(), 2, "{p:?}");
        assert_eq!(&f[p.ranges[1].start as usize..], "2,x\n3,\"y\"\"\"\n");
        // Chunked feeding gives the same plan as feeding at once.
        let mut s = Splitter::new((f.len() as u64).div_ceil(50));
        for c in f.as_bytes().chunks(7) {
            s.feed(c);
        }
        assert_eq!(s.finish().unwrap().ranges, p.ranges);
    }

    #[test]
    fn the_plan_does_not_depend_on_how_the_bytes_arrive() {
        let f = file();
        let target = (f.len() as u64).div_ceil(5);
        let whole = {
            let mut s = Splitter::new(target);
            s.feed(f.as_bytes());
            s.finish().unwrap()
        };
        for size in [1, 2, 3, 7, 64, 1000] {
            let mut s = Splitter::new(target);
            for c in f.as_bytes().chunks(size) {
                s.feed(c);
            }
            assert_eq!(s.finish().unwrap(), whole, "chunks of {size}");
        }
    }

    #[test]
    fn files_without_a_header_line_have_no_plan() {
        assert_eq!(plan(b"", 4), None);
        assert_eq!(plan(b"a,b", 4), None);
        assert_eq!(plan(b"a,\"b\n", 4), None);
        let p = plan(b"a,b\n", 4).unwrap();
        assert_eq!(p.ranges, vec![ShardRange { index: 0, start: 4, end: 4, first_line: 2, next_line: 3 }]);
    }
}
