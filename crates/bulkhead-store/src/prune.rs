//! Pruning: which runs a retention policy deletes, the same for every backend.
//!
//! Each backend streams its runs ordered by host, kind and then newest first (by when their
//! facts were collected, then by run ID: the order `bulkhead history --diff` reads them in) into
//! a [`Planner`], which decides run by run, keeping only the IDs to delete and one count per
//! host and kind. The backend then deletes exactly those IDs: a run recorded while the prune
//! runs is not among them, whatever its place, so it is never lost.

use serde::Serialize;

/// Which runs to delete. A run is deleted only when every rule given says so: beyond the newest
/// `keep_last` of its host and kind, and recorded before `recorded_before`. A host's latest run
/// (of each kind) is kept unless `include_latest`.
#[derive(Debug, Clone, Default)]
pub struct Prune {
    /// Only the runs of this host.
    pub host: Option<String>,
    /// Only the runs of this kind (docker, kubernetes).
    pub kind: Option<String>,
    /// Keep each host's newest N runs of each kind (N >= 1).
    pub keep_last: Option<usize>,
    /// Delete only runs recorded before this time (Unix seconds).
    pub recorded_before: Option<i64>,
    /// Also delete a host's latest run when the rules say so (a host that is gone).
    pub include_latest: bool,
}

/// What a prune deleted (or, in a dry run, would delete).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PruneReport {
    /// The store as messages name it, without any password.
    pub store: String,
    /// Whether the runs were deleted (false: a dry run, nothing changed).
    pub applied: bool,
    /// Runs of the hosts and kinds in scope before the prune.
    pub runs: usize,
    /// Runs deleted (in a dry run: that would be).
    pub delete: usize,
    /// Runs kept.
    pub keep: usize,
    /// Per host and kind with a run to delete or a latest run the rules would have deleted,
    /// ordered by host and kind.
    pub hosts: Vec<PruneGroup>,
    /// The SQLite file's size before and after the space was reclaimed; None for PostgreSQL
    /// and for a dry run.
    pub file_size: Option<FileSize>,
    /// What else the user should know (PostgreSQL's space, a missing privilege).
    pub notes: Vec<String>,
}

/// One host and kind in a prune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneGroup {
    pub host: String,
    pub kind: String,
    /// Its runs before the prune.
    pub runs: usize,
    pub delete: usize,
    pub keep: usize,
    /// Its latest run was kept though the rules would delete it (every run of the host is
    /// older than --older-than); --include-latest deletes it too.
    pub latest_kept: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FileSize {
    pub before: u64,
    pub after: u64,
}

/// Decides, run by run, what a [`Prune`] deletes. Runs must come grouped by host and kind, each
/// group newest first.
pub(crate) struct Planner<'a> {
    policy: &'a Prune,
    /// The group being read, and the place in it of the next run (0: its latest).
    current: Option<PruneGroup>,
    rank: usize,
    done: Vec<PruneGroup>,
    pub(crate) ids: Vec<i64>,
    runs: usize,
}

