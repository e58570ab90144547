//! Table and column names from the command line or the environment: validated, then quoted.
//!
//! A name is pasted into SQL (placeholders cannot stand for identifiers), so it must first pass
//! `Ident::parse`: ASCII letters, digits and underscores, not starting with a digit, at most 64
//! characters. Such a name cannot break out of its quotes in any dialect.

use std::fmt;

use crate::store::dialect::Backend;

/// The longest identifier accepted (MySQL's limit; PostgreSQL's is 63 bytes).
pub const MAX_IDENT_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value:?} is not a valid {what}: use letters, digits and underscores, not starting with a \
     digit, at most {MAX_IDENT_CHARS} characters{hint}"
)]
pub struct IdentError {
    pub what: &'static str,
    pub value: String,
    hint: &'static str,
}

/// A validated identifier.
#[derive(Clone, PartialEq, Eq)]
pub struct Ident(String);

impl Ident {
    /// `what` names the value in the error ("table name", "email column", …).
    pub fn parse(value: &str, what: &'static str) -> Result<Self, IdentError> {
        let mut chars = value.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && value.len() <= MAX_IDENT_CHARS;
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(IdentError {
                what,
                value: value.chars().take(2 * MAX_IDENT_CHARS).collect(),
                hint: "",
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name quoted for `dialect`, so reserved words (`user`) work.
    ///
    /// - PostgreSQL folds unquoted names to lower case, and the seeds wrote their names
    ///   unquoted: the name is folded here too, so `AUTH_TABLE=Auth_User` finds the same table
    ///   seed 000 did.
    /// - SQLite gets backticks, not double quotes: it reads a double-quoted name that matches no
    ///   column as a string literal, so a mistyped column would import that text as every
    ///   user's email instead of failing.
    pub fn quoted(&self, dialect: Backend) -> String {
        match dialect {
            Backend::Postgres => format!("\"{}\"", self.0.to_ascii_lowercase()),
            Backend::Sqlite | Backend::MySql => format!("`{}`", self.0),
        }
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A table name, optionally qualified by its schema (`schema.table`; a database on MySQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub schema: Option<Ident>,
    pub table: Ident,
}

impl TableName {
    pub fn parse(value: &str) -> Result<Self, IdentError> {
        let what = "table name";
        let with_hint = |e: IdentError| IdentError {
            value: value.chars().take(2 * MAX_IDENT_CHARS).collect(),
            hint: ", optionally as schema.table",
            ..e
        };
        match value.split_once('.') {
            Some((schema, table)) => Ok(Self {
                schema: Some(Ident::parse(schema, what).map_err(with_hint)?),
                table: Ident::parse(table, what).map_err(with_hint)?,
            }),
            None => Ok(Self {
                schema: None,
                table: Ident::parse(value, what).map_err(with_hint)?,
            }),
        }
    }

    pub fn quoted(&self, dialect: Backend) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", schema.quoted(dialect), self.table.quoted(dialect)),
            None => self.table.quoted(dialect),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.table),
            None => write!(f, "{}", self.table),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_accepted_and_quoted_per_dialect() {
        let user = Ident::parse("user", "table name").unwrap();
        assert_eq!(user.quoted(Backend::Postgres), "\"user\"");
        assert_eq!(user.quoted(Backend::Sqlite), "`user`");
        assert_eq!(user.quoted(Backend::MySql), "`user`");
        for ok in ["auth_user", "_x", "Email2", &"a".repeat(64)] {
            assert!(Ident::parse(ok, "column").is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn postgres_folds_case_like_an_unquoted_name() {
        let t = TableName::parse("Public.Auth_User").unwrap();
        assert_eq!(t.quoted(Backend::Postgres), "\"public\".\"auth_user\"");
        assert_eq!(t.quoted(Backend::MySql), "`Public`.`Auth_User`");
        assert_eq!(t.to_string(), "Public.Auth_User");
    }

    #[test]
    fn anything_that_could_break_the_quotes_is_refused() {
        for bad in [
            "",
            "1user",
            "user;drop table users",
            "us\"er",
            "us`er",
            "user name",
            "a.b.c",
            ".user",
            "user.",
            "üser",
            "user\0",
            "user--",
            &"a".repeat(65),
        ] {
            assert!(TableName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Ident::parse("a.b", "email column").is_err());
    }

    #[test]
    fn the_error_is_one_clear_line() {
        let err = TableName::parse("user;drop").unwrap_err().to_string();
        assert_eq!(
            err,
            "\"user;drop\" is not a valid table name: use letters, digits and underscores, not \
             starting with a digit, at most 64 characters, optionally as schema.table"
        );
        let err = Ident::parse("e-mail", "email column")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("\"e-mail\" is not a valid email column:"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }
}
