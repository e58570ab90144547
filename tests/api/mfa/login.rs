//! Signing in with a second factor: two steps on the JSON contracts, the code appended to the
//! password on Basic; drift; recovery codes; the mfa_token's life; the lockout.

use serde_json::json;

use super::*;

backend_tests!(
    auth_login_takes_two_steps,
    json_login_takes_two_steps,
    a_json_login_by_username_takes_two_steps,
    basic_login_takes_the_code_after_the_password,
    each_basic_attempt_runs_one_password_verification,
    one_step_of_drift_is_accepted_two_are_not,
    a_recovery_code_signs_in_once,
    an_mfa_token_is_single_use_and_expires,
    wrong_codes_count_toward_the_lockout,
);

fn ada() -> serde_json::Value {
    json!({"email": "ada@example.com", "password": PASSWORD})
}

async fn auth_login_takes_two_steps(app: TestApp) {
    let (secret, _, _) = user_with_totp(&app, "ada@example.com").await;
    // A wrong password says nothing of the second factor.
    let wrong = app
        .auth_login(json!({"email": "ada@example.com", "password": "wrong password"}))
        .await;
    let body = wrong.assert_failed(401, "Incorrect email or password");
    assert!(body.get("mfa_token").is_none() && body.get("mfa_required").is_none());

    let mfa_token = mfa_token_of(&app.auth_login(ada()).await);
    let wrong_code = login_mfa(&app, json!({"mfa_token": mfa_token, "code": "000000"})).await;
    // (1 in 10^6 that 000000 is the code: then the next line would catch it.)
    wrong_code.assert_failed(401, "Invalid code");
    let reply = login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "code": code_now(&app, &secret)}),
    )
    .await;
    let body = reply.assert_success(200, "User login successful.");
    let access = body["jwt_token"].as_str().unwrap();
    assert!(body["refresh_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    let claims = app.validate_token(access).await;
    claims.assert_status(200);
    let claims = claims.json();
    assert_eq!(claims["username"], "ada@example.com");
    assert_eq!(claims["amr"], json!(["pwd", "otp"]), "{claims}");
    assert_eq!(claims["acr"], "aal2", "{claims}");
    assert_eq!(claims["auth_time"], app.now(), "{claims}");
    // Malformed second steps are 400s.
    login_mfa(&app, json!({"mfa_token": "x"}))
        .await
        .assert_status(400);
    login_mfa(
        &app,
        json!({"mfa_token": "x", "code": "1", "recovery_code": "2"}),
    )
    .await
    .assert_status(400);
    login_mfa(&app, json!({"code": "123456"}))
        .await
        .assert_status(400);
}

async fn json_login_takes_two_steps(app: TestApp) {
    let (secret, _, _) = user_with_totp(&app, "ada@example.com").await;
    let mfa_token = mfa_token_of(&app.json_login(ada()).await);
    let reply = login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "code": code_now(&app, &secret)}),
    )
    .await;
    reply.assert_status(200);
    let body = reply.json();
    // JSON `/login`'s own answer, not `/auth/login`'s.
    assert!(body.get("jwt_token").is_none(), "{body}");
    let access = body["token"].as_str().expect("token");
    assert!(body["refresh_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    let claims = app.validate_token(access).await.json();
    assert_eq!(claims["amr"], json!(["pwd", "otp"]), "{claims}");
}

/// Seed 003's login by username: the second step completes it, and wrong codes count toward
/// the lockout of the name it used.
async fn a_json_login_by_username_takes_two_steps(app: TestApp) {
    let added = app
        .cli(
            &["user", "add", "grace@example.com", "--username", "grace"],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let login = json!({"email": "grace@example.com", "password": PASSWORD});
    let token = app.auth_login(login).await.json()["jwt_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let enrolled = enrol(&app, &token).await;
    next_step(&app);
    confirm(&app, &token, &code_now(&app, &enrolled.secret))
        .await
        .assert_status(200);
    next_step(&app);

    let by_username = json!({"username": "grace", "password": PASSWORD});
    let mfa_token = mfa_token_of(&app.json_login(by_username.clone()).await);
    for _ in 0..5 {
        login_mfa(&app, json!({"mfa_token": mfa_token, "code": "abcdef"}))
            .await
            .assert_failed(401, "Invalid code");
    }
    // Five wrong codes: the name "grace" is locked, password or not.
    app.json_login(by_username).await.assert_status(429);
    let code = code_now(&app, &enrolled.secret);
    login_mfa(&app, json!({"mfa_token": mfa_token, "code": code}))
        .await
        .assert_status(429);
}

async fn basic_login_takes_the_code_after_the_password(app: TestApp) {
    let (secret, _, _) = user_with_totp(&app, "ada@example.com").await;
    // No code: the password was right, but that is not enough.
    app.basic_login("ada@example.com", PASSWORD)
        .await
        .assert_text(401, "MFA code required");
    // A wrong code, or a right code after a wrong password: plain invalid credentials.
    let code = code_now(&app, &secret);
    let wrong_code = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    app.basic_login("ada@example.com", &format!("{PASSWORD}{wrong_code}"))
        .await
        .assert_text(401, "Invalid credentials");
    app.basic_login("ada@example.com", &format!("wrong password{code}"))
        .await
        .assert_text(401, "Invalid credentials");
    let reply = app
        .basic_login("ada@example.com", &format!("{PASSWORD}{code}"))
        .await;
    reply.assert_status(200);
    let claims = app.validate_token(&reply.text).await.json();
    assert_eq!(claims["amr"], json!(["pwd", "otp"]), "{claims}");
    assert_eq!(claims["acr"], "aal2", "{claims}");
    // The same code again: refused.
    app.basic_login("ada@example.com", &format!("{PASSWORD}{code}"))
        .await
        .assert_text(401, "Invalid credentials");

    // A user without a second factor whose password ends in six digits signs in as ever.
    app.signup_user("bob@example.com", "bobs password 123456", "Bob")
        .await;
    app.basic_login("bob@example.com", "bobs password 123456")
        .await
        .assert_status(200);
    app.basic_login("bob@example.com", "bobs password ")
        .await
        .assert_text(401, "Invalid credentials");
}

/// Whatever the second factor, a Basic attempt runs exactly one password verification, and a
/// wrong password reads the same for a user with TOTP, one without, and no user at all.
async fn each_basic_attempt_runs_one_password_verification(app: TestApp) {
    let (secret, _, _) = user_with_totp(&app, "ada@example.com").await;
    app.signup_user("bob@example.com", PASSWORD, "Bob").await;
    let code = code_now(&app, &secret);
    let attempts = [
        (
            "ada@example.com",
            PASSWORD.to_owned(),
            401,
            "MFA code required",
        ),
        (
            "ada@example.com",
            format!("wrong password{code}"),
            401,
            "Invalid credentials",
        ),
        (
            "ada@example.com",
            "wrong password".to_owned(),
            401,
            "Invalid credentials",
        ),
        (
            "bob@example.com",
            format!("wrong password{code}"),
            401,
            "Invalid credentials",
        ),
        (
            "nobody@example.com",
            format!("{PASSWORD}{code}"),
            401,
            "Invalid credentials",
        ),
        ("ada@example.com", format!("{PASSWORD}{code}"), 200, ""),
    ];
    for (email, password, status, text) in attempts {
        let before = app.password_jobs_run();
        let reply = app.basic_login(email, &password).await;
        assert_eq!(app.password_jobs_run() - before, 1, "{email} {password}");
        if status == 200 {
            reply.assert_status(200);
        } else {
            reply.assert_text(status, text);
        }
    }
}

async fn one_step_of_drift_is_accepted_two_are_not(app: TestApp) {
    let (secret, _, _) = user_with_totp(&app, "ada@example.com").await;
    // Well past the confirming code's step, so that no refusal below is a replay's.
    app.clock.advance(10 * 30);
    let now = app.now();
    let app = &app;
    let basic = |at: i64| {
        let password = format!("{PASSWORD}{}", code_at(&secret, at));
        async move { app.basic_login("ada@example.com", &password).await }
    };
    basic(now - 60)
        .await
        .assert_text(401, "Invalid credentials");
    basic(now + 60)
        .await
        .assert_text(401, "Invalid credentials");
    basic(now - 30).await.assert_status(200);
    basic(now + 30).await.assert_status(200);
}

async fn a_recovery_code_signs_in_once(app: TestApp) {
    let (_, codes, token) = user_with_totp(&app, "ada@example.com").await;
    let mfa_token = mfa_token_of(&app.auth_login(ada()).await);
    // Typed loosely: case, dashes and spaces do not matter.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let reply = login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": typed}),
    )
    .await;
    let access = reply.assert_success(200, "User login successful.")["jwt_token"].clone();
    let claims = app.validate_token(access.as_str().unwrap()).await.json();
    assert_eq!(claims["amr"], json!(["pwd", "rc"]), "{claims}");
    assert_eq!(claims["acr"], "aal2", "{claims}");
    let mfa_token = mfa_token_of(&app.auth_login(ada()).await);
    login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": codes[0]}),
    )
    .await
    .assert_failed(401, "Invalid code");
    login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": codes[1]}),
    )
    .await
    .assert_status(200);
    assert_eq!(mfa_status(&app, &token).await["recovery_codes_left"], 8);
}

