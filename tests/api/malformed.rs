//! Bad input of every kind gets a 4xx with the JSON error body: never a 5xx, never a panic.

use reqwest::{Method, StatusCode};
use tokenpair::api::paths;

use crate::helpers::spawn_app;

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: StatusCode,
    code: &'static str,
}

fn case(
    name: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: impl Into<Vec<u8>>,
    status: StatusCode,
    code: &'static str,
) -> Case {
    Case { name, method: Method::POST, path, content_type, body: body.into(), status, code }
}

const JSON: Option<&str> = Some("application/json");

fn cases() -> Vec<Case> {
    use StatusCode as S;
    let mut cases = Vec::new();
    for path in [paths::LOGIN, paths::REGISTER] {
        cases.extend([
            case(
                "no content type",
                path,
                None,
                r#"{"email":"a@b.co","password":"12345678"}"#,
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            case(
                "text/plain",
                path,
                Some("text/plain"),
                r#"{"email":"a@b.co","password":"12345678"}"#,
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            case(
                "form encoded",
                path,
                Some("application/x-www-form-urlencoded"),
                "email=a&password=b",
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            case("empty body", path, JSON, "", S::BAD_REQUEST, "malformed_json"),
            case("truncated JSON", path, JSON, r#"{"email":"#, S::BAD_REQUEST, "malformed_json"),
            case("not JSON", path, JSON, "hello", S::BAD_REQUEST, "malformed_json"),
            case(
                "invalid UTF-8",
                path,
                JSON,
                vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'],
                S::BAD_REQUEST,
                "malformed_json",
            ),
            case(
                "missing password",
                path,
                JSON,
                r#"{"email":"a@b.co"}"#,
                S::UNPROCESSABLE_ENTITY,
                "invalid_body",
            ),
            case(
                "missing email",
                path,
                JSON,
                r#"{"password":"12345678"}"#,
                S::UNPROCESSABLE_ENTITY,
                "invalid_body",
            ),
            case(
                "wrong types",
                path,
                JSON,
                r#"{"email":5,"password":true}"#,
                S::UNPROCESSABLE_ENTITY,
                "invalid_body",
            ),
            case(
                "null fields",
                path,
                JSON,
                r#"{"email":null,"password":null}"#,
                S::UNPROCESSABLE_ENTITY,
                "invalid_body",
            ),
            case("an array", path, JSON, "[]", S::UNPROCESSABLE_ENTITY, "invalid_body"),
            case("a string", path, JSON, r#""x""#, S::UNPROCESSABLE_ENTITY, "invalid_body"),
            case(
                "deep nesting",
                path,
                JSON,
                format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
                S::UNPROCESSABLE_ENTITY,
                "invalid_body",
            ),
            case(
                "over 16 KB",
                path,
                JSON,
                format!(r#"{{"email":"a@b.co","password":"{}"}}"#, "x".repeat(17 * 1024)),
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
        ]);
    }
    cases.extend([
        Case {
            name: "GET on login",
            method: Method::GET,
            path: paths::LOGIN,
            content_type: None,
            body: vec![],
            status: S::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
        },
        Case {
            name: "GET on refresh",
            method: Method::GET,
            path: paths::REFRESH,
            content_type: None,
            body: vec![],
            status: S::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
        },
        Case {
            name: "DELETE on me",
            method: Method::DELETE,
            path: paths::ME,
            content_type: None,
            body: vec![],
            status: S::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
        },
        Case {
            name: "unknown API path",
            method: Method::GET,
            path: "/api/nope",
            content_type: None,
            body: vec![],
            status: S::NOT_FOUND,
            code: "not_found",
        },
        Case {
            name: "unknown auth path",
            method: Method::POST,
            path: "/api/auth/unknown",
            content_type: None,
            body: vec![],
            status: S::NOT_FOUND,
            code: "not_found",
        },
    ]);
    cases
}

#[tokio::test]
async fn every_malformed_request_gets_a_4xx_json_error_and_never_a_5xx() {
    let app = spawn_app().await;
    for case in cases() {
        let mut request = app.client.request(case.method.clone(), app.url(case.path)).body(case.body.clone());
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("sent");
        assert_eq!(response.status(), case.status, "status for {}", case.name);
        let body: serde_json::Value =
            response.json().await.unwrap_or_else(|_| panic!("JSON body for {}", case.name));
        assert_eq!(body["error"], case.code, "code for {}: {body}", case.name);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "message for {}", case.name);
    }
}

#[tokio::test]
async fn a_control_login_after_all_that_still_works() {
    let app = spawn_app().await;
    for case in cases() {
        let _ = app.client.request(case.method, app.url(case.path)).body(case.body).send().await;
    }
    let (email, _) = app.registered_user().await;
    let response = app.login_with(&crate::helpers::browser(), &email, crate::helpers::PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
}
