//! Wall time of `kubectl-kkp generate cluster` as a user feels it: the whole process, start to
//! exit, measured over many runs, next to `kubectl version --client` as a yardstick for what a
//! command-line start costs. The target is under 10 ms per generate.
//!
//! Run with `cargo bench -p kubectl-kkp --bench generate`; `KKP_BENCH_RUNS` sets the number of
//! runs (default 200). kubectl is looked up on PATH, then in the control-plane cache folder that
//! `scripts/control-plane.sh dir` prints; without it only the plugin is measured.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TARGET: Duration = Duration::from_millis(10);

struct Stats {
    min: Duration,
    median: Duration,
    mean: Duration,
    p95: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let n = samples.len();
    let mean = samples.iter().sum::<Duration>() / u32::try_from(n).unwrap_or(u32::MAX);
    Stats {
        min: samples[0],
        median: samples[n / 2],
        mean,
        p95: samples[(n * 95 / 100).min(n - 1)],
        max: samples[n - 1],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Runs the command `runs` times (after a few warm-up runs) and returns each run's wall time.
fn measure(program: &Path, args: &[&str], config_home: &Path, runs: usize) -> Result<Vec<Duration>, String> {
    let run = || -> Result<Duration, String> {
        let start = Instant::now();
        let status = Command::new(program)
            .args(args)
            .env("XDG_CONFIG_HOME", config_home)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        let took = start.elapsed();
        if !status.success() {
            return Err(format!("{} {} failed: {status}", program.display(), args.join(" ")));
        }
        Ok(took)
    };
    for _ in 0..5 {
        run()?;
    }
    (0..runs).map(|_| run()).collect()
}

fn find_kubectl() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/control-plane.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg("dir")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8(out.stdout).ok()?;
    Some(PathBuf::from(dir.trim()).join("kubectl")).filter(|p| p.is_file())
}

fn row(name: &str, s: &Stats) {
    println!(
        "{name:<36} {:>10} {:>10} {:>10} {:>10} {:>10}",
        ms(s.min),
        ms(s.median),
        ms(s.mean),
        ms(s.p95),
        ms(s.max)
    );
}

fn main() {
    let runs: usize = std::env::var("KKP_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .max(1);
    let plugin = Path::new(env!("CARGO_BIN_EXE_kubectl-kkp"));
    let config_home = std::env::temp_dir().join(format!("kkp-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&config_home) {
        eprintln!("cannot create {}: {e}", config_home.display());
        std::process::exit(1);
    }
    let generate = [
        "generate",
        "cluster",
        "demo",
        "--provider",
        "hetzner",
        "--datacenter",
        "hetzner-fsn1",
        "--project",
        "p8kfs2x9jw",
        "--set",
        "HETZNER_LOCATION=fsn1",
        "--worker-machine-count",
        "2",
    ];

    println!("{runs} runs each, wall time of the whole process\n");
    println!(
        "{:<36} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "command", "min", "median", "mean", "p95", "max"
    );
    let mut failed = false;
    let mut median = None;
    match measure(plugin, &generate, &config_home, runs) {
        Ok(samples) => {
            let s = stats(samples);
            median = Some(s.median);
            row("kubectl-kkp generate cluster (hetzner)", &s);
        }
        Err(e) => {
            eprintln!("{e}");
            failed = true;
        }
    }
    match measure(plugin, &["version"], &config_home, runs) {
        Ok(samples) => row("kubectl-kkp version", &stats(samples)),
        Err(e) => eprintln!("{e}"),
    }
    match find_kubectl() {
        Some(kubectl) => match measure(&kubectl, &["version", "--client"], &config_home, runs) {
            Ok(samples) => row("kubectl version --client", &stats(samples)),
            Err(e) => eprintln!("{e}"),
        },
        None => println!("kubectl not found on PATH or in the control-plane cache; no yardstick"),
    }
    let _ = std::fs::remove_dir_all(&config_home);
    if let Some(m) = median {
        let verdict = if m < TARGET { "met" } else { "missed" };
        println!("\ntarget: median generate under {} ({verdict})", ms(TARGET));
    }
    if failed {
        std::process::exit(1);
    }
}
