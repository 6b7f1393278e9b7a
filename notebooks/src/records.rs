//! Reading a results CSV so that no bad line can cost a good row.
//!
//! A plain CSV reader follows quotes across lines: a row cut inside a quoted field (a crash
//! mid-write, then more rows appended) opens a quote that the next rows' text closes, and
//! those rows vanish into one long broken field. Here every physical line is first tried as
//! a whole record; a line joins the next ones only while one of its quoted fields is still
//! open, and when the joined text is not exactly one record of the header's width the first
//! line alone is reported and reading starts again on the line after it. Each valid row
//! keeps its line numbers; each unreadable line is reported by number.

use csv::StringRecord;

/// How many physical lines one record may span (a quoted field with newlines in it).
const MAX_SPAN: usize = 256;

/// A record and the 1-based lines it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LocatedRecord {
    /// First line of the record.
    pub first_line: u64,
    /// Last line of the record (the same unless a quoted field spans lines).
    pub last_line: u64,
    /// The fields.
    pub record: StringRecord,
}

/// A line that is not part of any readable record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line.
    pub line: u64,
    /// Why.
    pub message: String,
}

/// A file's header, its readable records and its unreadable lines.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Records {
    /// The header (line 1).
    pub headers: StringRecord,
    /// Every readable record, in file order.
    pub records: Vec<LocatedRecord>,
    /// Every unreadable line, in file order.
    pub bad: Vec<BadLine>,
}

/// Splits `bytes` into the header and records; `Err` only when the header itself cannot be
/// read.
pub fn read_records(bytes: &[u8]) -> Result<Records, String> {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if lines.last().is_some_and(|last| last.is_empty()) {
        lines.pop();
    }
    let lines: Vec<&[u8]> = lines
        .into_iter()
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .collect();
    let Some(header_line) = lines.first() else {
        return Err("the file is empty (no header)".into());
    };
    let headers = match parse_one(header_line, None) {
        Ok(headers) => headers,
        Err(why) => return Err(format!("cannot read the header: {why}")),
    };
    let width = headers.len();
    let mut records = Vec::new();
    let mut bad = Vec::new();
    let mut index = 1;
    while index < lines.len() {
        if lines[index].iter().all(u8::is_ascii_whitespace) {
            index += 1;
            continue;
        }
        let mut text = lines[index].to_vec();
        let mut end = index;
        while open_quote(&text) && end + 1 < lines.len() && end - index < MAX_SPAN {
            end += 1;
            text.push(b'\n');
            text.extend_from_slice(lines[end]);
        }
        let parsed = if open_quote(&text) {
            Err("a quoted field that never closes (a row cut mid-write?)".to_string())
        } else {
            parse_one(&text, Some(width))
        };
        match parsed {
            Ok(record) => {
                records.push(LocatedRecord {
                    first_line: index as u64 + 1,
                    last_line: end as u64 + 1,
                    record,
                });
                index = end + 1;
            }
            Err(message) => {
                bad.push(BadLine {
                    line: index as u64 + 1,
                    message,
                });
                index += 1;
            }
        }
    }
    Ok(Records {
        headers,
        records,
        bad,
    })
}

/// Whether `text` leaves a quoted field open: every CSV field's quotes come in pairs (an
/// escaped quote is two), so an odd count means the field goes on past the line.
fn open_quote(text: &[u8]) -> bool {
    text.iter().filter(|b| **b == b'"').count() % 2 == 1
}

/// Exactly one record (of `width` fields, when given) in `text`.
fn parse_one(text: &[u8], width: Option<usize>) -> Result<StringRecord, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut found = reader.byte_records();
    let record = match found.next() {
        Some(Ok(record)) => record,
        Some(Err(err)) => return Err(format!("not CSV: {err}")),
        None => return Err("no fields".into()),
    };
    if found.next().is_some() {
        return Err("more than one row on the line".into());
    }
    let record =
        StringRecord::from_byte_record(record).map_err(|err| format!("not UTF-8 text: {err}"))?;
    match width {
        Some(width) if record.len() != width => Err(format!(
            "{} field(s) where the header has {width}",
            record.len()
        )),
        _ => Ok(record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn lines_of(records: &Records) -> Vec<(u64, u64)> {
        records
            .records
            .iter()
            .map(|r| (r.first_line, r.last_line))
            .collect()
    }

    #[test]
    fn a_row_cut_inside_a_quote_loses_no_later_row() {
        let text = "a,b,c\n1,\"x\",2\n3,\"cut off\n4,\"y\",5\n6,\"z\",7\n";
        let records = read_records(text.as_bytes()).unwrap();
        assert_eq!(lines_of(&records), vec![(2, 2), (4, 4), (5, 5)]);
        assert_eq!(records.bad.len(), 1);
        assert_eq!(records.bad[0].line, 3);
        assert!(
            records.bad[0].message.contains("never closes"),
            "{:?}",
            records.bad
        );
    }

    #[test]
    fn a_legitimate_multi_line_field_stays_one_record() {
        let text = "a,b,c\n1,\"two\nlines\",2\n3,\"\"\"q\"\"\",4\n";
        let records = read_records(text.as_bytes()).unwrap();
        assert_eq!(lines_of(&records), vec![(2, 3), (4, 4)]);
        assert_eq!(&records.records[0].record[1], "two\nlines");
        assert_eq!(&records.records[1].record[1], "\"q\"");
        assert!(records.bad.is_empty());
    }

    #[test]
    fn short_rows_torn_text_and_stray_lines_are_named_by_line() {
        let mut bytes = b"a,b,c\n1,2\n1,2,3\n1,\"\xe2\x82\",3\n".to_vec();
        bytes.extend_from_slice(b"\n7,8,9\r\n");
        let records = read_records(&bytes).unwrap();
        assert_eq!(lines_of(&records), vec![(3, 3), (6, 6)]);
        let bad: Vec<u64> = records.bad.iter().map(|b| b.line).collect();
        assert_eq!(bad, vec![2, 4]);
        assert!(records.bad[1].message.contains("UTF-8"));
    }
}
