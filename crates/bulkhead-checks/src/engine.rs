//! The engine: run the evaluators of the selected controls over a snapshot. Pure: no I/O.

use crate::catalog::{Benchmark, Control};
use crate::model::{CheckResult, Status};
use crate::registry;
use bulkhead_facts::docker::{DaemonSettings, DockerFacts};
use bulkhead_facts::Snapshot;
use std::sync::OnceLock;

/// Options that change verdicts (not presentation).
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Users allowed to control the Docker daemon (1.1.2). Without it, group members are listed
    /// for review.
    pub trusted_users: Option<Vec<String>>,
}

/// What an evaluator sees: the snapshot, the options, and derived views computed once.
pub struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub options: &'a AuditOptions,
    daemon_settings: OnceLock<DaemonSettings>,
}

impl<'a> Context<'a> {
    pub fn new(snapshot: &'a Snapshot, options: &'a AuditOptions) -> Self {
        Context {
            snapshot,
            options,
            daemon_settings: OnceLock::new(),
        }
    }

    pub fn docker(&self) -> Option<&'a DockerFacts> {
        self.snapshot.docker.as_ref()
    }

    /// The daemon's effective settings (flags and daemon.json merged).
    pub fn daemon_settings(&self) -> &DaemonSettings {
        self.daemon_settings.get_or_init(|| match self.docker() {
            Some(d) => DaemonSettings::from_facts(&d.daemon),
            None => DaemonSettings::default(),
        })
    }

    /// When the Docker API talked to a remote daemon, the host's files and processes belong to a
    /// different machine: host-side checks must not mix the two. Returns the reason to report.
    pub fn remote_daemon_reason(&self) -> Option<String> {
        let d = self.docker()?;
        (!d.endpoint.local).then(|| {
            format!(
                "the Docker API endpoint {} is a remote daemon; host files and processes of that machine were not read (run bulkhead on that host)",
                d.endpoint.host
            )
        })
    }
}

/// One control's verdict.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub control: &'static Control,
    /// The check's ID in the edition the audit was shown in.
    pub check_id: String,
    pub result: CheckResult,
}

/// The result of auditing one benchmark.
#[derive(Debug, Clone)]
pub struct Audit {
    pub benchmark: &'static Benchmark,
    pub edition: String,
    pub outcomes: Vec<Outcome>,
}

impl Audit {
    pub fn count(&self, status: Status) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.result.status == status)
            .count()
    }

    /// docker-bench's score, on correct verdicts: +1 for each scored pass, -1 for each scored fail.
    pub fn score(&self) -> i64 {
        self.outcomes
            .iter()
            .filter(|o| o.control.scored)
            .map(|o| match o.result.status {
                Status::Pass => 1,
                Status::Fail => -1,
                _ => 0,
            })
            .sum()
    }

    /// Share of scored, evaluated checks that pass, in percent (None when none was evaluated).
    pub fn score_percent(&self) -> Option<f64> {
        let scored: Vec<_> = self
            .outcomes
            .iter()
            .filter(|o| o.control.scored && matches!(o.result.status, Status::Pass | Status::Fail))
            .collect();
        if scored.is_empty() {
            return None;
        }
        let pass = scored
            .iter()
            .filter(|o| o.result.status == Status::Pass)
            .count();
        Some((pass as f64 * 1000.0 / scored.len() as f64).round() / 10.0)
    }

    pub fn outcome(&self, control_id: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.control.id == control_id)
    }
}

/// Which controls to run: `--only` and `--exclude` tokens, each a stable control ID, a check ID in
/// the selected numbering, or a section (`5`, `1.1`).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub only: Vec<String>,
    pub exclude: Vec<String>,
}

