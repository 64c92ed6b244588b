//! Every seed of the subscriber's fuzz corpora and every input that ever failed its checks,
//! replayed on the stable toolchain.

use std::path::{Path, PathBuf};

use super::*;

/// The files of `fuzz/<folder>/<target>/` at the workspace's root, none when it does not exist.
fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(folder)
        .join(target);
    let Ok(entries) = std::fs::read_dir(dir) else {
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
    for (target, check) in TARGETS {
        let corpus = inputs("corpus", target);
        assert!(!corpus.is_empty(), "fuzz/corpus/{target}/ has seeds");
        for path in corpus.iter().chain(&inputs("regressions", target)) {
            let data = std::fs::read(path).expect("a readable input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its check", path.display());
        }
    }
}

#[test]
fn an_error_of_several_lines_fails_the_check() {
    assert!(std::panic::catch_unwind(|| check_one_line("DESTINATION_ARN: bad\nvalue")).is_err());
    assert!(std::panic::catch_unwind(|| check_one_line("DESTINATION_ARN: bad value")).is_ok());
}
