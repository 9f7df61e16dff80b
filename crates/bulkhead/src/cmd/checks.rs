//! `bulkhead checks list|explain`: the control catalog, browsable from the command line.

use super::{edition_for, known_numberings};
use crate::cli::{Benchmark as Which, ChecksArgs, ChecksCommand, ListFormat};
use bulkhead_checks::{catalog, registry, Benchmark, Control};
use std::fmt::Write;
use std::process::ExitCode;

pub fn run(args: ChecksArgs) -> Result<ExitCode, String> {
    match args.command {
        ChecksCommand::List {
            target,
            ids,
            format,
        } => list(target, ids.as_deref(), format),
        ChecksCommand::Explain { id, ids } => explain(&id, ids.as_deref()),
    }
}

fn benchmarks(target: Option<Which>) -> Vec<&'static Benchmark> {
    let c = catalog();
    match target {
        Some(Which::Docker) => vec![c.docker()],
        Some(Which::Kubernetes) => vec![c.kubernetes()],
        None => vec![c.docker(), c.kubernetes()],
    }
}

fn edition(ids: Option<&str>, b: &Benchmark, strict: bool) -> Result<String, String> {
    match ids {
        None => Ok(b.default_edition().to_string()),
        Some(i) => match edition_for(Some(i), b) {
            Some(e) => Ok(e),
            None if !strict => Ok(b.default_edition().to_string()),
            None => Err(format!(
                "--ids {i}: unknown numbering (known: {})",
                known_numberings().join(", ")
            )),
        },
    }
}

fn list(target: Option<Which>, ids: Option<&str>, format: ListFormat) -> Result<ExitCode, String> {
    let bs = benchmarks(target);
    if let Some(i) = ids {
        if !bs.iter().any(|b| edition_for(Some(i), b).is_some()) {
            return Err(match bs.as_slice() {
                // One benchmark asked for: name its numberings, and whose the asked one is.
                [b] => super::no_such_numbering(i, b),
                _ => format!(
                    "--ids {i}: unknown numbering (known: {})",
                    known_numberings().join(", ")
                ),
            });
        }
    }
    let mut out = String::new();
    let mut rows = Vec::new();
    for b in bs {
        let e = edition(ids, b, false)?;
        if format == ListFormat::Text {
            let _ = writeln!(out, "{} (numbering cis-{e})", b.name);
        }
        // Every check an audit evaluates, also those an older numbering has no number for
        // (listed last, as `-`, as the audit lists them).
        let current = b.default_edition();
        let mut unnumbered = 0;
        for c in b.controls_shown_in(&e) {
            let id = c.id_in(&e);
            let kind = if c.automated { "automated" } else { "manual" };
            match format {
                ListFormat::Text => {
                    let newer = match (id, c.id_in(current)) {
                        (None, Some(cur)) => format!(" ({cur} in cis-{current})"),
                        _ => String::new(),
                    };
                    let id = id.unwrap_or("-");
                    let _ = writeln!(out, "  {id:<8} {:<48} {kind:<9} {}{newer}", c.id, c.title);
                }
                ListFormat::Json => rows.push(serde_json::json!({
                    "benchmark": b.id, "numbering": format!("cis-{e}"), "id": id, "control": c.id,
                    "title": c.title, "automated": c.automated, "scored": c.scored,
                    "stride": c.stride.iter().map(|s| s.letter().to_string()).collect::<String>(),
                    "aliases": c.aliases(&e),
                })),
            }
            unnumbered += usize::from(id.is_none());
        }
        if format == ListFormat::Text && unnumbered > 0 {
            let _ = writeln!(
                out,
                "  ({unnumbered} checks have no number in cis-{e}, shown as -: an audit evaluates and counts them like the others)"
            );
        }
    }
    if format == ListFormat::Json {
        out = serde_json::to_string_pretty(&rows).expect("serializes");
        out.push('\n');
    }
    crate::output::emit(&out, None)?;
    Ok(ExitCode::SUCCESS)
}

