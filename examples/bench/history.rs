//! Every full run is kept (issue 19): `bench/results.json` holds each one with its machine
//! (CPU model, kernel) and date, and, for each goal, the worst of them, which is the figure the
//! README quotes. A run with shorter settings is a trial: `bench/trial.json`, not kept.

use serde_json::{json, Map, Value};

use super::{report, Failure};

const RESULTS: &str = "bench/results.json";
const TRIAL: &str = "bench/trial.json";

/// Dates `run`, adds it to the kept runs if it is `full`, and writes the files and the tables.
pub fn keep(mut run: Value, full: bool) -> Result<(), Failure> {
    let now = time::OffsetDateTime::now_utc();
    run["date"] = json!(now.format(&time::format_description::well_known::Rfc3339)?);
    std::fs::create_dir_all("bench")?;
    println!("{}", report::table(&run));
    if !full {
        std::fs::write(TRIAL, serde_json::to_string_pretty(&run)? + "\n")?;
        println!("a trial run (shorter than the full settings): wrote {TRIAL}, kept nothing");
        return Ok(());
    }
    std::fs::write("bench/results.svg", report::chart(&run))?;
    let mut runs = kept_runs()?;
    runs.push(run);
    let worst = worst_of(&runs);
    println!("the worst of {} runs:\n\n{}", runs.len(), report::goals_table(&worst));
    let results = json!({
        "about": "every full run of scripts/bench.sh, oldest first; `worst` is each goal's worst run",
        "worst": worst,
        "runs": runs,
    });
    std::fs::write(RESULTS, serde_json::to_string_pretty(&results)? + "\n")?;
    println!("wrote {RESULTS} and bench/results.svg");
    Ok(())
}

/// The runs kept so far (none, if the file is missing or in the one-run format of before).
fn kept_runs() -> Result<Vec<Value>, Failure> {
    let Ok(text) = std::fs::read_to_string(RESULTS) else { return Ok(Vec::new()) };
    let kept: Value = serde_json::from_str(&text)?;
    Ok(kept["runs"].as_array().cloned().unwrap_or_default())
}

/// For each goal any run has, the worst run's figure: a miss before a pass, and among equals
/// the value furthest on the wrong side ("better": "higher" or "lower"), with the run's date
/// and CPU.
fn worst_of(runs: &[Value]) -> Value {
    let mut worst: Map<String, Value> = Map::new();
    for run in runs {
        for (name, goal) in run["goals"].as_object().into_iter().flatten() {
            let mut candidate = goal.clone();
            candidate["run"] = json!(format!(
                "{}, {}",
                run["date"].as_str().unwrap_or("?"),
                run["machine"]["cpu"].as_str().unwrap_or("?")
            ));
            let replace = worst.get(name).is_none_or(|so_far| is_worse(&candidate, so_far));
            if replace {
                worst.insert(name.clone(), candidate);
            }
        }
    }
    Value::Object(worst)
}

fn is_worse(candidate: &Value, so_far: &Value) -> bool {
    let missed = |goal: &Value| goal["met"] == json!(false);
    if missed(candidate) != missed(so_far) {
        return missed(candidate);
    }
    let (a, b) = (candidate["value"].as_f64(), so_far["value"].as_f64());
    match (candidate["better"].as_str(), a, b) {
        (Some("higher"), Some(a), Some(b)) => a < b,
        (Some("lower"), Some(a), Some(b)) => a > b,
        _ => false,
    }
}
