//! Integration tests: the real app on 127.0.0.1:0 with a fresh SQLite database per test,
//! spoken to over HTTP with a cookie-aware client.

mod helpers;

mod cookie;
mod csrf;
mod forged;
mod headers;
mod keys;
mod lab;
mod login;
mod logout;
mod malformed;
mod me;
mod metrics;
mod openapi;
mod rate_limit;
mod refresh;
mod register;
mod rotation;
mod sessions;
