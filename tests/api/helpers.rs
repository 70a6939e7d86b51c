use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::SET_COOKIE;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::migrate::MigrateDatabase;
use tempfile::TempDir;
use tokenpair::api::{paths, TokenResponse, CSRF_HEADER, CSRF_HEADER_VALUE};
use tokenpair::config::Config;
use tokenpair::server::{build_state, router, serve};
use tokenpair::state::AppState;

pub const PASSWORD: &str = "correct horse battery";
pub const COOKIE_NAME: &str = "__Secure-tokenpair-refresh";
/// How long a test waits for mail to be queued, sent or received.
pub const MAIL_WAIT: Duration = Duration::from_secs(20);

/// A running app with its own database, and a browser-like client that keeps cookies.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub client: Client,
    /// A client that keeps no cookies, for requests that present exactly what the test says.
    pub plain: Client,
    pub database: Arc<TestDatabase>,
    settings: Vec<(String, String)>,
}

/// The variable naming a PostgreSQL server (e.g. `postgres://postgres@127.0.0.1:5432`). When it
/// is set, every test gets a fresh database on that server instead of a SQLite file.
pub const POSTGRES_VAR: &str = "TEST_POSTGRES_URL";

/// One test's database: a SQLite file in a temporary folder, or a fresh PostgreSQL database
/// that is dropped (and its connections ended) when the test ends.
pub struct TestDatabase {
    pub url: String,
    /// The PostgreSQL server this database lives on, when it is one.
    pub postgres_server: Option<String>,
    _folder: Option<TempDir>,
}

