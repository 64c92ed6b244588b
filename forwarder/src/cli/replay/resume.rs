//! `replay s3:// --resume FILE`: what a replay of a bucket has done, kept in a file so that the
//! next run with the same file skips it. One JSON object a line, appended as the replay goes:
//!
//! ```text
//! {"bucket":"logs","key":"AWSLogs/a.log.gz","etag":"9b2c…","done":true}
//! {"bucket":"logs","key":"AWSLogs/b.log.gz","etag":"77af…","after":41000}
//! ```
//!
//! `done`: every record of the object with that ETag was delivered (or written). `after`: the
//! replay stopped (Ctrl-C) with every record up to that number delivered and none after it sent;
//! with `offset` and `format` when the next record's first byte in the object is known (as in a
//! continuation's message), so that reading starts there.
//! A later line for the same object replaces an earlier one. Each line is written whole in one
//! write; a last line without its newline (the process killed as it wrote) is cut off when the
//! file is opened again.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::source::s3::Format;
use crate::source::s3::continuation::{Resume, Seek};
use crate::source::s3::read::Listed;

/// What a replay of a bucket took from its resume file, in its summary line (each left out
/// while zero).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResumeCounts {
    /// Objects the file lists as done, with the ETag listed: not read again.
    #[serde(skip_serializing_if = "is_zero")]
    pub objects_done_before: u64,
    /// Their size, by the listing.
    #[serde(skip_serializing_if = "is_zero")]
    pub bytes_done_before: u64,
    /// Objects read from where a stopped run left them.
    #[serde(skip_serializing_if = "is_zero")]
    pub objects_resumed: u64,
    /// Objects in the file with another ETag (replaced since): read whole again.
    #[serde(skip_serializing_if = "is_zero")]
    pub objects_replaced: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Line {
    bucket: String,
    key: String,
    etag: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<String>,
}

/// Why the resume file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path} line {line} is not a line of a resume file: {error}")]
    Malformed {
        path: PathBuf,
        line: usize,
        error: serde_json::Error,
    },
}

/// What to do with a listed object, given the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Read it whole: not in the file.
    Read,
    /// Done before with the same ETag: skip it.
    Skip,
    /// Stopped part way before: read it after that record.
    Resume(Resume),
    /// In the file with another ETag: the object was replaced since, read it whole.
    Replaced { was: String },
}

/// By bucket and key: the last line of each object.
type Known = HashMap<(String, String), Line>;

/// The file, as read at the start, open for appending.
#[derive(Debug)]
pub struct ResumeFile {
    path: PathBuf,
    file: File,
    known: Known,
}

impl ResumeFile {
    /// Reads `path` (created when missing) and opens it for appending.
    pub fn open(path: &Path) -> Result<ResumeFile, ResumeError> {
        let io = |error| ResumeError::Io {
            path: path.to_path_buf(),
            error,
        };
        let mut file = File::options()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let (known, whole) = read_lines(BufReader::new(&mut file), path)?;
        if file.metadata().map_err(io)?.len() > whole {
            file.set_len(whole).map_err(io)?;
        }
        Ok(ResumeFile {
            path: path.to_path_buf(),
            file,
            known,
        })
    }

    /// What to do with `listed`, of `bucket`. An ETag the listing does not give is taken as
    /// the same.
    pub fn plan(&self, bucket: &str, listed: &Listed) -> Plan {
        let Some(line) = self.known.get(&(bucket.to_string(), listed.key.clone())) else {
            return Plan::Read;
        };
        if !listed.etag.is_empty() && listed.etag != line.etag {
            return Plan::Replaced {
                was: line.etag.clone(),
            };
        }
        match (line.done, line.after) {
            (true, _) => Plan::Skip,
            (false, Some(after)) => {
                // A format this version does not know: read from the start, passing over.
                let format = line
                    .format
                    .as_deref()
                    .and_then(|name| name.parse::<Format>().ok());
                let seek = line
                    .offset
                    .zip(format)
                    .map(|(offset, format)| Seek { offset, format });
                Plan::Resume(Resume {
                    etag: line.etag.clone(),
                    after,
                    chain: 0,
                    seek,
                })
            }
            (false, None) => Plan::Read,
        }
    }

    /// Records that the object is done.
    pub fn done(&mut self, bucket: &str, key: &str, etag: &str) -> Result<(), ResumeError> {
        self.append(Line {
            bucket: bucket.to_string(),
            key: key.to_string(),
            etag: etag.to_string(),
            done: true,
            after: None,
            offset: None,
            format: None,
        })
    }

    /// Records that the object is done up to where `at` resumes it, and not after.
    pub fn stopped(&mut self, bucket: &str, key: &str, at: &Resume) -> Result<(), ResumeError> {
        self.append(Line {
            bucket: bucket.to_string(),
            key: key.to_string(),
            etag: at.etag.clone(),
            done: false,
            after: Some(at.after),
            offset: at.seek.map(|seek| seek.offset),
            format: at.seek.map(|seek| seek.format.name().to_string()),
        })
    }

