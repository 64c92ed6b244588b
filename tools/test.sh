#!/usr/bin/env bash
# Every check Sluice has: formatting, lints, unit tests and end-to-end tests on the emulators.
# CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
