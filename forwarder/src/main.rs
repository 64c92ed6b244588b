//! `sluice-forwarder`: the Lambda entry point and the command-line tool.
//!
//! With `AWS_LAMBDA_RUNTIME_API` set (inside Lambda) it runs the Lambda runtime; otherwise it is
//! the CLI ([`sluice_forwarder::cli`]): `replay`, `s3-notify` and `dashboards`.

use std::process::ExitCode;

use clap::Parser;
use sluice_edge::LogFormat;
use sluice_forwarder::cli::{self, Cli};
use sluice_forwarder::config::{Config, Purpose};
use sluice_forwarder::handler::Forwarder;

/// Every event makes a handful of short-lived strings (documents, index names, ids): mimalloc
/// serves them faster than the system allocator (docs/benchmarks.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (`mimalloc.h`, v3 as vendored by
/// libmimalloc-sys 0.1.49; the same index in v2).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps a freed page before giving it back, in milliseconds: 3, unless
/// `MIMALLOC_PURGE_DELAY` says otherwise. mimalloc's own 10 ms (more for arenas) held 20 to 40 MB
/// more than the heap needs while an object streams through, since documents are built on the
/// threads that read objects and freed on the one that delivers them; 0 gave every page back at
/// once, and the next batch faulted it in again, which cost the 200-batch dry run a fifth of its
/// time (docs/benchmarks.md has the figures for both).
const PURGE_DELAY_MS: std::ffi::c_long = 3;

fn release_freed_memory_soon() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option, first thing in `main`, before any other thread
        // exists (`mi_option_set` is not thread safe); mimalloc reads options with atomic loads.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
    }
}

fn main() -> ExitCode {
    release_freed_memory_soon();
    if !sluice_edge::in_lambda() {
        return cli::run(Cli::parse());
    }
    match run_lambda() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The function: settings from the environment, then one [`Forwarder`] serving every event.
fn run_lambda() -> Result<(), sluice_edge::lambda::ServeError> {
    let config = Config::from_env(Purpose::Deliver).inspect_err(|err| {
        sluice_edge::report_init_error(&format!("{err:#}"));
    })?;
    sluice_edge::init_tracing(&config.log_level, LogFormat::Json);
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "sluice-forwarder".into());
    sluice_edge::lambda::serve(
        async || Forwarder::new(config).await.map(|f| f.with_metrics(function)),
        async |forwarder: &Forwarder, event, deadline| {
            forwarder
                .handle(event, deadline)
                .await
                .map(|handled| handled.response)
        },
    )
}
