//! Enrolment: a pending secret, confirmed by a code; its QR code; removal; new recovery codes.

use serde_json::json;

use super::*;

backend_tests!(
    a_secret_is_active_only_once_a_right_code_confirms_it,
    the_qr_code_decodes_to_the_otpauth_uri,
    a_new_enrolment_replaces_a_pending_one,
    removal_and_new_recovery_codes,
    an_operator_can_remove_a_lost_second_factor,
);

async fn an_operator_can_remove_a_lost_second_factor(app: TestApp) {
    let (_, _, token) = user_with_totp(&app, "ada@example.com").await;
    let login = json!({"email": "ada@example.com", "password": PASSWORD});
    mfa_token_of(&app.auth_login(login.clone()).await);
    let reset = app
        .cli(&["user", "reset-mfa", "Ada@Example.com"], None)
        .await;
    let out = String::from_utf8_lossy(&reset.stdout);
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    assert!(out.contains("removed the second factor"), "{out}");
    assert_eq!(mfa_status(&app, &token).await["totp"], "none");
    app.auth_login(login).await.assert_status(200);
    let again = app
        .cli(&["user", "reset-mfa", "ada@example.com"], None)
        .await;
    assert!(String::from_utf8_lossy(&again.stdout).contains("has no second factor"));
    let nobody = app
        .cli(&["user", "reset-mfa", "nobody@example.com"], None)
        .await;
    assert!(!nobody.status.success());
}