async fn an_mfa_token_is_single_use_and_expires(app: TestApp) {
    let (secret, codes, _) = user_with_totp(&app, "ada@example.com").await;
    let mfa_token = mfa_token_of(&app.auth_login(ada()).await);
    login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "code": code_now(&app, &secret)}),
    )
    .await
    .assert_status(200);
    // Used: even with a good recovery code it is refused.
    login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": codes[0]}),
    )
    .await
    .assert_failed(401, "Invalid or expired mfa_token; log in again");

    let mfa_token = mfa_token_of(&app.auth_login(ada()).await);
    app.clock.advance(301);
    login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": codes[0]}),
    )
    .await
    .assert_failed(401, "Invalid or expired mfa_token; log in again");
    login_mfa(
        &app,
        json!({"mfa_token": "not a token", "recovery_code": codes[0]}),
    )
    .await
    .assert_failed(401, "Invalid or expired mfa_token; log in again");
}

async fn wrong_codes_count_toward_the_lockout(app: TestApp) {
    let (secret, codes, _) = user_with_totp(&app, "ada@example.com").await;
    let mfa_token = mfa_token_of(&app.auth_login(ada()).await);
    // The default lockout: 5 failures. A right password does not clear them.
    for _ in 0..3 {
        login_mfa(
            &app,
            json!({"mfa_token": mfa_token, "recovery_code": "aaaaa-aaaaa"}),
        )
        .await
        .assert_failed(401, "Invalid code");
    }
    let mfa_token = mfa_token_of(&app.auth_login(ada()).await);
    let wrong = format!("{PASSWORD}{}", "000000");
    let basic = app.basic_login("ada@example.com", &wrong).await;
    if code_now(&app, &secret) != "000000" {
        basic.assert_text(401, "Invalid credentials");
    }
    login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": "aaaaa-aaaaa"}),
    )
    .await
    .assert_failed(401, "Invalid code");
    // Locked: neither a right code nor the password gets in.
    let locked = login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": codes[0]}),
    )
    .await;
    locked.assert_status(429);
    app.auth_login(ada()).await.assert_status(429);
}
