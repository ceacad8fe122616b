//! `kkp-webhook`: parse the command line, set up logging and serve until SIGTERM/SIGINT.

use std::process::ExitCode;

use clap::Parser;
use kkp_webhook::platform::PlatformArgs;
use kkp_webhook::policies::PolicyArgs;
use kkp_webhook::startup;
use kkp_webhook::{Config, logging, tls};

/// A review allocates and frees many small values (the parsed object, the verdict, the
/// response); mimalloc spends far less CPU on that than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option, which its option list (`mi_option_e` in `mimalloc.h`) puts
/// just before `use_numa_nodes`; the Rust bindings name only the latter.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = libmimalloc_sys::mi_option_use_numa_nodes - 1;

/// mimalloc's own default purge delay, in milliseconds.
const DEFAULT_PURGE_DELAY_MS: std::ffi::c_long = 10;

/// While large reviews are in flight, freed memory goes back to the system at once, so that
/// concurrent large reviews do not stack up resident memory (the memory benchmark's figure, which
/// the Deployment's limit comes from); once the last one ends, what it freed is given back and
/// the small reviews of normal traffic get mimalloc's short purge delay again: purging at once
/// after every review spent about a sixth of the server's CPU on page faults and TLB shootdowns.
/// `MIMALLOC_PURGE_DELAY` in the environment still sets the delay for normal traffic.
fn large_reviews_started() {
    // SAFETY: sets a process-wide allocator option to a valid value; mimalloc reads options
    // atomically and allows this at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

fn large_reviews_ended() {
    // SAFETY: as above; mi_collect only walks mimalloc's own heaps, which this binary uses.
    unsafe {
        libmimalloc_sys::mi_collect(true);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, normal_purge_delay());
    }
}

/// The purge delay for normal traffic: `MIMALLOC_PURGE_DELAY` when set, else mimalloc's default.
fn normal_purge_delay() -> std::ffi::c_long {
    static DELAY: std::sync::OnceLock<std::ffi::c_long> = std::sync::OnceLock::new();
    *DELAY.get_or_init(|| {
        std::env::var("MIMALLOC_PURGE_DELAY")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_PURGE_DELAY_MS)
    })
}

/// The server's flags and where its admission policies come from.
#[derive(Debug, Parser)]
#[command(
    name = "kkp-webhook",
    version = kkp_webhook::version(),
    about = "Defaults and validates KKP Clusters and MachineDeployments at admission."
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(flatten)]
    policies: PolicyArgs,
    #[command(flatten)]
    platform: PlatformArgs,
}

fn main() -> ExitCode {
    kkp_webhook::memory::install(kkp_webhook::memory::Hooks {
        first_started: large_reviews_started,
        last_ended: large_reviews_ended,
    });
    let cli = Cli::parse();
    logging::init(cli.config.log_format);
    tls::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(startup::serve(cli.config, cli.policies, cli.platform)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "kkp-webhook failed");
            ExitCode::FAILURE
        }
    }
}
