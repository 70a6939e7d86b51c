use std::net::SocketAddr;

use reqwest::header::SET_COOKIE;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokenpair::api::{paths, TokenResponse, CSRF_HEADER, CSRF_HEADER_VALUE};
use tokenpair::config::Config;
use tokenpair::server::{router, serve, AppState};

pub const PASSWORD: &str = "correct horse battery";
pub const COOKIE_NAME: &str = "__Secure-tokenpair-refresh";

/// A running app with its own database, and a browser-like client that keeps cookies.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub client: Client,
    /// A client that keeps no cookies, for requests that present exactly what the test says.
    pub plain: Client,
    data: TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Rate limits high enough that only the rate-limit tests meet them.
const GENEROUS_LIMITS: [(&str, &str); 3] = [
    ("LOGIN_RATE_LIMIT", "100000/1m"),
    ("LOGIN_ACCOUNT_RATE_LIMIT", "100000/1m"),
    ("REFRESH_RATE_LIMIT", "100000/1m"),
];

/// Starts the app with extra settings, e.g. `[("ACCESS_TOKEN_TTL", "2")]`.
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    let data = tempfile::tempdir().expect("temporary folder");
    let database_url = format!("sqlite://{}", data.path().join("test.db").display());
    let config = Config::from_lookup(|name| {
        if name == "DATABASE_URL" {
            return Some(database_url.clone());
        }
        settings
            .iter()
            .chain(GENEROUS_LIMITS.iter())
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
    .expect("valid test settings");
    let leptos_options = leptos::config::LeptosOptions::builder().output_name("tokenpair").build();
    let state = AppState::new(&config, leptos_options).await.expect("app starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
    let addr: SocketAddr = listener.local_addr().expect("local address");
    let app = router(state.clone());
    tokio::spawn(serve(listener, app, std::future::pending()));
    TestApp { base: format!("http://{addr}"), state, client: browser(), plain: Client::new(), data }
}

/// A client that stores and sends cookies the way a browser does.
pub fn browser() -> Client {
    Client::builder().cookie_store(true).build().expect("http client")
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

impl TestApp {
    /// The folder holding this app's database.
    pub fn data_path(&self) -> &std::path::Path {
        self.data.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_json(&self, client: &Client, path: &str, body: &Value) -> Response {
        client.post(self.url(path)).json(body).send().await.expect("request sent")
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post_json(&self.client, paths::REGISTER, &json!({ "email": email, "password": password })).await
    }

    pub async fn login_with(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post_json(client, paths::LOGIN, &json!({ "email": email, "password": password })).await
    }

    /// Registers a fresh user with `self.client`, which then holds the refresh cookie.
    pub async fn registered_user(&self) -> (String, TokenResponse) {
        let email = unique_email();
        let response = self.register(&email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        (email, response.json().await.expect("token response"))
    }

    /// A refresh request as the browser app builds it, to add to before sending.
    pub fn refresh_request(&self, client: &Client) -> reqwest::RequestBuilder {
        client.post(self.url(paths::REFRESH)).header(CSRF_HEADER, CSRF_HEADER_VALUE)
    }

    /// A refresh as the browser app sends it: the cookie (from `client`'s store) and the
    /// custom header.
    pub async fn refresh_with(&self, client: &Client) -> Response {
        client
            .post(self.url(paths::REFRESH))
            .header(CSRF_HEADER, CSRF_HEADER_VALUE)
            .send()
            .await
            .expect("sent")
    }

    /// A refresh presenting exactly `refresh_token`, from a client with no cookies of its own.
    pub async fn refresh_presenting(&self, refresh_token: &str) -> Response {
        self.plain
            .post(self.url(paths::REFRESH))
            .header(CSRF_HEADER, CSRF_HEADER_VALUE)
            .header(reqwest::header::COOKIE, format!("{COOKIE_NAME}={refresh_token}"))
            .send()
            .await
            .expect("sent")
    }

    pub async fn logout_with(&self, client: &Client) -> Response {
        client
            .post(self.url(paths::LOGOUT))
            .header(CSRF_HEADER, CSRF_HEADER_VALUE)
            .send()
            .await
            .expect("sent")
    }

    pub async fn me(&self, access_token: &str) -> Response {
        self.client.get(self.url(paths::ME)).bearer_auth(access_token).send().await.expect("request sent")
    }
}

/// The raw `Set-Cookie` header for the refresh cookie, if the response has one.
pub fn refresh_set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{COOKIE_NAME}=")))
        .map(str::to_owned)
}

/// The refresh token value a response set (empty for a removal).
pub fn refresh_token_of(response: &Response) -> Option<String> {
    let header = refresh_set_cookie(response)?;
    let value = header.split(';').next()?.split_once('=')?.1;
    Some(value.to_owned())
}

/// Asserts an error response: the status, the stable code, and a human message.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "status for {code}");
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"], code, "error code in {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "message in {body}");
    body
}
