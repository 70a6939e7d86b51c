//! What a run's measurements mean: the marginal costs over the floor, the goals (each with its
//! value, its target and whether it is met), the Markdown table and the chart.
//!
//! The goals are marginal ratios (issue 19). A whole request is mostly the floor, HTTP over
//! loopback and the middleware every request passes, which is larger or smaller on each
//! machine; the ratio of two whole requests moves with it. The cost of a check itself, request
//! minus floor, measured in the same round, does not depend on what sits under both.

use serde_json::{json, Map, Value};

use super::{dpop, median, round};
use super::{
    FLOOR, FULL_SET_FLOOR, FULL_SET_PHASE, LOGIN, ME, ME_CACHE_OFF, POSTGRES_LOOKUP, REFRESH, SQLITE_LOOKUP,
};

fn figure(report: &Value, phase: &str, field: &str) -> f64 {
    report["phases"][phase][field].as_f64().unwrap_or(f64::NAN)
}

fn by_round(report: &Value, phase: &str, field: &str) -> Vec<f64> {
    let listed = report["phases"][phase][field].as_array().cloned().unwrap_or_default();
    listed.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect()
}

/// The floor a phase is measured over: its own server's.
fn floor_of(phase: &str) -> &'static str {
    if phase == FULL_SET_PHASE {
        FULL_SET_FLOOR
    } else {
        FLOOR
    }
}

/// Each phase's CPU per request over its server's floor in the same round (server plus
/// PostgreSQL), round by round, with the median and the spread.
pub fn marginals(report: &Value) -> Value {
    let mut out = Map::new();
    for (name, _) in in_order(report).into_iter().filter(|(name, _)| name != FLOOR && name != FULL_SET_FLOOR)
    {
        let floor = by_round(report, floor_of(&name), "cpu_us_by_round");
        let server = by_round(report, &name, "cpu_us_by_round");
        let database = by_round(report, &name, "database_cpu_us_by_round");
        let mut rounds: Vec<f64> =
            server.iter().zip(&database).zip(&floor).map(|((s, d), f)| s + d - f).collect();
        let listed: Vec<f64> = rounds.iter().map(|m| round(*m, 2)).collect();
        let spread = [
            rounds.iter().copied().fold(f64::INFINITY, f64::min),
            rounds.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ];
        out.insert(
            name,
            json!({ "median": round(median(&mut rounds), 2), "min": round(spread[0], 2), "max": round(spread[1], 2), "by_round": listed }),
        );
    }
    Value::Object(out)
}

/// marginal(`over`) / marginal(`under`): the ratio of the medians, and the spread of the
/// rounds' own ratios.
fn marginal_ratio(report: &Value, over: &str, under: &str) -> (f64, [f64; 2]) {
    let marginal = &report["marginal_cpu_us"];
    let median_of = |phase: &str| marginal[phase]["median"].as_f64().unwrap_or(f64::NAN);
    let rounds = |phase: &str| by_round_of(&marginal[phase]);
    let ratios: Vec<f64> = rounds(over).iter().zip(rounds(under)).map(|(o, u)| o / u).collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (median_of(over) / median_of(under), [round(low, 1), round(high, 1)])
}

