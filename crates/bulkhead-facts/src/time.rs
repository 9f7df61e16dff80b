//! Timestamps as the snapshot writes them: RFC 3339 in UTC, whole seconds (`2026-01-01T12:00:00Z`).
//! Civil dates to and from days since 1970-01-01 follow Howard Hinnant's algorithms.

/// Now, in whole seconds since 1970-01-01 UTC (0 on a clock set before it).
pub fn unix_now() -> i64 {
    unix_seconds(std::time::SystemTime::now())
}

/// `t` in whole seconds since 1970-01-01 UTC (0 for a time before it).
pub fn unix_seconds(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1 to 12; the day is not checked
/// against the month).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 as `2026-01-31`.
pub fn iso_date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Unix seconds as `2026-01-01T12:00:00Z`.
pub fn rfc3339_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_date(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `2026-11-28T06:00:00Z` (UTC, fractions of a second ignored) as Unix seconds.
pub fn rfc3339_to_unix(t: &str) -> Option<i64> {
    let t = t.strip_suffix('Z')?;
    let (date, time) = t.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut h = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (h.next()??, h.next()??, h.next()??);
    Some(days_from_civil(y, m, day) * 86_400 + hh * 3_600 + mm * 60 + ss)
}

/// [`rfc3339_to_unix`] with the fraction of a second kept: `2026-11-28T06:00:00.5Z` is
/// (its Unix seconds, 500000000 ns). Digits beyond nanoseconds are dropped. For ordering times
/// that may carry fractions, which compared as text sort before the same second without them.
pub fn rfc3339_to_unix_nanos(t: &str) -> Option<(i64, u32)> {
    let secs = rfc3339_to_unix(t)?;
    let fraction = t
        .strip_suffix('Z')
        .and_then(|t| t.split_once('T'))
        .and_then(|(_, time)| time.split_once('.'))
        .map_or("", |(_, f)| f);
    let digits: String = fraction
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    let nanos = if digits.is_empty() {
        0
    } else {
        format!("{digits:0<9}").parse().unwrap_or(0)
    };
    Some((secs, nanos))
}

/// Whether a file modified at `modified` changed after a process started at `started` (both
/// RFC 3339): later by more than two seconds. A start time from /proc is the boot time (whole
/// seconds, and it can move by one as the clock is adjusted) plus whole seconds since boot, so
/// it may read up to about two seconds early; within that margin a file written just before the
/// start is never taken for one written after it.
pub fn changed_after(modified: &str, started: &str) -> bool {
    match (rfc3339_to_unix(modified), rfc3339_to_unix(started)) {
        (Some(m), Some(s)) => m > s + 2,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fractions of a second are kept as nanoseconds; none is zero; not a time is None.
    #[test]
    fn fractions_of_a_second() {
        assert_eq!(
            rfc3339_to_unix_nanos("1970-01-01T00:00:01.25Z"),
            Some((1, 250_000_000))
        );
        assert_eq!(rfc3339_to_unix_nanos("1970-01-01T00:00:01Z"), Some((1, 0)));
        assert_eq!(
            rfc3339_to_unix_nanos("1970-01-01T00:00:01.1234567891Z"),
            Some((1, 123_456_789))
        );
        assert_eq!(rfc3339_to_unix_nanos("soon"), None);
    }

    /// The civil calendar both ways, across a leap day and a century (the copies this module
    /// replaced in harden, threats and scan kept these).
    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
        assert_eq!(iso_date(11_016), "2000-02-29");
        for days in [-800_000, -1, 0, 11_016, 20_513, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
    }

    #[test]
    fn formats_unix_seconds() {
        assert_eq!(rfc3339_utc(1_767_225_600 + 3_723), "2026-01-01T01:02:03Z");
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn changed_after_needs_more_than_two_seconds() {
        let started = "2026-11-28T10:00:00Z";
        assert!(changed_after("2026-11-28T10:00:03Z", started));
        assert!(!changed_after("2026-11-28T10:00:02Z", started));
        assert!(!changed_after("2026-11-28T09:59:00Z", started));
        assert!(!changed_after("not a time", started));
    }

    #[test]
    fn parses_what_it_formats() {
        assert_eq!(rfc3339_to_unix("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_to_unix("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(rfc3339_to_unix("2026-11-28T06:09:44Z"), Some(1_795_846_184));
        assert_eq!(
            rfc3339_to_unix("2026-11-28T06:09:44.5Z"),
            Some(1_795_846_184)
        );
        assert_eq!(rfc3339_to_unix("yesterday"), None);
        for secs in [0, 951_868_800, 1_795_846_184, 4_102_444_799] {
            assert_eq!(rfc3339_to_unix(&rfc3339_utc(secs)), Some(secs));
        }
    }
}
