//! A process's CPU time and resident memory, from `/proc` (Linux).

pub struct Process {
    path: String,
}

/// Linux reports CPU times in these ticks per second (USER_HZ, 100 on every mainstream build).
const TICKS_PER_SECOND: f64 = 100.0;

impl Process {
    pub fn new(pid: u32) -> Self {
        Self { path: format!("/proc/{pid}") }
    }

    pub fn own() -> Self {
        Self { path: "/proc/self".into() }
    }

    /// User plus system CPU time, in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("{}/stat", self.path)).ok()?;
        // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) / TICKS_PER_SECOND)
    }

    /// Resident memory, in KiB.
    pub fn rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("{}/status", self.path)).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}
