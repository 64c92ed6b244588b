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
/// `mi_option_arena_eager_commit` in the same enum.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// How long mimalloc keeps a freed page before giving it back, in milliseconds: 3, unless
/// `MIMALLOC_PURGE_DELAY` says otherwise. mimalloc's own 10 ms (more for arenas) held 20 to 40 MB
/// more than the heap needs while an object streams through, since documents are built on the
/// threads that read objects and freed on the one that delivers them; 0 gave every page back at
/// once, and the next batch faulted it in again, which cost the 200-batch dry run a fifth of its
/// time (docs/benchmarks.md has the figures for both).
const PURGE_DELAY_MS: std::ffi::c_long = 3;

/// Whether mimalloc commits its arenas' memory up front: not, unless
/// `MIMALLOC_ARENA_EAGER_COMMIT` says so. Its default (on Linux, which overcommits) commits them
/// eagerly, and a purge of eagerly committed memory only resets it (the kernel takes the pages
/// back when it needs them), so every page the process ever touched stayed in its RSS: the
/// 200-batch dry run peaked at 20 to 21 MB with it and 13 MB without, in the same time, and a
/// GuardDuty export's 38 MB against 22 MB (docs/benchmarks.md).
const ARENA_EAGER_COMMIT: std::ffi::c_long = 0;

/// mimalloc's options that Sluice sets, each with the variable that overrides it.
const OPTIONS: [(libmimalloc_sys::mi_option_t, &std::ffi::CStr, std::ffi::c_long); 2] = [
    (MI_OPTION_PURGE_DELAY, c"MIMALLOC_PURGE_DELAY", PURGE_DELAY_MS),
    (
        MI_OPTION_ARENA_EAGER_COMMIT,
        c"MIMALLOC_ARENA_EAGER_COMMIT",
        ARENA_EAGER_COMMIT,
    ),
];

/// Sets [`OPTIONS`] before the first allocation, when mimalloc reserves its first arena (set in
/// `main`, the arena was already there, committed eagerly): a constructor, run by the loader
/// before `main` and before mimalloc's own (which has no priority, so it runs after those that
/// have one).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00100")]
static SET_ALLOCATOR_OPTIONS: extern "C" fn() = set_allocator_options;

#[cfg(target_os = "linux")]
extern "C" fn set_allocator_options() {
    unsafe extern "C" {
        fn getenv(name: *const std::ffi::c_char) -> *mut std::ffi::c_char;
    }
    for (option, variable, value) in OPTIONS {
        // SAFETY: no other thread exists yet; `getenv` reads the environment without
        // allocating (`std::env` would allocate, through mimalloc, before its options are set),
        // and `mi_option_set` sets one integer (an option set wins over its variable, so the
        // variable is looked at first).
        unsafe {
            if getenv(variable.as_ptr()).is_null() {
                libmimalloc_sys::mi_option_set(option, value);
            }
        }
    }
}

/// Elsewhere, [`OPTIONS`] are set first thing in `main` (the arena may be committed already).
#[cfg(not(target_os = "linux"))]
fn set_allocator_options() {
    for (option, variable, value) in OPTIONS {
        if std::env::var_os(variable.to_str().unwrap_or_default()).is_none() {
            // SAFETY: sets one integer option before any other thread exists.
            unsafe { libmimalloc_sys::mi_option_set(option, value) }
        }
    }
}

fn main() -> ExitCode {
    #[cfg(not(target_os = "linux"))]
    set_allocator_options();
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
