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

/// mimalloc keeps freed memory for a while before giving it back (10 ms, more for arenas).
/// Documents are built on the threads that read objects and freed on the one that delivers them,
/// so while an object streams through, that delay held 20 to 40 MB more than the heap needs
/// (docs/benchmarks.md): give it back at once, unless `MIMALLOC_PURGE_DELAY` says otherwise.
fn release_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option; mimalloc reads options with atomic loads.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
    }
}

fn main() -> ExitCode {
    release_freed_memory_at_once();
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
