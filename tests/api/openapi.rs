//! The OpenAPI document is generated from the routes; this checks it against what answers.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_is_3_1_and_every_operation_in_it_is_a_live_route() {
    let app = spawn_app().await;
    let document: Value =
        app.client.get(app.url("/api/openapi.json")).send().await.expect("sent").json().await.expect("JSON");

    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", document["openapi"]);
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            operations.push((method.to_uppercase(), path.replace("{id}", "some-id")));
        }
    }
    for (method, path) in &operations {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let response = app.client.request(method.clone(), app.url(path)).send().await.expect("sent");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let unrouted = status == StatusCode::METHOD_NOT_ALLOWED || body["error"] == "not_found";
        assert!(!unrouted, "{method} {path} is documented but not routed ({status})");
    }
    let expected = [
        ("POST", "/api/auth/register"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/auth/refresh"),
        ("POST", "/api/auth/logout"),
        ("GET", "/api/me"),
        ("GET", "/api/auth/sessions"),
        ("DELETE", "/api/auth/sessions/some-id"),
        ("POST", "/api/auth/logout-others"),
        ("POST", "/api/auth/logout-all"),
        ("POST", "/api/auth/password"),
        ("GET", "/api/auth/events"),
        ("GET", "/api/auth/sessions/current/chain"),
        ("GET", "/.well-known/jwks.json"),
        ("GET", "/api/auth/oidc/providers"),
        ("GET", "/api/auth/oidc/{name}/start"),
        ("GET", "/api/auth/oidc/{name}/callback"),
        ("POST", "/api/auth/oidc/{name}/link"),
        ("GET", "/api/auth/identities"),
        ("DELETE", "/api/auth/identities/{provider}"),
        ("POST", "/api/auth/password-reset"),
        ("POST", "/api/auth/password-reset/confirm"),
        ("POST", "/api/auth/verify-email"),
        ("POST", "/api/auth/verify-email/confirm"),
    ];
    for (method, path) in expected {
        assert!(
            operations.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is not documented"
        );
    }
    assert_eq!(operations.len(), expected.len(), "{operations:?}");
}

#[tokio::test]
async fn the_document_states_the_limits_the_server_enforces_and_what_each_cookie_endpoint_needs() {
    use tokenpair::api::{EMAIL_MAX_BYTES, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
    let app = spawn_app().await;
    let document: Value =
        app.client.get(app.url("/api/openapi.json")).send().await.expect("sent").json().await.expect("JSON");
    let credentials = &document["components"]["schemas"]["Credentials"]["properties"];
    assert_eq!(credentials["password"]["minLength"], PASSWORD_MIN_CHARS, "{credentials}");
    assert_eq!(credentials["password"]["maxLength"], PASSWORD_MAX_CHARS, "{credentials}");
    assert_eq!(credentials["email"]["maxLength"], EMAIL_MAX_BYTES, "{credentials}");
    assert_eq!(credentials["email"]["format"], "email", "{credentials}");
    let change = &document["components"]["schemas"]["PasswordChange"]["properties"]["new_password"];
    assert_eq!(
        (change["minLength"].clone(), change["maxLength"].clone()),
        (PASSWORD_MIN_CHARS.into(), PASSWORD_MAX_CHARS.into())
    );
    for path in ["/api/auth/refresh", "/api/auth/logout"] {
        let parameters = document["paths"][path]["post"]["parameters"].as_array().expect("parameters");
        let named =
            |name: &str, place: &str| parameters.iter().any(|p| p["name"] == name && p["in"] == place);
        assert!(named("X-Requested-With", "header"), "{path}: {parameters:?}");
        assert!(named("__Secure-tokenpair-refresh", "cookie"), "{path}: {parameters:?}");
    }
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let mut codes: Vec<String> = document["paths"][path][method]["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(
        statuses("/api/auth/register", "post"),
        ["201", "202", "400", "403", "409", "413", "415", "422", "429", "503"]
    );
    assert_eq!(
        statuses("/api/auth/password", "post"),
        ["200", "400", "401", "403", "413", "415", "422", "429", "503"]
    );
    assert_eq!(statuses("/api/me", "get"), ["200", "401"]);
}
