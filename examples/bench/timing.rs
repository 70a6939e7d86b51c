//! Timing equality as a statistical test (issue 19): does an attacker who times the answers
//! learn whether an address has an account? Two kinds of request, A and B, sent one at a time
//! on one keep-alive connection, interleaved (A B A B …), so that whatever drifts on the
//! machine meets both alike. Each pair gives a difference, A minus B; their mean is the
//! difference of the means, and its 99 % confidence interval is the mean ± 2.576 standard
//! errors of the differences (n ≥ 400 pairs, so the normal quantile is fair). Met when the
//! interval contains 0 and its half-width is under 2 % of the mean time: a difference that
//! large would show.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use serde_json::{json, Value};

use super::{open, request, round, Failure, Sender, Work};

/// The standard normal's 99.5 % quantile: a two-sided 99 % interval.
const Z_99: f64 = 2.576;
/// The widest half-width, as a share of the mean, that still counts as a test.
const MAX_HALF_WIDTH: f64 = 0.02;
/// Pairs sent before the timed ones, and not counted.
const WARM_UP_PAIRS: usize = 10;

/// Sends pairs of `a` then `b` (after a few of each to warm up), `pairs` of them and for
/// `at_least` (so that work a request leaves for later, like a reset request's, lands inside
/// the test), and compares their times; `a_name` and `b_name` label them in the report. Each
/// answer must have the status its kind expects (`ok`), or the comparison would be of two
/// different things.
pub async fn compare(
    address: SocketAddr,
    (a_name, a): (&str, Work),
    (b_name, b): (&str, Work),
    (pairs, at_least): (usize, Duration),
    ok: fn(u16) -> bool,
) -> Result<Value, Failure> {
    let mut sender = open(address).await?;
    let mut times = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for _ in 0..WARM_UP_PAIRS {
        timed(&mut sender, &a, address, ok).await?;
        timed(&mut sender, &b, address, ok).await?;
    }
    let started = Instant::now();
    while times.0.len() < pairs || started.elapsed() < at_least {
        times.0.push(timed(&mut sender, &a, address, ok).await?);
        times.1.push(timed(&mut sender, &b, address, ok).await?);
    }
    Ok(report(a_name, &times.0, b_name, &times.1))
}

/// One request's time from sending to the whole answer read, in milliseconds.
async fn timed(
    sender: &mut Sender,
    work: &Work,
    address: SocketAddr,
    ok: fn(u16) -> bool,
) -> Result<f64, Failure> {
    sender.ready().await?;
    let sent = Instant::now();
    let response = sender.send_request(request(work, address)).await?;
    let status = response.status().as_u16();
    response.into_body().collect().await?;
    let elapsed = sent.elapsed().as_secs_f64() * 1e3;
    if !ok(status) {
        return Err(format!("a timed request answered {status}").into());
    }
    Ok(elapsed)
}

/// The paired comparison of `a` and `b`, as `bench/results.json` keeps it.
fn report(a_name: &str, a: &[f64], b_name: &str, b: &[f64]) -> Value {
    let differences: Vec<f64> = a.iter().zip(b).map(|(a, b)| a - b).collect();
    let (difference, spread) = mean_and_sd(&differences);
    let half_width = Z_99 * spread / (differences.len() as f64).sqrt();
    let mean = (mean_and_sd(a).0 + mean_and_sd(b).0) / 2.0;
    let contains_zero = (difference - half_width..=difference + half_width).contains(&0.0);
    let narrow = half_width < MAX_HALF_WIDTH * mean;
    json!({
        "pairs": differences.len(),
        format!("{a_name}_mean_ms"): round(mean_and_sd(a).0, 4),
        format!("{b_name}_mean_ms"): round(mean_and_sd(b).0, 4),
        "difference_ms": round(difference, 4),
        "ci99_ms": [round(difference - half_width, 4), round(difference + half_width, 4)],
        "ci99_half_width_pct_of_mean": round(100.0 * half_width / mean, 2),
        "sd_of_differences_ms": round(spread, 4),
        format!("{a_name}_p50_p99_max_ms"): quantiles(a),
        format!("{b_name}_p50_p99_max_ms"): quantiles(b),
        "contains_zero": contains_zero,
        "narrower_than_2_pct": narrow,
        "met": contains_zero && narrow,
    })
}

/// The median, the 99th percentile and the slowest: where the spread comes from.
fn quantiles(times: &[f64]) -> [f64; 3] {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return [f64::NAN; 3];
    }
    let at = |share: f64| sorted[((sorted.len() - 1) as f64 * share).round() as usize];
    [round(at(0.5), 3), round(at(0.99), 3), round(at(1.0), 3)]
}

fn mean_and_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pass_and_a_shift_of_five_percent_fails() {
        let noisy: Vec<f64> = (0..400).map(|i| 10.0 + ((i * 7919) % 13) as f64 * 0.01).collect();
        let other: Vec<f64> = noisy.iter().rev().copied().collect();
        assert_eq!(report("a", &noisy, "b", &other)["met"], true);
        let slower: Vec<f64> = other.iter().map(|t| t * 1.05).collect();
        assert_eq!(report("a", &noisy, "b", &slower)["met"], false);
    }
}
