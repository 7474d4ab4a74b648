//! Parser throughput over TSBS cpu-only lines: `cargo bench -p tsparquet-core --bench parse`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tsparquet_core::line_protocol::{parse, ParseOptions, Precision};

mod tsbs;
use tsbs::{tsbs_cpu_lines, Fields};

const LINES: usize = 100_000;

fn bench_parse(c: &mut Criterion) {
    let input = tsbs_cpu_lines(LINES, Fields::Integers);
    let options = ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 0,
    };
    let run = || {
        let mut points = 0;
        for point in parse(&input, options) {
            black_box(point.expect("generated lines are valid"));
            points += 1;
        }
        assert_eq!(points, LINES);
    };

    let mut by_lines = c.benchmark_group("parse_tsbs_cpu_lines");
    by_lines.throughput(Throughput::Elements(LINES as u64));
    by_lines.bench_function("lines", |b| b.iter(run));
    by_lines.finish();

    let mut by_bytes = c.benchmark_group("parse_tsbs_cpu_bytes");
    by_bytes.throughput(Throughput::Bytes(input.len() as u64));
    by_bytes.bench_function("bytes", |b| b.iter(run));
    by_bytes.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_parse
}
criterion_main!(benches);
