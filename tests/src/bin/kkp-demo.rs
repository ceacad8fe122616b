//! `make demo`: see `kkp_e2e::demo`. Keeps everything running until Ctrl-C, or exits at once with
//! `--exit`.

use std::process::ExitCode;

use kkp_e2e::demo::{self, Narrator};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    kkp_e2e::install_crypto_provider();
    let exit_at_once = std::env::args().any(|a| a == "--exit");
    let mut narrator = Narrator::new(std::io::stdout());
    let running = match demo::run(&mut narrator).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("demo failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("\n==> Done. Everything keeps running until you press Ctrl-C:");
    println!(
        "    the seed:         export KUBECONFIG={}",
        running.seed.kubeconfig_path().display()
    );
    println!(
        "    the user cluster: export KUBECONFIG={}",
        running.cluster_kubeconfig().display()
    );
    println!(
        "    then try: kubectl kkp get clusters, kubectl kkp describe cluster demo, kubectl get admissionpolicies"
    );
    println!("    (the plugin is in target/debug: export PATH=\"$PWD/target/debug:$PATH\")");
    if !exit_at_once {
        let _ = tokio::signal::ctrl_c().await;
        println!("\nStopping the control planes and the webhook.");
    }
    drop(running);
    ExitCode::SUCCESS
}
