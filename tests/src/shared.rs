//! One control plane shared by all tests of a test binary. Each `#[tokio::test]` runs on
//! its own runtime, so the shared plane holds processes only (no clients): tests create
//! their own clients with [`ControlPlane::client`]. The processes are stopped and the temp
//! dir removed when the test binary exits (an `atexit` hook; statics are never dropped),
//! and they die with the test process in any case (`PR_SET_PDEATHSIG`).

use std::sync::OnceLock;

use crate::control_plane::{ControlPlane, ControlPlaneOptions};
use crate::error::HarnessError;

static SHARED: OnceLock<Result<ControlPlane, String>> = OnceLock::new();

/// The options of the shared control plane: cluster name `kkp-e2e`, with
/// kube-controller-manager so that namespace deletion and garbage collection work.
pub fn shared_options() -> ControlPlaneOptions {
    ControlPlaneOptions::named("kkp-e2e").with_controller_manager()
}

/// The control plane shared by the tests of this binary, started on first use.
pub async fn shared_control_plane() -> Result<&'static ControlPlane, HarnessError> {
    if let Some(started) = SHARED.get() {
        return as_result(started);
    }
    tokio::task::spawn_blocking(shared_control_plane_blocking)
        .await
        .map_err(|e| HarnessError::Join(e.to_string()))?
}

/// The shared control plane, blocking the calling thread while it starts.
pub fn shared_control_plane_blocking() -> Result<&'static ControlPlane, HarnessError> {
    as_result(SHARED.get_or_init(|| {
        let started = ControlPlane::start_blocking(shared_options());
        if started.is_ok() {
            // SAFETY: registers a plain `extern "C" fn` with no captured state.
            let registered = unsafe { libc::atexit(stop_shared) };
            if registered != 0 {
                tracing::warn!("could not register the exit hook; the death signal still stops the processes");
            }
        }
        started.map_err(|e| e.to_string())
    }))
}

fn as_result(started: &'static Result<ControlPlane, String>) -> Result<&'static ControlPlane, HarnessError> {
    started.as_ref().map_err(|e| HarnessError::Shared(e.clone()))
}

extern "C" fn stop_shared() {
    if let Some(Ok(plane)) = SHARED.get() {
        plane.stop();
    }
}
