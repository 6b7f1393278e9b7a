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

#[cfg(test)]
mod tests {
    use super::*;

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