async fn a_secret_is_active_only_once_a_right_code_confirms_it(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    assert_eq!(mfa_status(&app, &token).await["totp"], "none");
    let enrolled = enrol(&app, &token).await;
    assert_eq!(base32_decode(&enrolled.secret).len(), 20, "160-bit secret");
    let status = mfa_status(&app, &token).await;
    assert_eq!(status["totp"], "pending");
    assert!(!status.to_string().contains(&enrolled.secret));

    // Pending is not active: the password alone still signs in.
    let login = json!({"email": "ada@example.com", "password": PASSWORD});
    app.auth_login(login.clone()).await.assert_status(200);

    let wrong = format!(
        "{:06}",
        (code_now(&app, &enrolled.secret).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    confirm(&app, &token, &wrong)
        .await
        .assert_failed(401, "Invalid code");
    confirm(&app, &token, "12345")
        .await
        .assert_failed(401, "Invalid code");
    bearer_post(&app, &token, "/auth/mfa/totp/confirm", Some(json!({})))
        .await
        .assert_status(400);
    assert_eq!(mfa_status(&app, &token).await["totp"], "pending");
    // Activation needs a recent sign-in: a stolen token alone cannot lock the owner out.
    app.clock.advance(601);
    let stale = confirm(&app, &token, &code_now(&app, &enrolled.secret)).await;
    assert_eq!(stale.json()["reauth_required"], true, "{}", stale.text);
    let token = app.auth_login(login.clone()).await.json()["jwt_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let reply = confirm(&app, &token, &code_now(&app, &enrolled.secret)).await;
    let body = reply.assert_success(
        200,
        "TOTP is active; keep these recovery codes somewhere safe",
    );
    let codes = body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let status = mfa_status(&app, &token).await;
    assert_eq!(status["totp"], "active");
    assert_eq!(status["recovery_codes_left"], 10);

    // Active: the password alone no longer signs in, and a second enrolment is refused.
    mfa_token_of(&app.auth_login(login).await);
    bearer_post(&app, &token, "/auth/mfa/totp", None)
        .await
        .assert_status(409);
    confirm(&app, &token, &code_now(&app, &enrolled.secret))
        .await
        .assert_status(409);
    // Without a token, nothing.
    let anonymous = app.post_json("/auth/mfa/totp", &json!({})).await;
    anonymous.assert_status(401);
}

/// Rasterises the SVG `qrcode` renders (one path of `M{x} {y}h{w}v{h}H{x}V{y}` rectangles on
/// a white background), one pixel per SVG unit, for `rqrr`.
fn rasterise(svg: &str) -> (usize, usize, Vec<u8>) {
    let number = |name: &str| -> usize {
        let at = svg.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        svg[at..].split('"').next().unwrap().parse().unwrap()
    };
    let (width, height) = (number("width"), number("height"));
    let mut pixels = vec![255u8; width * height];
    let path = svg
        .split(" d=\"")
        .nth(1)
        .expect("a path")
        .split('"')
        .next()
        .unwrap();
    for rect in path.split('M').filter(|r| !r.is_empty()) {
        // "x y" "h" w "v" h "H" x "V" y
        let parts: Vec<&str> = rect.split(['h', 'v', 'H', 'V']).collect();
        let (x, y) = parts[0].split_once(' ').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let (w, h): (usize, usize) = (parts[1].parse().unwrap(), parts[2].parse().unwrap());
        for row in y..y + h {
            for column in x..x + w {
                pixels[row * width + column] = 0;
            }
        }
    }
    (width, height, pixels)
}

async fn the_qr_code_decodes_to_the_otpauth_uri(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let enrolled = enrol(&app, &token).await;
    let uri = &enrolled.otpauth_uri;
    assert!(
        uri.starts_with("otpauth://totp/Gatehouse:ada%40example.com?"),
        "{uri}"
    );
    assert!(
        uri.contains(&format!("secret={}", enrolled.secret)),
        "{uri}"
    );
    assert!(uri.contains("issuer=Gatehouse"), "{uri}");
    // The defaults every app assumes (SHA-1, 6 digits, 30 s) may be left out, never changed.
    for (name, default) in [("digits", "6"), ("period", "30"), ("algorithm", "SHA1")] {
        let stated = uri.contains(&format!("{name}="));
        assert!(
            !stated || uri.contains(&format!("{name}={default}")),
            "{uri}"
        );
    }

    assert!(enrolled.qr_svg.contains("<svg"));
    let (width, height, pixels) = rasterise(&enrolled.qr_svg);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the SVG");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(&content, uri);
}

async fn a_new_enrolment_replaces_a_pending_one(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let first = enrol(&app, &token).await;
    let second = enrol(&app, &token).await;
    assert_ne!(first.secret, second.secret);
    confirm(&app, &token, &code_now(&app, &first.secret))
        .await
        .assert_failed(401, "Invalid code");
    confirm(&app, &token, &code_now(&app, &second.secret))
        .await
        .assert_status(200);
}

async fn removal_and_new_recovery_codes(app: TestApp) {
    let (secret, old_codes, signed_up) = user_with_totp(&app, "ada@example.com").await;
    // Both need a recent sign-in (REAUTH_MAX_AGE_SECS, 600 s by default).
    app.clock.advance(601);
    let stale = app
        .send(
            app.client
                .delete(app.url("/auth/mfa/totp"))
                .bearer_auth(&signed_up),
        )
        .await;
    stale.assert_status(401);
    assert_eq!(stale.json()["reauth_required"], true, "{}", stale.text);
    let stale = bearer_post(&app, &signed_up, "/auth/mfa/recovery-codes", None).await;
    assert_eq!(stale.json()["reauth_required"], true, "{}", stale.text);
    assert_eq!(mfa_status(&app, &signed_up).await["totp"], "active");
    // A fresh sign-in, with its second factor, may.
    let login = json!({"email": "ada@example.com", "password": PASSWORD});
    let mfa_token = mfa_token_of(&app.auth_login(login).await);
    let code = code_now(&app, &secret);
    let fresh = login_mfa(&app, json!({"mfa_token": mfa_token, "code": code})).await;
    let token = fresh.json()["jwt_token"].as_str().unwrap().to_owned();

    let reply = bearer_post(&app, &token, "/auth/mfa/recovery-codes", None).await;
    reply.assert_status(200);
    let new_codes: Vec<String> = reply.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !old_codes.contains(c)));

    // An old code no longer works; a new one does.
    let login = json!({"email": "ada@example.com", "password": PASSWORD});
    let mfa_token = mfa_token_of(&app.auth_login(login.clone()).await);
    login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": old_codes[0]}),
    )
    .await
    .assert_failed(401, "Invalid code");
    login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": new_codes[0]}),
    )
    .await
    .assert_status(200);
    assert_eq!(mfa_status(&app, &token).await["recovery_codes_left"], 9);

    let removal = app
        .send(
            app.client
                .delete(app.url("/auth/mfa/totp"))
                .bearer_auth(&token),
        )
        .await;
    removal.assert_success(200, "TOTP removed");
    let status = mfa_status(&app, &token).await;
    assert_eq!(status["totp"], "none");
    assert_eq!(status["recovery_codes_left"], 0);
    app.auth_login(login).await.assert_status(200);
    // The old secret's codes mean nothing now, and there is nothing more to remove.
    let basic = app
        .basic_login(
            "ada@example.com",
            &format!("{PASSWORD}{}", code_now(&app, &secret)),
        )
        .await;
    basic.assert_text(401, "Invalid credentials");
    let again = app
        .send(
            app.client
                .delete(app.url("/auth/mfa/totp"))
                .bearer_auth(&token),
        )
        .await;
    again.assert_status(404);
    bearer_post(&app, &token, "/auth/mfa/recovery-codes", None)
        .await
        .assert_status(409);
}
