//! Writes the generated CRD manifests into `crds/`.

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, yaml) in kkp_crds::crdgen::all() {
        std::fs::write(dir.join(name), yaml)?;
        eprintln!("wrote crds/{name}");
    }
    Ok(())
}
