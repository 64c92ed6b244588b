//! End-to-end tests of Sluice against moto_server and osmem-server on loopback.
//!
//! One test binary: each area is a module. Every test starts the servers it needs through
//! `sluice_harness` and fails, naming the server and the install command, when one is missing.

mod emulators;
mod forwarder;
mod subscriber;
mod template;
