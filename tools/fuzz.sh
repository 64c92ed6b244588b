#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/: cargo-fuzz and libFuzzer, on the nightly toolchain): one TARGET or
# all of them, each for SECONDS (default 600), one at a time and niced. Prints each target's
# executions per second and the coverage it reached (libFuzzer's cov: and ft:), and copies every
# input that failed (crash-, oom-, timeout-, leak-) into fuzz/regressions/<target>/, which the
# stable tests replay (`hostile` in the forwarder and the subscriber).
#
#   tools/fuzz.sh                      every target, 600 s each
#   tools/fuzz.sh s3_object 120        one target for two minutes
#
# FUZZ_SANITIZER (default none: the targets are safe Rust, and the fuzzer runs several times
# faster without AddressSanitizer; `address` to check the C beneath), FUZZ_MAX_LEN (default
# 16384 bytes of input), FUZZ_RSS_MB (default 2048: a target above it has failed, an `oom-`).
# New inputs the fuzzer finds go to fuzz/work/<target>/ (not committed), seeds stay in
# fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-all}
seconds=${2:-600}
sanitizer=${FUZZ_SANITIZER:-none}
max_len=${FUZZ_MAX_LEN:-16384}
rss_mb=${FUZZ_RSS_MB:-2048}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh needs the nightly toolchain and cargo-fuzz:" >&2
    echo "  rustup toolchain install nightly && cargo install cargo-fuzz --locked" >&2
    exit 2
fi

mapfile -t all < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^sluice-fuzz$')
if [[ $target == all ]]; then
    targets=("${all[@]}")
elif printf '%s\n' "${all[@]}" | grep -qx "$target"; then
    targets=("$target")
else
    echo "unknown target $target; the targets: ${all[*]}" >&2
    exit 2
fi

failed=0
printf '%-22s %10s %10s %8s %8s  %s\n' target runs exec/s cov ft failures
for name in "${targets[@]}"; do
    mkdir -p "fuzz/work/$name" "fuzz/artifacts/$name"
    log=$(mktemp)
    status=0
    nice cargo +nightly fuzz run -O -s "$sanitizer" "$name" "fuzz/work/$name" "fuzz/corpus/$name" -- \
        -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb="$rss_mb" -timeout=30 \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    found=0
    for artifact in "fuzz/artifacts/$name"/{crash,oom,timeout,leak,slow-unit}-*; do
        [[ -e $artifact ]] || continue
        mkdir -p "fuzz/regressions/$name"
        mv "$artifact" "fuzz/regressions/$name/"
        found=$((found + 1))
    done
    printf '%-22s %10s %10s %8s %8s  %s\n' "$name" "${runs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "$found"
    if [[ $status -ne 0 || $found -ne 0 ]]; then
        failed=1
        echo "  $name failed (exit $status): fuzz/regressions/$name/; its output:" >&2
        grep -E '^error|panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 | sed 's/^/    /' >&2
    fi
    rm -f "$log"
done
exit "$failed"
