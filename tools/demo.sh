#!/usr/bin/env bash
# Sluice's main job on emulators on loopback, with no AWS account and nothing to configure.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cargo run --quiet --locked -p sluice-tests --bin sluice-demo -- "$@"
