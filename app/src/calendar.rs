//! Days and times as people read them beside messages: "Today", "Yesterday", "Monday 30
//! November", and whether two messages belong in one group (same author, five minutes apart at
//! most, same day). Pure arithmetic on UTC milliseconds and a time-zone offset, so the server's
//! render (in UTC) and the browser's (in its own zone) share it, and it is tested here.

/// Messages from one person this close together are shown under one name and avatar.
pub const GROUP_WINDOW_MS: i64 = 5 * 60 * 1000;

const DAY_MS: i64 = 86_400_000;
const WEEKDAYS: [&str; 7] = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Milliseconds since 1970 of an RFC 3339 time in UTC as the server writes them
/// (`2026-12-03T13:45:12.123Z`; the fraction may be missing). `None` for anything else.
pub fn parse_utc(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let millis = match text.get(19..)? {
        "Z" => 0,
        rest => {
            let digits = rest.strip_prefix('.')?.strip_suffix('Z')?;
            if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            format!("{digits:0<3}")[..3].parse::<i64>().ok()?
        }
    };
    Some(((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

/// The local day number (days since 1970-01-01 in the zone `offset_minutes` east of UTC).
pub fn local_day(utc_ms: i64, offset_minutes: i64) -> i64 {
    (utc_ms + offset_minutes * 60_000).div_euclid(DAY_MS)
}

/// What a day separator says: "Today", "Yesterday", "Monday 30 November", or with the year
/// when it is not this year ("Friday 3 January 2025").
pub fn day_label(day: i64, today: i64) -> String {
    match today - day {
        0 => "Today".to_owned(),
        1 => "Yesterday".to_owned(),
        _ => {
            let (year, month, date) = civil_from_days(day);
            let weekday = WEEKDAYS[day.rem_euclid(7) as usize];
            let month = MONTHS[(month - 1) as usize];
            if year == civil_from_days(today).0 {
                format!("{weekday} {date} {month}")
            } else {
                format!("{weekday} {date} {month} {year}")
            }
        }
    }
}

/// How long ago a time was, while that reads better than the clock: "just now" under a
/// minute, "5 min ago" under an hour; `None` after (the clock time, under its day's line,
/// says it better) and for a time ahead of the reader's clock.
pub fn relative(at_ms: i64, now_ms: i64) -> Option<String> {
    let ago = now_ms - at_ms;
    match ago {
        // A clock a little behind the server's still reads "just now".
        -30_000..60_000 => Some("just now".to_owned()),
        60_000..3_600_000 => Some(format!("{} min ago", ago / 60_000)),
        _ => None,
    }
}

/// Whether a message continues the group of the one before it: same author, within
/// [`GROUP_WINDOW_MS`], on the same local day.
pub fn continues(previous: (&str, i64), this: (&str, i64), offset_minutes: i64) -> bool {
    let (before, before_ms) = previous;
    let (author, at_ms) = this;
    before == author
        && (0..=GROUP_WINDOW_MS).contains(&(at_ms - before_ms))
        && local_day(before_ms, offset_minutes) == local_day(at_ms, offset_minutes)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date (year, month 1–12, day 1–31) of a day number.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_times_read_as_how_long_ago_then_the_clock_says_it() {
        let now = 1_000_000_000_000;
        assert_eq!(relative(now - 5_000, now).as_deref(), Some("just now"));
        assert_eq!(relative(now + 10_000, now).as_deref(), Some("just now"));
        assert_eq!(relative(now - 60_000, now).as_deref(), Some("1 min ago"));
        assert_eq!(relative(now - 59 * 60_000 - 59_000, now).as_deref(), Some("59 min ago"));
        assert_eq!(relative(now - 3_600_000, now), None);
        assert_eq!(relative(now + 120_000, now), None);
    }

    #[test]
    fn server_times_parse_to_milliseconds() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("1970-01-02T00:00:01.5Z"), Some(86_401_500));
        assert_eq!(parse_utc("2026-12-03T13:45:12.123Z"), Some(1_796_305_512_123));
        assert_eq!(parse_utc("2026-13-03T13:45:12Z"), None);
        assert_eq!(parse_utc("2026-12-03 13:45:12Z"), None);
        assert_eq!(parse_utc("2026-12-03T13:45:12+01:00"), None);
        assert_eq!(parse_utc(""), None);
    }

    #[test]
    fn days_are_named_from_today() {
        let today = local_day(parse_utc("2026-12-03T10:00:00Z").unwrap(), 0);
        assert_eq!(day_label(today, today), "Today");
        assert_eq!(day_label(today - 1, today), "Yesterday");
        assert_eq!(day_label(today - 3, today), "Monday 30 November");
        let last_year = local_day(parse_utc("2025-01-03T10:00:00Z").unwrap(), 0);
        assert_eq!(day_label(last_year, today), "Friday 3 January 2025");
        assert_eq!(day_label(local_day(0, 0), today), "Thursday 1 January 1970");
    }

    #[test]
    fn the_day_is_the_readers_own() {
        // 23:30 UTC is already tomorrow one hour east, and still today in New York.
        let late = parse_utc("2026-12-03T23:30:00Z").unwrap();
        assert_eq!(local_day(late, 60), local_day(late, 0) + 1);
        assert_eq!(local_day(late, -300), local_day(late, 0));
        let early = parse_utc("2026-12-03T00:30:00Z").unwrap();
        assert_eq!(local_day(early, -60), local_day(early, 0) - 1);
    }

    #[test]
    fn a_group_is_one_author_within_five_minutes_on_one_day() {
        let at = parse_utc("2026-12-03T12:00:00Z").unwrap();
        assert!(continues(("ana", at), ("ana", at + GROUP_WINDOW_MS), 0));
        assert!(!continues(("ana", at), ("ana", at + GROUP_WINDOW_MS + 1), 0));
        assert!(!continues(("ana", at), ("bob", at + 1000), 0));
        let midnight = parse_utc("2026-12-03T23:59:00Z").unwrap();
        assert!(!continues(("ana", midnight), ("ana", midnight + 2 * 60_000), 0));
        assert!(continues(("ana", midnight), ("ana", midnight + 2 * 60_000), 60));
    }
}
