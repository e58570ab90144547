//! Unix seconds as the date strings clients and operators read: Flask's HTTP dates and
//! RFC 3339, and back.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Unix seconds as an HTTP date, the way Flask serialises datetimes in JSON.
pub fn http_date(unix: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// A moment an operator wrote: Unix seconds, or an RFC 3339 date-time
/// (`2026-12-01T00:00:00Z`).
pub fn parse_instant(value: &str) -> Option<i64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(seconds);
    }
    OffsetDateTime::parse(value, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_format_like_flask_and_rfc3339() {
        assert_eq!(
            super::http_date(1_795_442_712),
            "Mon, 23 Nov 2026 14:05:12 GMT"
        );
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn instants_are_unix_seconds_or_rfc3339() {
        assert_eq!(super::parse_instant(" 1795442712 "), Some(1_795_442_712));
        assert_eq!(
            super::parse_instant("2026-11-23T14:05:12Z"),
            Some(1_795_442_712)
        );
        assert_eq!(
            super::parse_instant("2026-11-23T15:05:12+01:00"),
            Some(1_795_442_712)
        );
        assert_eq!(super::parse_instant("next tuesday"), None);
    }
}
