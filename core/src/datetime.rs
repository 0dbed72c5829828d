//! UTC calendar date-times ↔ Unix nanoseconds, without a clock (protocol.md §4.4).

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Calendar date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses `YYYY-MM-DD(T| )HH:MM:SS[.f{1,9}][Z]` (UTC) into nanoseconds since the epoch;
/// for anything else, dates before 1970 or after the u64 range, the reason in words.
pub(crate) fn read_ns(text: &str) -> Result<u64, &'static str> {
    const SHAPE: &str = "not a date-time YYYY-MM-DDTHH:MM:SS";
    let t = text.trim();
    let t = t.strip_suffix('Z').unwrap_or(t);
    let (date, time) = t.split_at_checked(10).ok_or(SHAPE)?;
    let time = time
        .strip_prefix('T')
        .or_else(|| time.strip_prefix(' '))
        .ok_or(SHAPE)?;
    let mut d = date.split('-');
    let mut next = |n| d.next().and_then(|s| digits(s, n)).ok_or(SHAPE);
    let (y, mo, da) = (next(4)?, next(2)?, next(2)?);
    let (hms, frac) = match time.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (time, None),
    };
    let mut h = hms.split(':');
    let mut next = |n| h.next().and_then(|s| digits(s, n)).ok_or(SHAPE);
    let (hh, mi, ss) = (next(2)?, next(2)?, next(2)?);
    if d.next().is_some() || h.next().is_some() {
        return Err(SHAPE);
    }
    let y = i64::from(y);
    if !(1..=12).contains(&mo) {
        return Err("month is not 1–12");
    }
    if da == 0 || da > days_in_month(y, mo) {
        return Err("no such day in that month");
    }
    if hh > 23 || mi > 59 || ss > 60 {
        return Err("hour, minute or second out of range");
    }
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let v: u64 = f.parse().map_err(|_| SHAPE)?;
            v * 10u64.pow(9 - f.len() as u32)
        }
        Some(_) => return Err("fraction of a second is not 1–9 digits"),
    };
    const RANGE: &str = "before 1970 or after 2554";
    let secs = days_from_civil(y, mo, da) * 86_400 + i64::from(hh * 3600 + mi * 60 + ss);
    let secs = u64::try_from(secs).map_err(|_| RANGE)?;
    secs.checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(nanos))
        .ok_or(RANGE)
}

/// Writes `YYYY-MM-DDTHH:MM:SSZ` (with `.nnnnnnnnn` before the `Z` when the fraction is not
/// zero). The `Z` says UTC: without it browsers and Node read the time as local (vscpd
/// writes it too).
pub(crate) fn write_ns(out: &mut String, ns: u64) {
    write_ns_form(out, ns, true);
}

/// Writes the date-time of `ns`, with the UTC `Z` or (`utc_z` false) in the legacy form
/// without it.
pub(crate) fn write_ns_form(out: &mut String, ns: u64, utc_z: bool) {
    use std::fmt::Write;
    let secs = ns / 1_000_000_000;
    let frac = ns % 1_000_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if frac != 0 {
        let _ = write!(out, ".{frac:09}");
    }
    if utc_z {
        out.push('Z');
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` for nanoseconds since the Unix epoch.
#[must_use]
pub fn utc_string(ns: u64) -> String {
    let mut s = String::with_capacity(30);
    write_ns(&mut s, ns);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn known_dates() {
        assert_eq!(read_ns("1970-01-01T00:00:00"), Ok(0));
        assert_eq!(
            read_ns("2001-11-02T18:00:01"),
            Ok(1_004_724_001_000_000_000)
        );
        assert_eq!(
            read_ns("2001-11-02 18:00:01Z"),
            Ok(1_004_724_001_000_000_000)
        );
        assert_eq!(
            read_ns("2001-11-02T18:00:01.25Z"),
            Ok(1_004_724_001_250_000_000)
        );
        assert!(read_ns("2000-02-30T00:00:00").is_err());
        assert!(read_ns("1969-12-31T23:59:59").is_err());
        assert!(read_ns("9999-12-31T23:59:59").is_err());
        assert!(read_ns("2001-11-02").is_err());
        assert!(read_ns("2001-11-02T18:00:01.1234567890").is_err());
        assert_eq!(read_ns("2026-13-05T10:00:00Z"), Err("month is not 1–12"));
        assert_eq!(
            read_ns("2026-12-05"),
            Err("not a date-time YYYY-MM-DDTHH:MM:SS")
        );
    }

    #[test]
    fn write_then_parse() {
        for ns in [
            0,
            1_004_724_001_000_000_000,
            1_700_000_000_123_456_789,
            4_102_444_800_000_000_001,
        ] {
            let mut s = String::new();
            write_ns(&mut s, ns);
            assert_eq!(read_ns(&s), Ok(ns), "{s}");
        }
    }
}