fn by_round_of(value: &Value) -> Vec<f64> {
    value["by_round"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

/// A goal the value must reach: `>= target`.
fn at_least(value: f64, target: f64, note: &str) -> Value {
    json!({ "value": round(value, 2), "goal": format!(">= {target}{note}"), "met": value >= target, "better": "higher" })
}

/// A goal the value must stay within: `<= target`.
fn at_most(value: f64, target: f64, note: &str) -> Value {
    json!({ "value": round(value, 2), "goal": format!("<= {target}{note}"), "met": value <= target, "better": "lower" })
}

/// Not a goal: shown beside one, so "met" is null.
fn reference(value: f64) -> Value {
    json!({ "value": round(value, 2), "goal": "(for reference)", "met": null })
}

/// The issues' goals, each with the measured value and whether it is met.
pub fn goals(report: &Value) -> Value {
    let mut goals = Map::new();
    for more in [cost_goals(report), load_goals(report), equality_goals(report), revocation_goals(report)] {
        goals.extend(more);
    }
    goals.extend(growth_goals(report));
    goals.extend(instruction_figures(report));
    if let Value::Object(more) = dpop::goals(report) {
        goals.extend(more);
    }
    Value::Object(goals)
}

/// What each design's check costs: marginal ratios (the goals), whole-request ones (reference).
fn cost_goals(report: &Value) -> Map<String, Value> {
    let cpu = |phase: &str| figure(report, phase, "cpu_us_per_request");
    let with_database = |phase: &str| cpu(phase) + figure(report, phase, "database_cpu_us_per_request");
    let (sqlite, sqlite_spread) = marginal_ratio(report, SQLITE_LOOKUP, ME);
    let (postgres, postgres_spread) = marginal_ratio(report, POSTGRES_LOOKUP, ME);
    let mut goals = Map::new();
    let mut insert = |name: &str, value: Value| goals.insert(name.to_owned(), value);
    insert("marginal_sqlite_lookup_over_me", with_spread(at_least(sqlite, 10.0, ""), sqlite_spread));
    insert(
        "marginal_postgres_lookup_over_me",
        with_spread(at_least(postgres, 40.0, " (server + PostgreSQL CPU)"), postgres_spread),
    );
    insert("cpu_me_over_floor", at_most(cpu(ME) / cpu(FLOOR), 1.3, ""));
    insert("cpu_sqlite_lookup_over_me", reference(cpu(SQLITE_LOOKUP) / cpu(ME)));
    insert("cpu_postgres_lookup_over_me", reference(with_database(POSTGRES_LOOKUP) / cpu(ME)));
    goals
}

fn with_spread(mut goal: Value, spread: [f64; 2]) -> Value {
    goal["rounds_min_max"] = json!(spread);
    goal
}

/// Memory, and staying responsive under floods of logins and of password-change guesses.
fn load_goals(report: &Value) -> Map<String, Value> {
    let flood = &report["login_flood"];
    let p99 = flood["me_during_flood"]["p99_ms"].as_f64().unwrap_or(f64::NAN)
        / flood["me_idle"]["p99_ms"].as_f64().unwrap_or(f64::NAN);
    let idle_rss = report["idle_rss_mb_after_start"]["sqlite"].as_f64().unwrap_or(f64::NAN);
    let flood_rss = flood["me_during_flood"]["peak_rss_mb"].as_f64().unwrap_or(f64::NAN);
    let during_guesses = &report["password_change_flood"]["login_during_flood"];
    let slowest_login = during_guesses["max_ms_of_all_rounds"].as_f64().unwrap_or(f64::NAN);
    let mut slowest = at_most(slowest_login, 2000.0, ", and every login 200");
    slowest["met"] = json!(slowest_login <= 2000.0 && during_guesses["errors"].as_u64() == Some(0));
    let mut goals = Map::new();
    goals.insert("me_p99_flood_over_idle".into(), at_most(p99, 2.0, ""));
    goals.insert("idle_rss_mb".into(), at_most(idle_rss, 40.0, ""));
    goals.insert("login_flood_peak_rss_mb".into(), at_most(flood_rss, 120.0, ""));
    goals.insert("login_during_password_change_flood_max_ms".into(), slowest);
    goals
}

/// Timing equality (`timing.rs`): the value is the 99 % interval's half-width as a share of
/// the mean; met when the interval contains 0 and that share is under 2 %.
fn equality_goals(report: &Value) -> Map<String, Value> {
    let mut goals = Map::new();
    for (name, test) in [
        ("login_timing_unknown_vs_wrong_password", "login"),
        ("reset_timing_known_vs_unknown_email", "password_reset_request"),
    ] {
        let measured = &report["timing_equality"][test];
        let Some(half_width) = measured["ci99_half_width_pct_of_mean"].as_f64() else { continue };
        goals.insert(
            name.into(),
            json!({
                "value": half_width,
                "goal": "99 % CI of the mean difference contains 0 and is narrower than ± 2 % of the mean (value: its half-width, %)",
                "met": measured["met"],
                "better": "lower",
                "difference_ms": measured["difference_ms"],
                "ci99_ms": measured["ci99_ms"],
            }),
        );
    }
    goals
}

/// Headless revocation: a full set costs `/api/me` nothing measurable, and a revocation reaches
/// another instance within a second (16 s with its notifications cut); a refresh of a revoked
/// session is refused, as always.
fn revocation_goals(report: &Value) -> Map<String, Value> {
    let cpu = |phase: &str| figure(report, phase, "cpu_us_per_request");
    let mut goals = Map::new();
    goals.insert(
        // Named apart from the first run's goal, which divided by the other server's floor.
        "cpu_me_with_10k_revocations_over_its_servers_floor".into(),
        at_most(cpu(FULL_SET_PHASE) / cpu(FULL_SET_FLOOR), 1.15, ""),
    );
    let marginal = |phase: &str| report["marginal_cpu_us"][phase]["median"].as_f64().unwrap_or(f64::NAN);
    goals.insert(
        "marginal_us_me_with_10k_revocations_minus_me".into(),
        reference(marginal(FULL_SET_PHASE) - marginal(ME)),
    );
    let revocation = &report["revocation"];
    if let Some(revocations) = revocation["revocations"].as_u64() {
        let field = |name: &str| revocation[name].as_f64().unwrap_or(f64::NAN);
        let refused = field("refreshes_of_revoked_sessions_refused");
        goals.insert("revocation_propagation_p50_ms".into(), reference(field("propagation_p50_ms")));
        goals
            .insert("revocation_propagation_p99_ms".into(), at_most(field("propagation_p99_ms"), 1000.0, ""));
        goals.insert(
            "revocation_propagation_notifications_cut_max_ms".into(),
            at_most(field("propagation_cut_max_ms"), 16000.0, ""),
        );
        let mut all_refused = at_least(refused, revocations as f64, "");
        all_refused["goal"] = json!(format!("{revocations} of {revocations} get 401"));
        goals.insert("refresh_of_revoked_session_refused".into(), all_refused);
    }
    goals
}

/// 1,000 refreshes of one session grow the database by less than 64 KB (issue 14).
fn growth_goals(report: &Value) -> Map<String, Value> {
    let mut goals = Map::new();
    for (engine, measured) in report["database_growth"].as_object().cloned().unwrap_or_default() {
        let kb = measured["grown_bytes"].as_f64().unwrap_or(f64::NAN) / 1024.0;
        goals.insert(
            format!("database_growth_per_1000_refreshes_kb_{engine}"),
            at_most(kb, 64.0, " (less than)"),
        );
    }
    goals
}

/// Instructions per request over the floor's, from callgrind: the marginal ratio again, in a
/// unit that does not move with the machine, and what a full revocation set adds to
/// `/api/me` (both for reference beside the CPU-time goals).
fn instruction_figures(report: &Value) -> Map<String, Value> {
    let counted = &report["instructions"]["per_request"];
    let count = |phase: &str| counted[phase].as_f64();
    let mut goals = Map::new();
    let (Some(floor), Some(me), Some(sqlite)) = (count(FLOOR), count(ME), count(SQLITE_LOOKUP)) else {
        return goals;
    };
    goals.insert(
        "instructions_marginal_sqlite_lookup_over_me".into(),
        reference((sqlite - floor) / (me - floor)),
    );
    if let Some(full_set) = count(FULL_SET_PHASE) {
        goals.insert("instructions_me_with_10k_revocations_minus_me".into(), reference(full_set - me));
    }
    goals
}

/// The phases in reading order: the floor, the two designs, then the database-bound endpoints.
pub fn in_order(report: &Value) -> Vec<(String, Value)> {
    let order = [
        FLOOR,
        ME,
        FULL_SET_FLOOR,
        FULL_SET_PHASE,
        ME_CACHE_OFF,
        dpop::PHASES[0].1,
        dpop::PHASES[1].1,
        SQLITE_LOOKUP,
        POSTGRES_LOOKUP,
        REFRESH,
        "/api/auth/refresh, PostgreSQL",
        LOGIN,
    ];
    let phases = report["phases"].as_object().cloned().unwrap_or_default();
    let rank = |name: &str| order.iter().position(|known| *known == name).unwrap_or(order.len());
    let mut listed: Vec<(String, Value)> = phases.into_iter().collect();
    listed.sort_by_key(|(name, _)| rank(name));
    listed
}

/// The run as Markdown, for the README: the phases, then the goals.
pub fn table(report: &Value) -> String {
    let mut out = String::from(
        "| endpoint | server CPU µs/request | + PostgreSQL's CPU | over the floor, µs (rounds' min–max) | requests/s | p50 ms | p99 ms | peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (name, p) in in_order(report) {
        let marginal = &report["marginal_cpu_us"][&name];
        let over = match marginal["median"].as_f64() {
            Some(median) => format!("{median} ({}–{})", marginal["min"], marginal["max"]),
            None => "–".into(),
        };
        let database = p["database_cpu_us_per_request"].as_f64().filter(|cpu| *cpu > 0.0);
        out += &format!(
            "| {name} | {} | {} | {over} | {} | {} | {} | {} |\n",
            p["cpu_us_per_request"],
            database.map_or("–".into(), |cpu| cpu.to_string()),
            p["requests_per_second"],
            p["p50_ms"],
            p["p99_ms"],
            p["peak_rss_mb"]
        );
    }
    out + "\n" + &goals_table(&report["goals"])
}

/// The goals as Markdown.
pub fn goals_table(goals: &Value) -> String {
    let mut out = String::from("| goal | measured | target | met |\n|---|---:|---|---|\n");
    for (name, g) in goals.as_object().into_iter().flatten() {
        out += &format!("| {name} | {} | {} | {} |\n", g["value"], g["goal"].as_str().unwrap_or(""), met(g));
    }
    out
}

fn met(goal: &Value) -> &'static str {
    match goal["met"].as_bool() {
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    }
}

/// A horizontal bar chart of server CPU per request, one bar per phase.
pub fn chart(report: &Value) -> String {
    let phases: Vec<(String, f64)> = in_order(report)
        .into_iter()
        .map(|(name, v)| {
            let total = v["cpu_us_per_request"].as_f64().unwrap_or(0.0)
                + v["database_cpu_us_per_request"].as_f64().unwrap_or(0.0);
            (name, total)
        })
        .collect();
    let (label_width, bar_width, row) = (330.0, 420.0, 28.0);
    // A log scale: a login costs a thousand times what the others do.
    let scale = |us: f64| us.max(1.0).log10();
    let longest = phases.iter().map(|p| scale(p.1)).fold(1.0, f64::max);
    let height = 60.0 + row * phases.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="13">
<text x="10" y="22" font-size="15" font-weight="bold">CPU time per request, µs (server + PostgreSQL; median of rounds; log scale)</text>
"#,
        w = label_width + bar_width + 90.0
    );
    for (i, (name, value)) in phases.iter().enumerate() {
        let y = 40.0 + row * i as f64;
        let width = bar_width * scale(*value) / longest;
        let colour = if name.contains("session lookup") {
            "#c0392b"
        } else if name.contains("/api/me") {
            "#27ae60"
        } else {
            "#7f8c8d"
        };
        svg += &format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{name}</text><rect x=\"{bx}\" y=\"{y}\" width=\"{width:.1}\" height=\"18\" fill=\"{colour}\"/><text x=\"{vx:.1}\" y=\"{ty}\">{value:.1}</text>\n",
            lx = label_width - 8.0,
            ty = y + 14.0,
            bx = label_width,
            vx = label_width + width + 6.0,
            name = name.replace('&', "&amp;").replace('<', "&lt;"),
        );
    }
    svg + "</svg>\n"
}
