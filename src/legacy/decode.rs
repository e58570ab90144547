//! Decoding a legacy row by what its columns turn out to be: text, or UTF-8 bytes (bytea,
//! BLOB, binary collations) for email, password and name; a boolean, an integer or text such
//! as `true`/`f`/`1` for admin. So VARCHAR, TEXT, BLOB/bytea, TINYINT or BOOLEAN columns all
//! work on each backend without knowing the schema.

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::source::{Layout, LegacyRow, RowProblem};

/// Decodes one row in the select list's order.
pub(super) fn decode<'r, R>(row: &'r R, layout: Layout) -> Result<LegacyRow, RowProblem>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    i16: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let email = text(row, 0)
        .ok_or(RowProblem::Unreadable("email"))?
        .ok_or(RowProblem::NullEmail)?;
    let password = text(row, 1)
        .ok_or(RowProblem::Unreadable("password"))?
        .ok_or(RowProblem::NullPassword)?;
    let name = match layout.name {
        Some(i) => text(row, i).ok_or(RowProblem::Unreadable("name"))?,
        None => None,
    };
    let username = match layout.username {
        Some(i) => text(row, i).ok_or(RowProblem::Unreadable("username"))?,
        None => None,
    };
    let admin = match layout.admin {
        Some(i) => flag(row, i)?,
        None => None,
    };
    Ok(LegacyRow {
        email,
        password,
        name,
        username,
        admin,
    })
}

/// Text, or bytes that are UTF-8 (bytea, BLOB, binary collations); `None` when neither.
fn text<'r, R>(row: &'r R, i: usize) -> Option<Option<String>>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    if let Ok(value) = row.try_get::<Option<String>, _>(i) {
        return Some(value);
    }
    match row.try_get::<Option<Vec<u8>>, _>(i) {
        Ok(None) => Some(None),
        Ok(Some(bytes)) => String::from_utf8(bytes).ok().map(Some),
        Err(_) => None,
    }
}

/// A boolean, an integer (non-zero is true), or text such as `true`/`f`/`1`.
fn flag<'r, R>(row: &'r R, i: usize) -> Result<Option<bool>, RowProblem>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    i16: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    if let Ok(value) = row.try_get::<Option<bool>, _>(i) {
        return Ok(value);
    }
    if let Ok(value) = row.try_get::<Option<i64>, _>(i) {
        return Ok(value.map(|v| v != 0));
    }
    if let Ok(value) = row.try_get::<Option<i32>, _>(i) {
        return Ok(value.map(|v| v != 0));
    }
    if let Ok(value) = row.try_get::<Option<i16>, _>(i) {
        return Ok(value.map(|v| v != 0));
    }
    match text(row, i) {
        Some(None) => Ok(None),
        Some(Some(value)) => parse_flag(&value).map(Some).ok_or(RowProblem::BadAdmin),
        None => Err(RowProblem::BadAdmin),
    }
}

fn parse_flag(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_text_values() {
        for (value, expected) in [
            ("TRUE", Some(true)),
            ("t", Some(true)),
            ("0", Some(false)),
            ("", Some(false)),
            ("maybe", None),
        ] {
            assert_eq!(parse_flag(value), expected, "{value:?}");
        }
    }
}
