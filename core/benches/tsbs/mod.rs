//! TSBS-shaped line protocol for the benchmarks.

/// The values of the fields of [`tsbs_cpu_lines`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fields {
    /// Integers from 0 to 100, as TSBS writes them: its walks' values cut to integers.
    Integers,
    /// Floats of full precision, as agents compute CPU usage from counters
    /// (`usage_user=2.5125628140703518`): nearly every value differs.
    FloatsOfFullPrecision,
}

/// Lines shaped like TSBS cpu-only data: 10 tags, 10 fields, nanosecond timestamps, all
/// hosts at one time, then the next interval.
pub fn tsbs_cpu_lines(count: usize, fields: Fields) -> String {
    let regions = ["us-east-1", "eu-central-1", "ap-northeast-1", "sa-east-1"];
    let names = [
        "usage_user",
        "usage_system",
        "usage_idle",
        "usage_nice",
        "usage_iowait",
        "usage_irq",
        "usage_softirq",
        "usage_steal",
        "usage_guest",
        "usage_guest_nice",
    ];
    let hosts = 100;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut uniform = move || (next() >> 11) as f64 / (1u64 << 53) as f64;
    // As TSBS: each field of each host a random walk on [0, 100] from a uniform start,
    // by steps of the standard normal distribution (Box-Muller), so a host's values stay
    // near each other and a threshold's matches come in runs.
    let mut walks: Vec<f64> = (0..hosts * names.len())
        .map(|_| uniform() * 100.0)
        .collect();
    let mut out = String::with_capacity(count * 260);
    for i in 0..count {
        let host = i % hosts;
        let region = regions[host % regions.len()];
        out.push_str(&format!(
            "cpu,hostname=host_{host},region={region},datacenter={region}a,rack={},os=Ubuntu16.10,arch=x64,team=SF,service={},service_version=1,service_environment=production ",
            host % 100,
            host % 20
        ));
        for (k, field) in names.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let step = (-2.0 * (1.0 - uniform()).ln()).sqrt()
                * (2.0 * std::f64::consts::PI * uniform()).cos();
            let walk = &mut walks[host * names.len() + k];
            *walk = (*walk + step).clamp(0.0, 100.0);
            if fields == Fields::FloatsOfFullPrecision {
                out.push_str(&format!("{field}={walk:?}"));
            } else {
                out.push_str(&format!("{field}={}i", *walk as i64));
            }
        }
        let time = 1_451_606_400_000_000_000_i64 + (i / hosts) as i64 * 10_000_000_000;
        out.push_str(&format!(" {time}\n"));
    }
    out
}