    /// Writes `line` whole, in one write, and keeps it.
    fn append(&mut self, line: Line) -> Result<(), ResumeError> {
        let mut text = serde_json::to_vec(&line).expect("a line serialises");
        text.push(b'\n');
        self.file.write_all(&text).map_err(|error| ResumeError::Io {
            path: self.path.clone(),
            error,
        })?;
        self.known.insert((line.bucket.clone(), line.key.clone()), line);
        Ok(())
    }
}

/// The last line of each object in `reader`, and the length of the whole lines; a last line
/// without its newline is left out.
fn read_lines(mut reader: impl BufRead, path: &Path) -> Result<(Known, u64), ResumeError> {
    let mut known = HashMap::new();
    let mut whole = 0;
    let mut text = String::new();
    for number in 1.. {
        text.clear();
        let read = reader.read_line(&mut text).map_err(|error| ResumeError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        if read == 0 || !text.ends_with('\n') {
            break;
        }
        whole += read as u64;
        if text.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(&text).map_err(|error| ResumeError::Malformed {
            path: path.to_path_buf(),
            line: number,
            error,
        })?;
        known.insert((line.bucket.clone(), line.key.clone()), line);
    }
    Ok((known, whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(key: &str, etag: &str) -> Listed {
        Listed {
            key: key.to_string(),
            last_modified_ms: 0,
            size: 10,
            etag: etag.to_string(),
        }
    }

    fn at(etag: &str, after: u64, seek: Option<Seek>) -> Resume {
        Resume {
            etag: etag.to_string(),
            after,
            chain: 0,
            seek,
        }
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sluice-resume-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resume.jsonl");
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn what_a_run_records_the_next_one_reads_back() {
        let path = temp("round-trip");
        let mut file = ResumeFile::open(&path).unwrap();
        assert_eq!(file.plan("logs", &listed("a", "e1")), Plan::Read);
        file.done("logs", "a", "e1").unwrap();
        let seek = Seek {
            offset: 4_096,
            format: Format::VpcFlow,
        };
        file.stopped("logs", "b", &at("e2", 41, Some(seek))).unwrap();
        file.stopped("logs", "c", &at("e3", 5, None)).unwrap();
        file.done("logs", "c", "e3").unwrap();
        drop(file);

        let file = ResumeFile::open(&path).unwrap();
        assert_eq!(file.plan("logs", &listed("a", "e1")), Plan::Skip);
        assert_eq!(
            file.plan("logs", &listed("b", "e2")),
            Plan::Resume(at("e2", 41, Some(seek)))
        );
        assert_eq!(
            file.plan("logs", &listed("c", "e3")),
            Plan::Skip,
            "the later line wins"
        );
        assert_eq!(
            file.plan("other", &listed("a", "e1")),
            Plan::Read,
            "another bucket"
        );
        assert_eq!(file.plan("logs", &listed("a", "")), Plan::Skip, "no ETag listed");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"bucket":"logs","key":"a","etag":"e1","done":true}"#
        );
        let line = format!(
            r#"{{"bucket":"logs","key":"b","etag":"e2","after":41,"offset":4096,"format":"{}"}}"#,
            Format::VpcFlow.name()
        );
        assert!(text.contains(&line), "{text}");
    }

    #[test]
    fn a_torn_last_line_is_cut_off_and_a_bad_line_before_it_is_not() {
        let path = temp("torn");
        std::fs::write(
            &path,
            "{\"bucket\":\"logs\",\"key\":\"a\",\"etag\":\"e1\",\"done\":true}\n{\"bucket\":\"logs\",\"key\":\"b\",\"et",
        )
        .unwrap();
        let mut file = ResumeFile::open(&path).unwrap();
        assert_eq!(file.plan("logs", &listed("a", "e1")), Plan::Skip);
        assert_eq!(file.plan("logs", &listed("b", "e2")), Plan::Read);
        file.done("logs", "b", "e2").unwrap();
        drop(file);
        let file = ResumeFile::open(&path).unwrap();
        assert_eq!(
            file.plan("logs", &listed("b", "e2")),
            Plan::Skip,
            "appended after the cut"
        );
        drop(file);

        std::fs::write(&path, "{\"bucket\":\"logs\",\"key\":\"a\"\n{}\n").unwrap();
        let err = ResumeFile::open(&path).unwrap_err();
        assert!(
            err.to_string().contains("line 1 is not a line of a resume file"),
            "{err}"
        );
    }

    #[test]
    fn an_object_replaced_since_is_read_whole_again() {
        let path = temp("replaced");
        let mut file = ResumeFile::open(&path).unwrap();
        file.done("logs", "a", "e1").unwrap();
        file.stopped("logs", "b", &at("e2", 7, None)).unwrap();
        assert_eq!(
            file.plan("logs", &listed("a", "new")),
            Plan::Replaced { was: "e1".into() }
        );
        assert_eq!(
            file.plan("logs", &listed("b", "new")),
            Plan::Replaced { was: "e2".into() }
        );
    }
}