impl TestDatabase {
    pub async fn new() -> Self {
        match std::env::var(POSTGRES_VAR) {
            Ok(server) if !server.is_empty() => {
                let server = server.trim_end_matches('/').to_owned();
                let url = format!("{server}/tokenpair_test_{}", uuid::Uuid::new_v4().simple());
                sqlx::Postgres::create_database(&url).await.expect("create a PostgreSQL test database");
                Self { url, postgres_server: Some(server), _folder: None }
            }
            _ => {
                let folder = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", folder.path().join("test.db").display());
                Self { url, postgres_server: None, _folder: Some(folder) }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres_server.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.is_postgres() {
            return;
        }
        // Drop runs inside the test's runtime, which cannot block on a future: use a thread.
        let url = self.url.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(sqlx::Postgres::force_drop_database(&url)).map_err(std::io::Error::other)
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.url);
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Rate limits high enough that only the rate-limit tests meet them.
pub const GENEROUS_LIMITS: [(&str, &str); 3] = [
    ("LOGIN_RATE_LIMIT", "100000/1m"),
    ("LOGIN_ACCOUNT_RATE_LIMIT", "100000/1m"),
    ("REFRESH_RATE_LIMIT", "100000/1m"),
];

/// Starts the app with extra settings, e.g. `[("ACCESS_TOKEN_TTL", "2")]`.
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    spawn_app_on(Arc::new(TestDatabase::new().await), owned(settings)).await
}

pub fn owned(settings: &[(&str, &str)]) -> Vec<(String, String)> {
    settings.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
}

/// Starts the app on `database`: a new test's, or another running app's (a second instance,
/// or the same one restarted). A `DATABASE_URL` among `settings` reaches the database another
/// way (through a proxy, say).
pub async fn spawn_app_on(database: Arc<TestDatabase>, settings: Vec<(String, String)>) -> TestApp {
    let config = config_for(&database, &settings);
    spawn_configured(database, settings, config).await
}

/// Starts the app with `config`, for the settings no environment variable reaches.
pub async fn spawn_configured(
    database: Arc<TestDatabase>,
    settings: Vec<(String, String)>,
    config: Config,
) -> TestApp {
    let state = try_build_state(&config).await.expect("app starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
    let addr: SocketAddr = listener.local_addr().expect("local address");
    let app = router(state.clone());
    tokio::spawn(async move { serve(listener, app, &config, std::future::pending()).await });
    TestApp {
        base: format!("http://{addr}"),
        state,
        client: browser(),
        plain: Client::new(),
        database,
        settings,
    }
}

/// The settings of an app on `database`: the test's `settings`, the database, generous limits.
pub fn config_for(database: &TestDatabase, settings: &[(String, String)]) -> Config {
    Config::from_lookup(|name| {
        let given = settings.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
        let default = || match name {
            "DATABASE_URL" => Some(database.url.clone()),
            _ => GENEROUS_LIMITS.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string()),
        };
        given.or_else(default)
    })
    .expect("valid test settings")
}

/// Builds the app's state as start-up does, or says why it cannot.
pub async fn try_build_state(config: &Config) -> Result<AppState, tokenpair::server::StartupError> {
    let leptos_options = leptos::config::LeptosOptions::builder().output_name("tokenpair").build();
    build_state(config, leptos_options).await
}

/// A client that stores and sends cookies the way a browser does.
pub fn browser() -> Client {
    Client::builder().cookie_store(true).build().expect("http client")
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

impl TestApp {
    /// Another instance of the app, with the same settings, sharing this one's database.
    pub async fn another_instance(&self) -> TestApp {
        spawn_app_on(Arc::clone(&self.database), self.settings.clone()).await
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

    /// Registers from a client with no cookie store (`plain`): the response carries the refresh
    /// cookie, and no session this app's `client` holds is ended by it (a registration ends the
    /// session of the refresh cookie its browser presents).
    pub async fn register_elsewhere(&self, email: &str) -> Response {
        self.post_json(&self.plain, paths::REGISTER, &json!({ "email": email, "password": PASSWORD })).await
    }

    /// Registers `email` with `client` (which then holds its cookies); the status.
    pub async fn register_with(&self, client: &Client, email: &str) -> StatusCode {
        let body = json!({ "email": email, "password": PASSWORD });
        self.post_json(client, paths::REGISTER, &body).await.status()
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

    /// Asks `/api/me` with `access_token` every 10 ms, each answer 200, until it answers 401;
    /// how long that took, and the 401. Fails after `limit`.
    pub async fn until_me_refuses(&self, access_token: &str, limit: Duration) -> (Duration, Response) {
        let started = Instant::now();
        loop {
            let response = self.me(access_token).await;
            if response.status() == StatusCode::UNAUTHORIZED {
                return (started.elapsed(), response);
            }
            assert_eq!(response.status(), StatusCode::OK);
            assert!(started.elapsed() < limit, "still accepted after {limit:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Makes key `kid` sign from now on and retires the others, as if its activation delay had
/// passed (the test edits the database directly; instances see it at their next reload).
pub async fn activate_key_now(app: &TestApp, kid: &str) {
    let db = &app.state.db;
    let activate = sqlx::query("UPDATE signing_keys SET activates_at = 0 WHERE kid = $1").bind(kid);
    activate.execute(db).await.expect("activate the new key");
    let retire = sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE kid <> $2");
    retire.bind(tokenpair::auth::unix_now()).bind(kid).execute(db).await.expect("retire the others");
}

/// What the server answered to `per_session` concurrent refreshes of each session (`answers`
/// grouped by session, in order): children issued beyond one per session, failed answers, and
/// the one child of each session to carry on with.
pub struct Rotations {
    pub double_issued: usize,
    pub errors: usize,
    pub children: Vec<String>,
}

pub fn tally_rotations(answers: &[Response], per_session: usize) -> Rotations {
    let mut tally = Rotations { double_issued: 0, errors: 0, children: Vec::new() };
    for answers in answers.chunks(per_session) {
        let children: std::collections::HashSet<Option<String>> =
            answers.iter().map(refresh_token_of).collect();
        tally.errors += answers.iter().filter(|answer| answer.status() != StatusCode::OK).count();
        tally.double_issued += children.len() - 1;
        tally.children.push(children.into_iter().next().flatten().unwrap_or_default());
    }
    tally
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

/// Waits until the outbox holds exactly `count` mails.
pub async fn until_queued(app: &TestApp, count: i64) {
    eventually(|| async {
        let pending = tokenpair::db::outbox::pending(&app.state.db).await.expect("count the outbox");
        (pending == count).then_some(()).ok_or(format!("the outbox holds {pending}, not {count}"))
    })
    .await;
}

/// Asks `check` every 20 ms until it answers `Ok`; fails with its last complaint after
/// [`MAIL_WAIT`].
pub async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + MAIL_WAIT;
    loop {
        match check().await {
            Ok(()) => return,
            Err(complaint) => assert!(Instant::now() < deadline, "{complaint}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
