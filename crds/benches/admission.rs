//! Default + validate of a typical Cluster and a typical MachineDeployment, as admission does it.
//! Target: under 50 µs each.

use criterion::{Criterion, criterion_group, criterion_main};
use kkp_crds::admission::{admit, mutate, validate};
use kkp_crds::context::Context;
use kkp_crds::request::Request;

#[path = "fixtures/objects.rs"]
mod objects;

use objects::{cluster, machine_deployment};

fn bench(c: &mut Criterion) {
    let ctx = Context::default();
    for (name, object) in [("cluster", cluster()), ("machinedeployment", machine_deployment())] {
        let verdict = admit(&Request::create(&object), &ctx);
        assert!(verdict.allowed(), "{name}: {:?}", verdict.errors);
        let defaulted = verdict.object.expect("defaulted");
        c.bench_function(&format!("{name}/default+validate"), |b| {
            b.iter(|| admit(&Request::create(&object), &ctx))
        });
        c.bench_function(&format!("{name}/default"), |b| {
            b.iter(|| mutate(&Request::create(&object), &ctx))
        });
        c.bench_function(&format!("{name}/validate"), |b| {
            b.iter(|| validate(&Request::create(&defaulted), &ctx))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
