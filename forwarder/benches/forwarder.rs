//! Forwarder benchmark: see docs/benchmarks.md.

fn main() {}
