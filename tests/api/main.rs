//! Integration tests: the real app on 127.0.0.1:0 with a fresh database per test, spoken to
//! over HTTP with a cookie-aware client. A SQLite file by default; with `TEST_POSTGRES_URL` set
//! (a server, e.g. `postgres://postgres@127.0.0.1:5432`), a new PostgreSQL database per test,
//! dropped afterwards. `scripts/test.sh` runs both passes.

mod helpers;
mod mail_sink;
mod oidc_provider;
mod proof;
mod proof_key;
mod support;

mod brute_force;
mod client_ip;
mod connections;
mod cookie;
mod csrf;
mod dpop;
mod faults;
mod forged;
mod growth;
mod headers;
mod headless_revocation;
mod hosts;
mod instances;
mod key_storage;
mod keys;
mod lab;
mod login;
mod logout;
mod logs;
mod malformed;
mod me;
mod metrics;
mod openapi;
mod rate_limit;
mod recovery;
mod refresh;
mod register;
mod revocation;
mod rotation;
mod sessions;
mod social_login;
