//! tokenpair: the access-token / refresh-token login flow, end to end, as the article "How to
//! secure your apps properly with JWT and keep your users logged in for longer" (the design
//! article, in comments here) describes it.
//!
//! A short-lived JWT access token lives only in the browser app's memory and authenticates API
//! calls headlessly; a long-lived refresh token lives in an HttpOnly cookie and is rotated, after a
//! thorough database check, every time the access token is renewed. The README's code tour walks
//! through the files below.

/// Wire types shared by the server and the browser: request and response bodies, API paths.
pub mod api;
/// The HTML shell and the router: which page answers which path.
pub mod app;
/// Browser side of the flow: the token in memory, the one way to call the API, silent refresh.
pub mod client;
/// Small UI pieces used by several pages: navigation, form fields, the "needs login" wrapper.
pub mod components;
/// One module per page.
pub mod pages;

/// Server side of the flow: keys, tokens, passwords, cookies, refresh rotation.
#[cfg(feature = "ssr")]
pub mod auth;
/// Settings read from the environment.
#[cfg(feature = "ssr")]
pub mod config;
/// Every SQL statement, behind plain async functions.
#[cfg(feature = "ssr")]
pub mod db;
/// The one error type of the HTTP API and its JSON body.
#[cfg(feature = "ssr")]
pub mod error;
/// The JSON API's routes and handlers (thin: parse, call `auth`, respond).
#[cfg(feature = "ssr")]
pub mod http;
/// Mail: the outbox in the database, and delivery over SMTP (or into the log).
#[cfg(feature = "ssr")]
pub mod mail;
/// Per-endpoint counts of headless authentications and SQL statements; `GET /metrics`.
/// Below `db/`: it knows nothing of the layers that count into it.
#[cfg(feature = "ssr")]
pub mod metrics;
/// Start-up: builds the state, assembles the router, serves it and shuts it down.
#[cfg(feature = "ssr")]
pub mod server;
/// The application state: a struct of the parts handlers need, read only by `http/`.
#[cfg(feature = "ssr")]
pub mod state;
