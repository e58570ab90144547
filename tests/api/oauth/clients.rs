//! `gatehouse client add|list|remove`, and the client secret's secrecy: shown once by `add`,
//! never by `list`, never in a log line, and a removed client refused at once.

use base64::Engine as _;

use super::*;
use crate::cli::{stderr, stdout};

backend_tests!(
    client_add_list_remove,
    client_add_refuses_an_empty_name_and_remove_an_unknown_id,
    a_removed_client_is_refused_at_once,
    the_client_secret_is_never_logged,
);

async fn client_add_list_remove(app: TestApp) {
    // Act
    let billing = app.add_client("billing service").await;
    let search = app.add_client("search").await;
    let listed = app.cli(&["client", "list"], None).await;
    let removed = app.cli(&["client", "remove", &billing.id], None).await;
    let listed_after = app.cli(&["client", "list"], None).await;

    // Assert: a 256-bit secret, base64url; ids distinct; list shows ids and names only.
    assert_eq!(billing.secret.len(), 43, "{billing:?}");
    assert!(billing
        .secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    // Ids are hex: never starting with `-`, which `client remove ID` would take for an option.
    for id in [&billing.id, &search.id] {
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
    }
    assert_ne!(billing.id, search.id);
    assert_ne!(billing.secret, search.secret);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let list = stdout(&listed);
    let line_of = |id: &str| {
        list.lines()
            .find(|line| line.starts_with(id))
            .unwrap_or_else(|| panic!("{id} not listed: {list}"))
            .to_owned()
    };
    assert!(line_of(&billing.id).ends_with("billing service"), "{list}");
    assert!(line_of(&search.id).contains(&rfc3339_year()), "{list}");
    for secret in [&billing.secret, &search.secret] {
        assert!(
            !list.contains(secret.as_str()),
            "list shows a secret: {list}"
        );
    }
    assert!(removed.status.success(), "{}", stderr(&removed));
    let list_after = stdout(&listed_after);
    assert!(!list_after.contains(&billing.id), "{list_after}");
    assert!(list_after.contains(&search.id), "{list_after}");
}

/// The current year, as `client list` writes it in its RFC 3339 `created` column.
fn rfc3339_year() -> String {
    let years = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 31_556_952;
    format!("{}-", 1970 + years)
}

async fn client_add_refuses_an_empty_name_and_remove_an_unknown_id(app: TestApp) {
    let empty = app.cli(&["client", "add", "  "], None).await;
    let unknown = app.cli(&["client", "remove", "no-such-client"], None).await;
    let listed = app.cli(&["client", "list"], None).await;

    assert_eq!(empty.status.code(), Some(1), "{}", stdout(&empty));
    assert!(
        stderr(&empty).contains("name is empty"),
        "{}",
        stderr(&empty)
    );
    assert_eq!(unknown.status.code(), Some(1), "{}", stdout(&unknown));
    assert!(
        stderr(&unknown).contains("no client"),
        "{}",
        stderr(&unknown)
    );
    assert_eq!(
        stdout(&listed).lines().count(),
        1,
        "only the header: {}",
        stdout(&listed)
    );
}

async fn a_removed_client_is_refused_at_once(app: TestApp) {
    let client = app.add_client("billing").await;
    let other = app.add_client("search").await;
    let tokens = signup(&app, "ada@example.com").await;
    assert_eq!(
        introspected(&app, &client, &tokens.access).await["active"],
        true
    );

    let removed = app.cli(&["client", "remove", &client.id], None).await;
    assert!(removed.status.success(), "{}", stderr(&removed));

    for reply in [
        app.introspect(&client, &tokens.access).await,
        app.revoke(&client, &tokens.access).await,
    ] {
        reply.assert_status(401);
        assert_eq!(reply.json(), json!({"error": "invalid_client"}));
    }
    app.validate_token(&tokens.access).await.assert_status(200);
    assert_eq!(
        introspected(&app, &other, &tokens.access).await["active"],
        true
    );
}

async fn the_client_secret_is_never_logged(mut app: TestApp) {
    // Arrange: the real binary writing JSON at debug, so every line the code can write is seen.
    let server = ServerProcess::start(&app, &[("LOG_FORMAT", "json"), ("RUST_LOG", "debug")]);
    app.address = server.address.clone();
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;
    let wrong = ClientCredentials {
        id: client.id.clone(),
        secret: format!("{}-wrong", client.secret),
    };

    // Act: every path a secret takes, right and wrong, on both endpoints.
    let mut replies = vec![
        app.introspect(&client, &tokens.access).await,
        app.introspect(&client, &tokens.refresh).await,
        app.introspect(&wrong, &tokens.access).await,
        app.revoke(&wrong, &tokens.access).await,
        app.revoke(&client, &tokens.access).await,
        app.revoke(&client, &tokens.refresh).await,
    ];
    replies.push(app.get("/live").await);
    let last_id = replies.last().unwrap().header("x-request-id");
    server.wait_for_access_line(&last_id);
    let lines = server.log.lock().unwrap().clone();
    drop(server);

    // Assert: the requests were logged (so the check below looked at something), and no line
    // holds the secret, the wrong one, the Basic header or a whole token.
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [200, 200, 401, 401, 200, 200, 200]);
    let oauth_lines = lines
        .iter()
        .filter(|line| line.contains("gatehouse::access") && line.contains("/oauth/"))
        .count();
    assert_eq!(
        oauth_lines, 6,
        "one access line per OAuth request: {lines:?}"
    );
    let basic = |c: &ClientCredentials| {
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.id, c.secret))
    };
    let forbidden = [
        client.secret.clone(),
        wrong.secret.clone(),
        basic(&client),
        basic(&wrong),
        tokens.access.clone(),
        tokens.refresh.clone(),
    ];
    for line in &lines {
        for secret in &forbidden {
            assert!(
                !line.contains(secret.as_str()),
                "a log line holds {secret:.12}…: {line}"
            );
        }
    }
}