impl Selection {
    pub fn new(only: Vec<String>, exclude: Vec<String>) -> Self {
        let split = |v: Vec<String>| {
            v.iter()
                .flat_map(|s| s.split(','))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Selection {
            only: split(only),
            exclude: split(exclude),
        }
    }

    fn token_matches(token: &str, control: &Control, benchmark: &Benchmark, edition: &str) -> bool {
        if token == control.id {
            return true;
        }
        // A token naming a control-ID prefix (`docker.container`) selects the group.
        if token.contains(|c: char| c.is_ascii_alphabetic()) {
            return control.id.starts_with(&format!("{token}."));
        }
        let Some(check_id) = control.id_in(edition) else {
            return false;
        };
        if check_id == token {
            return true;
        }
        // Not an exact check ID anywhere in this edition: read it as a section.
        let is_check = benchmark
            .controls
            .iter()
            .any(|c| c.id_in(edition) == Some(token));
        !is_check && check_id.starts_with(&format!("{token}."))
    }

    /// Tokens that name nothing in any of `benchmarks` (a usage error to report).
    pub fn unknown_tokens(&self, benchmarks: &[(&Benchmark, &str)]) -> Vec<String> {
        self.only
            .iter()
            .chain(self.exclude.iter())
            .filter(|t| {
                !benchmarks
                    .iter()
                    .any(|(b, e)| b.controls.iter().any(|c| Self::token_matches(t, c, b, e)))
            })
            .cloned()
            .collect()
    }

    pub fn includes(&self, control: &Control, benchmark: &Benchmark, edition: &str) -> bool {
        let only_ok = self.only.is_empty()
            || self
                .only
                .iter()
                .any(|t| Self::token_matches(t, control, benchmark, edition));
        only_ok
            && !self
                .exclude
                .iter()
                .any(|t| Self::token_matches(t, control, benchmark, edition))
    }
}

/// Below this many controls one thread evaluates them: starting another costs more than it saves.
const PARALLEL_FROM: usize = 16;

/// Evaluate every selected control of `benchmark`, shown in `edition` numbering (see
/// [`Benchmark::controls_shown_in`]: checks that numbering lacks are evaluated too, under their
/// control ID).
///
/// Controls are evaluated on two threads when there is more than one core: evaluation comes after
/// collection, when the audited system has answered and a second core would otherwise wait. The
/// controls are dealt out alternately, because the costly ones sit together (the per-container
/// checks of CIS Docker section 5), and the outcomes come back in the edition's order.
pub fn run(
    benchmark: &'static Benchmark,
    edition: &str,
    ctx: &Context<'_>,
    selection: &Selection,
) -> Audit {
    let controls: Vec<&'static Control> = benchmark
        .controls_shown_in(edition)
        .into_iter()
        .filter(|c| selection.includes(c, benchmark, edition))
        .collect();
    let evaluate = |control: &'static Control| {
        let result = match registry::evaluator(&control.id) {
            Some(eval) => eval(ctx),
            None => {
                CheckResult::manual("review by hand; bulkhead cannot read this from the system")
            }
        };
        Outcome {
            control,
            // A check the numbering does not have goes by its stable control ID.
            check_id: control.id_in(edition).unwrap_or(&control.id).to_string(),
            result,
        }
    };
    let two_cores = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    let outcomes: Vec<Outcome> = if two_cores && controls.len() >= PARALLEL_FROM {
        let odd_ones = || -> Vec<Outcome> {
            controls
                .iter()
                .skip(1)
                .step_by(2)
                .map(|c| evaluate(c))
                .collect()
        };
        let (evens, odds) = std::thread::scope(|s| {
            // Named so that profilers and `top -H` tell it apart; without a second thread, one
            // evaluates both halves.
            let odds = std::thread::Builder::new()
                .name("evaluate".into())
                .spawn_scoped(s, odd_ones);
            let evens: Vec<Outcome> = controls.iter().step_by(2).map(|c| evaluate(c)).collect();
            match odds {
                Ok(odds) => (evens, odds.join()),
                Err(_) => (evens, Ok(odd_ones())),
            }
        });
        let odds = match odds {
            Ok(o) => o,
            // A check that panics on the helper thread panics the audit, as it would inline.
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let mut merged = Vec::with_capacity(controls.len());
        let mut odds = odds.into_iter();
        for even in evens {
            merged.push(even);
            merged.extend(odds.next());
        }
        merged
    } else {
        controls.into_iter().map(evaluate).collect()
    };
    Audit {
        benchmark,
        edition: edition.to_string(),
        outcomes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::fixture::Fixture;

    /// Evaluated on two threads, a whole benchmark still comes back in the edition's order, each
    /// outcome the verdict its own evaluator gives.
    #[test]
    fn every_outcome_in_numbering_order_with_its_own_verdict() {
        let f = Fixture::new()
            .container("web", |c| c.host_config.readonly_rootfs = true)
            .container("db", |c| c.host_config.privileged = true);
        let benchmark = crate::catalog().docker();
        let ctx = Context::new(&f.snapshot, &f.options);
        let audit = run(benchmark, "1.6.0", &ctx, &Selection::default());
        let expected: Vec<&str> = benchmark
            .controls_in("1.6.0")
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert!(
            expected.len() >= PARALLEL_FROM,
            "the two-thread path is taken"
        );
        let got: Vec<&str> = audit
            .outcomes
            .iter()
            .map(|o| o.control.id.as_str())
            .collect();
        assert_eq!(got, expected);
        for o in &audit.outcomes {
            assert_eq!(Some(o.check_id.as_str()), o.control.id_in("1.6.0"));
            if registry::evaluator(&o.control.id).is_some() {
                let alone = f.check(&o.control.id);
                assert_eq!(
                    serde_json::to_value(&o.result).unwrap(),
                    serde_json::to_value(&alone).unwrap(),
                    "{}",
                    o.control.id
                );
            }
        }
    }
}
