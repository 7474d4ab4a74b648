//! TSBS-shaped line protocol for the benchmarks.

/// Lines shaped like TSBS cpu-only data: 10 tags, 10 integer fields, nanosecond timestamps,
/// all hosts at one time, then the next interval.
pub fn tsbs_cpu_lines(count: usize) -> String {
    let regions = ["us-east-1", "eu-central-1", "ap-northeast-1", "sa-east-1"];
    let fields = [
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
    let mut out = String::with_capacity(count * 260);
    for i in 0..count {
        let host = i % hosts;
        let region = regions[host % regions.len()];
        out.push_str(&format!(
            "cpu,hostname=host_{host},region={region},datacenter={region}a,rack={},os=Ubuntu16.10,arch=x64,team=SF,service={},service_version=1,service_environment=production ",
            host % 100,
            host % 20
        ));
        for (k, field) in fields.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push_str(&format!("{field}={}i", next() % 101));
        }
        let time = 1_451_606_400_000_000_000_i64 + (i / hosts) as i64 * 10_000_000_000;
        out.push_str(&format!(" {time}\n"));
    }
    out
}
