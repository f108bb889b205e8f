//! The `datetime` column of Polis exports, e.g. `Sat Mar 01 09:00:00 UTC 2025`.

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Civil date (year, month 1..=12, day) of a day count since 1970-01-01,
/// by Howard Hinnant's days-to-civil algorithm.
fn civil(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as usize, day)
}

/// Formats ms since the epoch the way Polis exports do, in UTC.
pub fn polis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil(days);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[month - 1],
        day,
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60,
        year
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::polis(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            super::polis(1_740_819_600_000),
            "Sat Mar 01 09:00:00 UTC 2025"
        );
        assert_eq!(
            super::polis(1_435_654_192_085),
            "Tue Jun 30 08:49:52 UTC 2015"
        );
    }
}