impl<'a> Planner<'a> {
    pub(crate) fn new(policy: &'a Prune) -> Planner<'a> {
        Planner {
            policy,
            current: None,
            rank: 0,
            done: Vec::new(),
            ids: Vec::new(),
            runs: 0,
        }
    }

    pub(crate) fn push(&mut self, id: i64, host: &str, kind: &str, recorded_at: &str) {
        let same = self
            .current
            .as_ref()
            .is_some_and(|g| g.host == host && g.kind == kind);
        if !same {
            self.flush();
            self.current = Some(PruneGroup {
                host: host.to_string(),
                kind: kind.to_string(),
                runs: 0,
                delete: 0,
                keep: 0,
                latest_kept: false,
            });
            self.rank = 0;
        }
        let p = self.policy;
        let beyond = p.keep_last.map_or(true, |n| self.rank >= n);
        // A time that does not read as one (not written by bulkhead) is never taken as old.
        let old = p.recorded_before.map_or(true, |cutoff| {
            bulkhead_facts::time::rfc3339_to_unix(recorded_at).is_some_and(|t| t < cutoff)
        });
        // No rule at all deletes nothing.
        let mut delete = beyond && old && (p.keep_last.is_some() || p.recorded_before.is_some());
        let g = self.current.as_mut().expect("a group");
        if delete && self.rank == 0 && !p.include_latest {
            delete = false;
            g.latest_kept = true;
        }
        g.runs += 1;
        if delete {
            g.delete += 1;
            self.ids.push(id);
        } else {
            g.keep += 1;
        }
        self.rank += 1;
        self.runs += 1;
    }

    fn flush(&mut self) {
        if let Some(g) = self.current.take() {
            if g.delete > 0 || g.latest_kept {
                self.done.push(g);
            }
        }
    }

    /// The report of the plan, before anything is deleted.
    pub(crate) fn report(mut self, store: &str) -> (Vec<i64>, PruneReport) {
        self.flush();
        self.done
            .sort_by(|a, b| (&a.host, &a.kind).cmp(&(&b.host, &b.kind)));
        let delete = self.ids.len();
        let report = PruneReport {
            store: store.to_string(),
            applied: false,
            runs: self.runs,
            delete,
            keep: self.runs - delete,
            hosts: self.done,
            file_size: None,
            notes: Vec::new(),
        };
        (self.ids, report)
    }
}

/// The IDs in slices small enough for one statement each (SQLite's limit on parameters, and
/// PostgreSQL arrays of a reasonable size).
pub(crate) const CHUNK: usize = 500;

/// A size in bytes as people read it and `bulkhead history --prune` reports it: 711.0 MB,
/// 4.2 kB (powers of 1000, one decimal, as `ls -h --si`).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(day: i64) -> String {
        bulkhead_facts::time::rfc3339_utc(1_767_225_600 + day * 86_400)
    }

    /// Runs of one group, newest first: (id, recorded day).
    fn plan(policy: &Prune, groups: &[(&str, &[(i64, i64)])]) -> (Vec<i64>, PruneReport) {
        let mut p = Planner::new(policy);
        for (host, runs) in groups {
            for (id, day) in *runs {
                p.push(*id, host, "docker", &t(*day));
            }
        }
        p.report("test")
    }

    #[test]
    fn keep_last_keeps_each_groups_newest() {
        let policy = Prune {
            keep_last: Some(2),
            ..Prune::default()
        };
        let (ids, r) = plan(
            &policy,
            &[("a", &[(5, 5), (4, 4), (3, 3), (1, 1)]), ("b", &[(2, 2)])],
        );
        assert_eq!(ids, vec![3, 1]);
        assert_eq!((r.runs, r.delete, r.keep), (5, 2, 3));
        assert_eq!(r.hosts.len(), 1, "only hosts with something to delete");
        assert_eq!((r.hosts[0].runs, r.hosts[0].delete), (4, 2));
    }

    #[test]
    fn older_than_spares_the_latest_unless_asked() {
        let mut policy = Prune {
            recorded_before: Some(1_767_225_600 + 10 * 86_400),
            ..Prune::default()
        };
        let groups: &[(&str, &[(i64, i64)])] =
            &[("gone", &[(3, 3), (2, 2)]), ("live", &[(9, 20), (8, 5)])];
        let (ids, r) = plan(&policy, groups);
        assert_eq!(ids, vec![2, 8]);
        assert!(r.hosts[0].latest_kept && !r.hosts[1].latest_kept);
        policy.include_latest = true;
        let (ids, _) = plan(&policy, groups);
        assert_eq!(ids, vec![3, 2, 8]);
    }

    #[test]
    fn both_rules_must_agree() {
        let policy = Prune {
            keep_last: Some(1),
            recorded_before: Some(1_767_225_600 + 10 * 86_400),
            ..Prune::default()
        };
        let (ids, _) = plan(&policy, &[("a", &[(4, 30), (3, 20), (2, 5), (1, 1)])]);
        assert_eq!(ids, vec![2, 1]);
        // A time bulkhead did not write is never old.
        let mut p = Planner::new(&policy);
        p.push(2, "a", "docker", &t(30));
        p.push(1, "a", "docker", "yesterday");
        assert!(p.report("x").0.is_empty());
        // No rule: nothing.
        let (ids, _) = plan(&Prune::default(), &[("a", &[(2, 2), (1, 1)])]);
        assert!(ids.is_empty());
    }
}
