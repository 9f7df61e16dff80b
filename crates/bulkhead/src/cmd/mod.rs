//! One module per sub-command. Each turns parsed arguments into calls of the pipeline crates and
//! returns the process exit code.

pub mod audit;
pub mod checks;
pub mod collect;
pub mod harden;
pub mod history;
pub mod report;
pub mod scan;
pub mod threats;

use crate::cli::{AuditTarget, Cli, Command, SourceArgs};
use bulkhead_collect::{CollectOptions, ContainerFilter, Want};
use bulkhead_facts::{Fact, Snapshot};
use clap::CommandFactory;
use std::process::ExitCode;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Audit(a) => audit::run(a),
        Command::Collect(a) => collect::run(a),
        Command::Checks(a) => checks::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Threats(a) => threats::run(a),
        Command::Report(a) => report::run(a),
        Command::Harden(a) => harden::run(a),
        Command::Verify(a) => harden::run_verify(a),
        Command::History(a) => history::run(a),
        Command::Completions { shell } => {
            // Written through `emit`, which takes a closed pipe (`| head`) as the end of the
            // output; clap_complete writing to stdout itself panics on one.
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "bulkhead", &mut buf);
            crate::output::emit(&String::from_utf8_lossy(&buf), None)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .map_err(|e| format!("rendering man page: {e}"))?;
            crate::output::emit(
                &man_without_missing_pages(&String::from_utf8_lossy(&buf)),
                None,
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What a live collection that found nothing to audit is told; `audit` fails with it, `collect`
/// warns.
pub(crate) const NOTHING_TO_AUDIT: &str =
    "found neither a Docker engine nor Kubernetes components on this host";

/// The man page lists each subcommand as a page of its own (`bulkhead-audit(1)`), but bulkhead
/// ships one page: name the command instead (its `--help` has the rest) rather than point to a
/// page `man` cannot find.
fn man_without_missing_pages(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for line in page.split_inclusive('\n') {
        let name = line
            .trim_end()
            .strip_prefix("bulkhead\\-")
            .and_then(|rest| rest.strip_suffix("(1)"))
            .filter(|name| name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
        match name {
            Some(name) => {
                out.push_str("bulkhead ");
                out.push_str(name);
                out.push('\n');
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Facts for a command: read from `--snapshot`, or collected from this host now.
///
/// The containers left out are those of `--exclude-container` (in `source`, so every command
/// has it) together with `more_excludes`, the container-name regexes of the command's own
/// `--exclude` (audit's and collect's): one list, applied live by the collector and offline to a
/// snapshot alike.
pub fn acquire_snapshot(
    source: &SourceArgs,
    target: AuditTarget,
    more_excludes: &[String],
) -> Result<Snapshot, String> {
    let exclude_containers = container_excludes(source, more_excludes);
    let exclude_containers = exclude_containers.as_slice();
    // The benchmarks the target needs (their controls' prose) are parsed while the facts are
    // read, at the lower priority of background work so that it does not hold up the API.
    // Named so that profilers and `top -H` tell it apart; if it cannot start, the catalog is
    // parsed where it is first used instead.
    let _ = std::thread::Builder::new()
        .name("catalog".into())
        .spawn(move || {
            bulkhead_collect::lower_thread_priority();
            let catalog = bulkhead_checks::catalog();
            if target != AuditTarget::Kubernetes {
                catalog.docker();
            }
            if target != AuditTarget::Docker {
                catalog.kubernetes();
            }
        });
    if let Some(path) = &source.snapshot {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read snapshot {}: {e}", path.display()))?;
        let mut snapshot = Snapshot::from_json(&text).map_err(|e| {
            format!(
                "{}: {e}; write a snapshot with `bulkhead collect -o FILE`",
                path.display()
            )
        })?;
        narrow_containers(&mut snapshot, source, exclude_containers)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(snapshot);
    }
    let want = |wanted: AuditTarget| match target {
        // Looking for Docker is a guess only while nobody named a daemon: one given with
        // --docker-host that does not answer is an error to report, not an absence.
        AuditTarget::All if wanted == AuditTarget::Docker && source.docker_host.is_some() => {
            Want::Required
        }
        AuditTarget::All => Want::Auto,
        t if t == wanted => Want::Required,
        _ => Want::Skip,
    };
    let options = CollectOptions {
        root: source.root.clone(),
        proc: source.proc.clone(),
        docker: want(AuditTarget::Docker),
        docker_host: source.docker_host.clone(),
        containers: ContainerFilter {
            all_states: source.all_containers,
            include: source.include.clone(),
            exclude: exclude_containers.to_vec(),
            labels: source.label.clone(),
        },
        kubernetes: want(AuditTarget::Kubernetes),
        cluster_dump: source.cluster_dump.clone(),
    };
    let snapshot = bulkhead_collect::collect(&options).map_err(|e| e.to_string())?;
    // A dump the user named that cannot be read or parsed is a usage error, said once, rather
    // than the same error on every policy check.
    if let Some(Fact::Unavailable(why)) = snapshot
        .kubernetes
        .as_ref()
        .and_then(|k| k.cluster.as_ref())
    {
        return Err(format!("--cluster-dump: {why}"));
    }
    Ok(snapshot)
}

/// The container-name regexes to leave out: the command's own `--exclude` values first, then
/// `--exclude-container`, each once.
fn container_excludes(source: &SourceArgs, more_excludes: &[String]) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for p in more_excludes.iter().chain(&source.exclude_container) {
        if !all.contains(p) {
            all.push(p.clone());
        }
    }
    all
}

/// Container selection given with `--snapshot` (`--include`, `--exclude-container`, `--label`,
/// audit's `--exclude REGEX`) narrows the snapshot's containers offline by the collector's own
/// rules, each container left out recorded with the reason, so `audit --snapshot` honours the
/// flags a live audit honours instead of silently ignoring them. `--all-containers` cannot bring
/// back containers that a running-only snapshot never recorded: that is an error.
fn narrow_containers(
    snapshot: &mut Snapshot,
    source: &SourceArgs,
    exclude_containers: &[String],
) -> Result<(), String> {
    use bulkhead_collect::select::{Listed, Selector};
    let Some(docker) = snapshot.docker.as_mut() else {
        return Ok(());
    };
    if source.all_containers && !docker.selection.all_states {
        return Err("--all-containers: this snapshot holds running containers only; collect it again with `bulkhead collect --all-containers -o FILE`".into());
    }
    if source.include.is_empty() && exclude_containers.is_empty() && source.label.is_empty() {
        return Ok(());
    }
    let filter = ContainerFilter {
        // The snapshot's own choice of states stands; the flags only narrow it.
        all_states: true,
        include: source.include.clone(),
        exclude: exclude_containers.to_vec(),
        labels: source.label.clone(),
    };
    let selector = Selector::new(&filter).map_err(|e| e.to_string())?;
    let selection = &mut docker.selection;
    selection.include.extend(filter.include.iter().cloned());
    selection.exclude.extend(filter.exclude.iter().cloned());
    selection.labels.extend(filter.labels.iter().cloned());
    if let bulkhead_facts::Fact::Value(containers) = &mut docker.containers {
        containers.retain(|c| {
            let listed = Listed {
                id: c.inspect.id.clone(),
                name: c.name().to_string(),
                state: c.inspect.state.status.clone(),
                labels: c.inspect.config.labels.clone(),
            };
            match selector.reason_to_skip(&listed) {
                None => true,
                Some(reason) => {
                    selection.skipped.push(reason.record(listed));
                    false
                }
            }
        });
    }
    Ok(())
}

/// Split `--exclude` values into check selectors and container-name regexes: check IDs
/// (`5.13`), sections (`5`) and control IDs or groups (`docker.container...`, `k8s....`) select
/// checks; anything else is a container-name regex.
pub fn split_excludes(values: &[String]) -> (Vec<String>, Vec<String>) {
    fn is_check_selector(v: &str) -> bool {
        let is_check_id = v
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        is_check_id || v.starts_with("docker.") || v.starts_with("k8s.")
    }
    let mut checks = Vec::new();
    let mut containers = Vec::new();
    for value in values {
        let parts: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.iter().any(|p| is_check_selector(p)) {
            // A comma list of check selectors (possibly mixed with names): classify each item.
            for p in parts {
                if is_check_selector(p) {
                    checks.push(p.to_string());
                } else {
                    containers.push(p.to_string());
                }
            }
        } else if !value.trim().is_empty() {
            // No check selector in it: the whole value is one regex, commas included (`x{1,3}`).
            containers.push(value.trim().to_string());
        }
    }
    (checks, containers)
}

/// Map `--ids cis-X` to an edition of `benchmark`, if it has one.
pub fn edition_for(ids: Option<&str>, benchmark: &bulkhead_checks::Benchmark) -> Option<String> {
    let wanted = ids?.trim();
    let e = wanted.strip_prefix("cis-").unwrap_or(wanted);
    let e = e
        .strip_prefix("docker-")
        .or_else(|| e.strip_prefix("kubernetes-"))
        .unwrap_or(e);
    benchmark.has_edition(e).then(|| e.to_string())
}

/// `--ids` names a numbering `benchmark` does not have: say which numberings it has, and which
/// benchmark the asked one belongs to if it is another's (`audit docker --ids cis-1.12`).
pub fn no_such_numbering(ids: &str, benchmark: &bulkhead_checks::Benchmark) -> String {
    let own: Vec<String> = benchmark
        .editions
        .iter()
        .map(|e| format!("cis-{e}"))
        .collect();
    let theirs = bulkhead_checks::catalog()
        .benchmarks()
        .find(|o| o.id != benchmark.id && edition_for(Some(ids), o).is_some())
        .map(|o| format!("; {ids} numbers the {}", o.name))
        .unwrap_or_default();
    format!(
        "--ids {ids}: {} has no such numbering (its numberings: {}){theirs}",
        benchmark.name,
        own.join(", ")
    )
}

/// Every numbering `--ids` accepts, for error messages.
pub fn known_numberings() -> Vec<String> {
    bulkhead_checks::catalog()
        .benchmarks()
        .flat_map(|b| b.editions.iter().map(|e| format!("cis-{e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only one man page is generated: its list of subcommands names commands, not pages.
    #[test]
    fn the_man_page_points_to_no_page_that_does_not_exist() {
        let mut buf = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut buf)
            .unwrap();
        let page = man_without_missing_pages(&String::from_utf8(buf).unwrap());
        assert!(!page.contains("(1)"), "{page}");
        assert!(page.contains("\nbulkhead audit\n"), "{page}");
        assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    }

    #[test]
    fn excludes_are_split_by_form() {
        let (c, r) = split_excludes(&[
            "5.13,5".into(),
            "docker.container".into(),
            "web-.*".into(),
            "db".into(),
        ]);
        assert_eq!(c, vec!["5.13", "5", "docker.container"]);
        assert_eq!(r, vec!["web-.*", "db"]);
        let (c, r) = split_excludes(&["^app-[0-9]{1,3}$".into()]);
        assert!(c.is_empty());
        assert_eq!(
            r,
            vec!["^app-[0-9]{1,3}$"],
            "a regex with a comma stays whole"
        );
    }
}
