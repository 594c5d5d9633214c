//! Host ns/step of the fixed-point leaky network, N_rec 128 (and 64/256), i8 and i16 weights.
//! `cargo bench -p neuroloop-core`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use neuroloop_core::{Model, Network};

#[path = "../tests/common/mod.rs"]
mod common;

fn bench_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("leaky_step");
    for n_rec in [64usize, 128, 256] {
        for (wbytes, name) in [(1usize, "i8"), (2, "i16")] {
            let bytes = common::Spec::random(2, n_rec, 2, wbytes, 42).encode();
            let model = Model::from_bytes(&bytes).unwrap();
            let mut buf = vec![0i16; model.state_len()];
            let mut net = Network::new(model, &mut buf).unwrap();
            let u = [2048i16, 1024];
            g.throughput(Throughput::Elements(1));
            g.bench_with_input(BenchmarkId::new(name, n_rec), &u, |b, u| {
                b.iter(|| {
                    black_box(net.step(black_box(u)).unwrap());
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_step);
criterion_main!(benches);