fn find(
    key: &str,
    ids: Option<&str>,
) -> Result<(&'static Benchmark, String, &'static Control), String> {
    if let Some(i) = ids {
        if !benchmarks(None)
            .iter()
            .any(|b| edition_for(Some(i), b).is_some())
        {
            return Err(format!(
                "--ids {i}: unknown numbering (known: {})",
                known_numberings().join(", ")
            ));
        }
    }
    let mut found = Vec::new();
    for b in benchmarks(None) {
        let e = edition(ids, b, false)?;
        if ids.is_some()
            && edition_for(ids, b).is_none()
            && !key.contains(|c: char| c.is_ascii_alphabetic())
        {
            continue;
        }
        if let Some(c) = b.find(key, &e) {
            found.push((b, e, c));
        }
    }
    match found.len() {
        0 => {
            // Say where it was looked for, and where the key does name a check.
            let searched = match ids {
                Some(i) => i.to_string(),
                None => "the current numberings".to_string(),
            };
            let elsewhere: Vec<String> = benchmarks(None)
                .iter()
                .flat_map(|b| {
                    b.editions.iter().filter_map(move |e| {
                        let c = b.controls.iter().find(|c| c.id_in(e) == Some(key))?;
                        Some(format!("cis-{e} ({}: {})", c.id, c.title))
                    })
                })
                .take(3)
                .collect();
            let hint = if elsewhere.is_empty() {
                "see `bulkhead checks list`".to_string()
            } else {
                format!("{key} is a check in {}", elsewhere.join("; "))
            };
            Err(format!("no check {key:?} in {searched}; {hint}"))
        }
        1 => Ok(found.remove(0)),
        _ => Err(format!(
            "{key} is ambiguous: {}; pass --ids or a control ID",
            found
                .iter()
                .map(|(b, _, c)| format!("{} {}", b.name, c.id))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn explain(key: &str, ids: Option<&str>) -> Result<ExitCode, String> {
    let (b, e, c) = find(key, ids)?;
    let mut out = String::new();
    let _ = writeln!(out, "{} - {}", c.id_in(&e).unwrap_or_default(), c.title);
    let _ = writeln!(out);
    let _ = writeln!(out, "  benchmark   {} (numbering cis-{e})", b.name);
    let _ = writeln!(out, "  control     {}", c.id);
    let others: Vec<String> = c
        .ids
        .iter()
        .filter(|(ed, _)| **ed != e)
        .map(|(ed, id)| format!("{id} in cis-{ed}"))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "  also        {}", others.join(", "));
    }
    let _ = writeln!(
        out,
        "  kind        {}, {}",
        if c.automated { "automated" } else { "manual" },
        if c.scored { "scored" } else { "not scored" }
    );
    if let Some(t) = &c.target {
        let _ = writeln!(
            out,
            "  target      {t} ({})",
            c.component.as_deref().unwrap_or("-")
        );
    }
    let stride: Vec<&str> = c.stride.iter().map(|s| s.name()).collect();
    let _ = writeln!(out, "  STRIDE      {}", stride.join(", "));
    let evaluated = registry::evaluator(&c.id).is_some();
    let _ = writeln!(
        out,
        "  evaluated   {}",
        if evaluated {
            "by bulkhead"
        } else {
            "by hand (bulkhead reports manual)"
        }
    );
    for (heading, body) in [
        ("Why it matters", &c.rationale),
        ("How bulkhead checks it", &c.evaluation),
        ("How to fix it", &c.remediation),
    ] {
        if body.trim().is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{heading}\n");
        for line in body.trim().lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !c.references.is_empty() {
        let _ = writeln!(out, "\nReferences\n");
        for r in &c.references {
            let _ = writeln!(out, "  {r}");
        }
    }
    crate::output::emit(&out, None)?;
    Ok(ExitCode::SUCCESS)
}
