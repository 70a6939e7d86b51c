use crate::helpers::spawn_app;

#[tokio::test]
async fn pages_carry_a_strict_csp_with_a_fresh_nonce_that_their_scripts_use() {
    let app = spawn_app().await;
    let first = app.client.get(app.url("/")).send().await.expect("sent");
    let csp = first.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    let html = first.text().await.expect("html");

    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce");
    for directive in [
        "'strict-dynamic'",
        "'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    let second = app.client.get(app.url("/")).send().await.expect("sent");
    assert!(
        !second.headers()["content-security-policy"].to_str().expect("ascii").contains(nonce),
        "nonce reused"
    );
}

#[tokio::test]
async fn every_response_gets_nosniff_and_no_referrer_and_api_answers_are_not_cached() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/api/me", "/api/nope"] {
        let response = app.client.get(app.url(path)).send().await.expect("sent");
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"), "{path}");
        assert!(
            header("content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors 'none'")),
            "{path}"
        );
        if path.starts_with("/api") {
            assert_eq!(header("cache-control").as_deref(), Some("no-store"), "{path}");
        }
    }
}

#[tokio::test]
async fn every_response_isolates_its_window_and_pages_are_never_stored() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/account", "/sessions", "/api/me", "/.well-known/jwks.json"] {
        let response = app.client.get(app.url(path)).send().await.expect("sent");
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(
            header("cross-origin-opener-policy").as_deref(),
            Some("same-origin-allow-popups"),
            "{path}"
        );
        assert_eq!(header("cross-origin-resource-policy").as_deref(), Some("same-origin"), "{path}");
        if path != "/.well-known/jwks.json" {
            // (The public key set may be cached briefly: it holds no one's data.)
            assert_eq!(header("cache-control").as_deref(), Some("no-store"), "{path}");
        }
        assert_eq!(header("strict-transport-security"), None, "plain http: no HSTS ({path})");
    }
}

#[tokio::test]
async fn an_https_origin_gets_strict_transport_security() {
    let app = crate::helpers::spawn_app_with(&[("APP_ORIGIN", "https://auth.example.com")]).await;
    let response =
        app.plain.get(app.url("/login")).header("host", "auth.example.com").send().await.expect("sent");
    let hsts = response.headers().get("strict-transport-security").and_then(|v| v.to_str().ok());
    assert_eq!(hsts, Some("max-age=31536000"));
}

/// The lab's cross-site demo hears back from the page it opened through `window.opener`: the
/// simulated other site opts out of isolation as an ordinary site would.
#[tokio::test]
async fn the_labs_other_site_keeps_the_link_to_the_page_that_opened_it() {
    let app = crate::helpers::spawn_app_with(&[("TOKENPAIR_LAB", "1")]).await;
    let other_site = app.client.get(app.url("/lab/attacker")).send().await.expect("sent");
    let coop = other_site.headers().get("cross-origin-opener-policy").and_then(|v| v.to_str().ok());
    assert_eq!(coop, Some("unsafe-none"));
}
