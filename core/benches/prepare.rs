//! A write prepared in one part, as one thread does it: parse, admit, batch, sort and
//! encode TSBS cpu-only lines as Parquet. `cargo bench -p tsparquet-core --bench prepare`.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tsparquet_core::ingest::Existing;
use tsparquet_core::line_protocol::{ParseOptions, Precision};
use tsparquet_core::prepare::prepare;

mod tsbs;
use tsbs::{tsbs_cpu_lines, Fields};

/// A large write's part, and half of a 5,000-line write (a write's part on each of two
/// threads), where the costs of each part weigh more.
const PART_LINES: [usize; 2] = [100_000, 2_500];

fn bench_prepare(c: &mut Criterion) {
    let options = ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 0,
    };
    let existing = BTreeMap::from([("cpu".to_owned(), Existing::Missing)]);
    let mut group = c.benchmark_group("prepare_tsbs_cpu_lines");
    for lines in PART_LINES {
        let input = tsbs_cpu_lines(lines, Fields::Integers);
        group.throughput(Throughput::Elements(lines as u64));
        group.bench_function(format!("{lines}"), |b| {
            b.iter(|| {
                let part = prepare(&existing, &input, options, 1, 100, true).expect("encodes");
                assert_eq!(part.outcome.written(), lines as u64);
                black_box(part)
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_prepare
}
criterion_main!(benches);
