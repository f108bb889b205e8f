//! A CSV file read record by record, with named columns and line numbers.

use crate::error::FormatError;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// An open CSV file whose header has been checked.
pub(crate) struct CsvTable {
    path: PathBuf,
    reader: csv::Reader<BufReader<File>>,
    headers: Vec<String>,
}

/// One record with its line number.
pub(crate) struct Row<'a> {
    table: &'a CsvTable,
    record: csv::StringRecord,
    line: u64,
}

impl CsvTable {
    /// Opens `path` and reads its header; duplicate column names are an error.
    pub(crate) fn open(path: &Path) -> Result<CsvTable, FormatError> {
        let file = File::open(path).map_err(|e| FormatError::io(path, e))?;
        if file.metadata().map(|m| m.len() == 0).unwrap_or(false) {
            return Err(FormatError::Empty { path: path.into() });
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(BufReader::new(file));
        let headers = reader
            .headers()
            .map_err(|e| csv_error(path, &e))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect::<Vec<_>>();
        if headers.iter().all(|h| h.is_empty()) {
            return Err(FormatError::Empty { path: path.into() });
        }
        for (i, h) in headers.iter().enumerate() {
            if headers[..i].contains(h) {
                return Err(FormatError::DuplicateColumn {
                    path: path.into(),
                    column: h.clone(),
                });
            }
        }
        Ok(CsvTable {
            path: path.into(),
            reader,
            headers,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Index of a required column.
    pub(crate) fn column(&self, name: &'static str) -> Result<usize, FormatError> {
        self.optional_column(name)
            .ok_or_else(|| FormatError::MissingColumn {
                path: self.path.clone(),
                column: name,
            })
    }

    /// Index of a column that may be absent.
    pub(crate) fn optional_column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Reads the next record; `None` at the end of the file.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row<'_>>, FormatError> {
        let mut record = csv::StringRecord::new();
        match self.reader.read_record(&mut record) {
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                Ok(Some(Row {
                    table: self,
                    record,
                    line,
                }))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(csv_error(&self.path, &e)),
        }
    }
}

fn csv_error(path: &Path, e: &csv::Error) -> FormatError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "record has {len} fields but the header has {expected_len} (truncated or malformed line)"
        ),
        csv::ErrorKind::Io(io) => {
            return FormatError::io(path, std::io::Error::new(io.kind(), io.to_string()));
        }
        _ => e.to_string(),
    };
    FormatError::Malformed {
        path: path.into(),
        line,
        message,
    }
}

impl Row<'_> {
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// The raw text of a column.
    pub(crate) fn text(&self, column: usize) -> &str {
        self.record.get(column).unwrap_or("")
    }

    fn field_name(&self, column: usize) -> String {
        self.table.headers[column].clone()
    }

    pub(crate) fn error(&self, column: usize, message: impl Into<String>) -> FormatError {
        FormatError::invalid(
            self.table.path(),
            self.line,
            self.field_name(column),
            message,
        )
    }

    /// Parses a column as an integer.
    pub(crate) fn int<T: std::str::FromStr>(&self, column: usize) -> Result<T, FormatError> {
        let text = self.text(column).trim();
        if text.is_empty() {
            return Err(self.error(column, "value is missing"));
        }
        text.parse()
            .map_err(|_| self.error(column, format!("`{text}` is not a valid integer here")))
    }

    /// Parses an optional integer column (empty means `None`).
    pub(crate) fn optional_int<T: std::str::FromStr>(
        &self,
        column: Option<usize>,
    ) -> Result<Option<T>, FormatError> {
        match column {
            Some(c) if !self.text(c).trim().is_empty() => self.int(c).map(Some),
            _ => Ok(None),
        }
    }
}
