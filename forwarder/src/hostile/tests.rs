//! Every seed of the fuzz corpora (`fuzz/corpus/<target>/`) and every input that ever failed a
//! check (`fuzz/regressions/<target>/`), replayed through the same checks on the stable
//! toolchain, and the bugs the fuzz targets found, each by its input.

use std::path::{Path, PathBuf};

use super::*;

/// The `fuzz/` folder at the workspace's root.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<folder>/<target>/`, none when it does not exist.
fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join(folder).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = (entries.map(|entry| entry.expect("a readable folder").path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_seed_and_every_input_that_ever_failed_passes_its_check() {
    let mut seeds = 0;
    for (target, check) in TARGETS {
        let corpus = inputs("corpus", target);
        assert!(!corpus.is_empty(), "fuzz/corpus/{target}/ has seeds");
        seeds += corpus.len();
        for path in corpus.iter().chain(&inputs("regressions", target)) {
            let data = std::fs::read(path).expect("a readable input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its check", path.display());
        }
    }
    assert!(seeds >= TARGETS.len());
}

#[test]
fn the_checks_fail_what_must_not_hold() {
    // A source that is not JSON, and one built from the same input with another id.
    let doc = |source: &str, id: &str| Document {
        index: "cwl-2026.11.29".into(),
        id: Some(id.into()),
        source: source.into(),
        stage: crate::document::Stage::Primary,
        origin: crate::document::Origin::Unreadable { ack: Ack::Invocation },
    };
    let good = [doc(r#"{"message":"ok"}"#, "a")];
    assert!(std::panic::catch_unwind(|| check_documents(&good, &good)).is_ok());
    let broken = [doc(r#"{"message":"ok""#, "a")];
    assert!(std::panic::catch_unwind(|| check_documents(&broken, &broken)).is_err());
    let other_id = [doc(r#"{"message":"ok"}"#, "b")];
    assert!(std::panic::catch_unwind(|| check_documents(&good, &other_id)).is_err());
    assert!(std::panic::catch_unwind(|| check_one_line("DESTINATION: bad\nvalue")).is_err());
}

#[test]
fn each_object_seed_is_read_in_the_format_it_is_named_after() {
    let names: Vec<&str> = crate::source::s3::format::names().collect();
    for path in inputs("corpus", "s3_object") {
        let data = std::fs::read(&path).expect("a readable seed");
        let chosen = names[usize::from(data[0]) % names.len()];
        assert_eq!(path.file_name().and_then(|name| name.to_str()), Some(chosen));
    }
}
