//! The proleptic Gregorian calendar in UTC, both ways: a day's number since 1970-01-01 from its
//! date, and its date from the number, with Howard Hinnant's algorithms
//! (<https://howardhinnant.github.io/date_algorithms.html>). Document timestamps and index
//! names are written with them, and the usual shape of AWS's times is read with them.

/// `(year, month, day)` and hour of a millisecond timestamp, UTC, proleptic Gregorian.
pub(crate) fn civil_from_ms(ms: i64) -> ((i64, u32, u32), u32) {
    let days = ms.div_euclid(86_400_000);
    let hour = (ms.rem_euclid(86_400_000) / 3_600_000) as u32;
    (civil_from_days(days), hour)
}

/// Howard Hinnant's `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The days of `month` (1 to 12) in `year`.
pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (<https://howardhinnant.github.io/date_algorithms.html#days_from_civil>).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = i64::from((153 * ((month + 9) % 12) + 2) / 5 + day - 1);
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_day_numbers_go_both_ways() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2026, 11, 29), 20_786);
        // Every day from year 0 to about 4160.
        for days in -719_528..800_000 {
            let (year, month, day) = civil_from_days(days);
            assert!(day >= 1 && day <= days_in_month(year as u32, month), "{days}");
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }
}
