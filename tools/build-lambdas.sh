#!/usr/bin/env bash
# Builds the two Lambda deployment zips, the same way `sam build` does (cargo-lambda, release
# profile), and prints their sizes:
#   $CARGO_TARGET_DIR/lambda/sluice-forwarder/bootstrap.zip
#   $CARGO_TARGET_DIR/lambda/sluice-subscriber/bootstrap.zip
#
# A manual check, not part of tools/test.sh: a release build of the AWS SDK takes many minutes.
# cargo-lambda and zig (its cross linker) come from the project venv (tools/setup.sh).
#
#   ARCH=arm64 (default, what template.yaml deploys) or ARCH=x86_64
#   CARGO_TARGET_DIR (default target/lambda, apart from the debug builds of tests)
#
# arm64 needs the Rust standard library for aarch64-unknown-linux-gnu. When it is not installed,
# cargo-lambda runs `rustup target add aarch64-unknown-linux-gnu`, which downloads it from
# static.rust-lang.org; on a machine without that access, install the target from a mirror or
# build with ARCH=x86_64 (and deploy with Architectures: [x86_64]).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh
venv=${SLUICE_VENV:-$root/.venv}
export PATH="$venv/bin:$PATH"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/lambda}

arch=${ARCH:-arm64}
case "$arch" in
  arm64) flag=--arm64 triple=aarch64-unknown-linux-gnu ;;
  x86_64) flag=--x86-64 triple=x86_64-unknown-linux-gnu ;;
  *) echo "build-lambdas: ARCH must be arm64 or x86_64, not '$arch'" >&2; exit 2 ;;
esac
if ! rustup target list --installed | grep -qx "$triple"; then
  echo "build-lambdas: the Rust target $triple is not installed; cargo-lambda will try" \
       "'rustup target add $triple' (needs static.rust-lang.org). If that fails: ARCH=x86_64 $0" >&2
fi

echo "build-lambdas: cargo lambda build --release $flag (target dir $CARGO_TARGET_DIR)" >&2
start=$(date +%s)
nice -n 10 cargo lambda build --release --locked "$flag" --output-format zip \
  --package sluice-forwarder --package sluice-subscriber
elapsed=$(( $(date +%s) - start ))

echo "build-lambdas: $arch zips built in ${elapsed}s:"
for bin in sluice-forwarder sluice-subscriber; do
  dir=$CARGO_TARGET_DIR/lambda/$bin
  zip=$dir/bootstrap.zip
  [ -f "$zip" ] || { echo "build-lambdas: $zip was not produced" >&2; exit 1; }
  zipped=$(stat -c %s "$zip")
  unzipped=$(unzip -Z -t "$zip" | sed -E 's/.* ([0-9]+) bytes uncompressed.*/\1/')
  awk -v bin="$bin" -v zip="$zip" -v z="$zipped" -v u="$unzipped" \
    'BEGIN { printf "  %-18s %.2f MiB zipped, %.2f MiB unzipped  %s\n", bin, z / 1048576, u / 1048576, zip }'
done
