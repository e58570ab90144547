//! Database URLs: the spellings the seeds use, made into what sqlx reads, and redacted for logs.

/// SQLAlchemy spells its URLs `postgresql+psycopg2://…` or `mysql+pymysql://…`; sqlx wants
/// `postgres://…` and `mysql://…`.
pub fn normalise_database_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest))
            if scheme.starts_with("postgresql") || scheme.starts_with("postgres+") =>
        {
            format!("postgres://{rest}")
        }
        Some((scheme, rest)) if scheme.starts_with("mysql+") || scheme == "mariadb" => {
            format!("mysql://{rest}")
        }
        _ => url.to_owned(),
    }
}

/// A URL fit for logs and error messages: the password is replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{}:***{}", &url[..scheme_end], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Encodes a URL userinfo or path component (passwords may hold `@`, `/`, `:`).
pub fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://gatehouse.db"), "sqlite://gatehouse.db");
    }

    #[test]
    fn sqlalchemy_urls_are_normalised() {
        assert_eq!(
            normalise_database_url("postgresql+psycopg2://u:p@h/db"),
            "postgres://u:p@h/db"
        );
        assert_eq!(
            normalise_database_url("mysql+pymysql://u:p@h/db"),
            "mysql://u:p@h/db"
        );
        assert_eq!(normalise_database_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn reserved_characters_are_percent_encoded() {
        assert_eq!(percent_encode("p@ss/word:1"), "p%40ss%2Fword%3A1");
    }
}
