//! Wall-clock stamps, one format each: [`now_rfc3339`] for records people read and sort,
//! [`unix_ms`] for event stamps, and [`new_run_id`] for run directories (the swarm's and the
//! gym's alike).

use chrono::{SecondsFormat, Utc};

/// The current time, RFC 3339 UTC to the second (`2026-12-02T22:03:44Z`).
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Milliseconds since the Unix epoch (0 if the clock is before it), for event stamps.
pub fn unix_ms() -> u64 {
    u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0)
}

/// A fresh run id: the UTC time to the second, then four hex digits that differ between
/// processes and calls (`20261202220344-3fa1`). Ids sort in the order runs started.
pub fn new_run_id() -> String {
    let now = Utc::now();
    let salt = now.timestamp_subsec_nanos() ^ std::process::id();
    format!("{}-{:04x}", now.format("%Y%m%d%H%M%S"), salt & 0xffff)
}

/// A duration as people read it on a progress line: `m:ss`, or `h:mm:ss` from an hour.
pub fn duration_text(seconds: f64) -> String {
    let whole = seconds.max(0.0).round() as u64;
    if whole >= 3600 {
        format!("{}:{:02}:{:02}", whole / 3600, whole / 60 % 60, whole % 60)
    } else {
        format!("{}:{:02}", whole / 60, whole % 60)
    }
}

/// Seconds left when `done` of `total` took `elapsed`, at the pace so far (None before the
/// first is done).
pub fn eta(elapsed: f64, done: usize, total: usize) -> Option<f64> {
    (done > 0).then(|| elapsed / done as f64 * total.saturating_sub(done) as f64)
}

/// CPU seconds this process has used so far, user and system, over all its threads (not
/// the commands it ran: those are its children). None where the system will not say.
pub fn process_cpu_seconds() -> Option<f64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole `rusage` into the pointer it is given, which points
    // at one we own; it reads nothing from it.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if status != 0 {
        return None;
    }
    // SAFETY: getrusage returned 0, so it filled the struct.
    let usage = unsafe { usage.assume_init() };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_cpu_clock_moves_with_work() {
        let before = process_cpu_seconds().unwrap_or(-1.0);
        assert!(before >= 0.0, "getrusage answered nothing");
        // Spin until the clock has counted 20 ms more (it cannot stand still while this
        // thread runs; 10 s is only a guard against a clock that never moves).
        let mut x = 0u64;
        let start = std::time::Instant::now();
        let mut after = before;
        while after < before + 0.02 && start.elapsed() < std::time::Duration::from_secs(10) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            after = process_cpu_seconds().unwrap_or(-1.0);
        }
        assert!(after >= before + 0.02, "{before} -> {after} ({x})");
    }

    #[test]
    fn stamps_have_their_documented_shape() {
        let stamp = now_rfc3339();
        assert!(
            chrono::DateTime::parse_from_rfc3339(&stamp).is_ok() && stamp.ends_with('Z'),
            "{stamp}"
        );
        let id = new_run_id();
        let (time, salt) = id.split_once('-').unwrap_or_default();
        assert_eq!((time.len(), salt.len()), (14, 4), "{id}");
        assert!(
            chrono::NaiveDateTime::parse_from_str(time, "%Y%m%d%H%M%S").is_ok(),
            "{id}"
        );
    }
}
