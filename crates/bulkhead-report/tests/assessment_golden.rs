//! Golden assessment reports (Markdown and HTML) and threat-model Markdown from the snapshot
//! fixtures of bulkhead-threats: the write-up-like host with 4.5, 5.12 and 5.25 (CIS Docker
//! 1.2.0) selected, the hardened host with the top three failed findings by risk, and the
//! insecure kubeadm node of bulkhead-kube-tests (with its cluster dump) for the Kubernetes part.
//! Then the write-up host with a hostile name planted in its facts, rendered through the same
//! path, and the wording of findings that pass or were selected without `--ids`.
//! Regenerate with BULKHEAD_BLESS=1 after reviewing a change.

use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
use bulkhead_facts::Snapshot;
use bulkhead_report::assessment_model::Assessment;
use bulkhead_report::Target;
use bulkhead_threats::{build, EvidenceSet, Input};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden(rel: &str, actual: &str) {
    bulkhead_testkit::golden::assert_golden(&dir().join("tests/golden").join(rel), actual);
}

fn fixture_text(name: &str) -> String {
    let path = dir().join(format!(
        "../bulkhead-threats/tests/fixtures/{name}.snapshot.json"
    ));
    std::fs::read_to_string(path).unwrap()
}

/// Audit the snapshot fixture as `bulkhead report` does (CIS Docker in `edition` numbering when it
/// has Docker facts, CIS Kubernetes when it has Kubernetes facts), build the threat model and
/// render the assessment (Markdown, HTML) and the threat model (Markdown, terminal text).
fn render(name: &str, edition: &str, select: &[&str]) -> (String, String, String, String) {
    let s = Snapshot::from_json(&fixture_text(name)).unwrap();
    render_snapshot(&s, edition, select, Some(edition))
}

/// [`render`] for a snapshot given as it is. `ids` is `--ids` as the user gave it; without it the
/// selection sentence says what `bulkhead report` says when `--ids` is left out.
fn render_snapshot(
    s: &Snapshot,
    edition: &str,
    select: &[&str],
    ids: Option<&str>,
) -> (String, String, String, String) {
    render_snapshot_with(s, edition, select, ids, |_| {})
}

/// [`render_snapshot`] with the analysed findings changed by `adjust` before rendering, for what
/// the fixtures cannot produce (a user `--model` threat, a control the catalog says nothing of).
fn render_snapshot_with(
    s: &Snapshot,
    edition: &str,
    select: &[&str],
    ids: Option<&str>,
    adjust: impl FnOnce(&mut Vec<bulkhead_threats::analysis::FindingAnalysis>),
) -> (String, String, String, String) {
    let opts = AuditOptions::default();
    let ctx = Context::new(s, &opts);
    let mut audits = Vec::new();
    if s.docker.is_some() {
        let a = bulkhead_checks::run(catalog().docker(), edition, &ctx, &Selection::default());
        audits.push((a, Target::from_snapshot("docker", s)));
    }
    if s.kubernetes.is_some() {
        let b = catalog().kubernetes();
        let a = bulkhead_checks::run(b, b.default_edition(), &ctx, &Selection::default());
        audits.push((a, Target::from_snapshot("kubernetes", s)));
    }
    let mut ev = EvidenceSet::new();
    for (a, _) in &audits {
        ev.add_audit(a);
    }
    let only: Vec<_> = audits.iter().map(|(a, _)| a.clone()).collect();
    // As `bulkhead report --snapshot` asks: what containers wrote is not in a snapshot.
    let request = bulkhead_harden::PlanRequest {
        select: select.iter().map(|s| s.to_string()).collect(),
        from_snapshot: true,
        ..Default::default()
    };
    let plan = bulkhead_harden::plan(s, &only, &request);
    let fixes: BTreeSet<String> = plan
        .as_ref()
        .map(|p| p.fixed_controls())
        .unwrap_or_default();
    let tm = build(&Input {
        snapshot: s,
        evidence: &ev,
        evidence_sources: audits
            .iter()
            .map(|(a, _)| format!("{} {}", a.benchmark.id, a.edition))
            .collect(),
        user: None,
        user_file: "",
        acceptances: &[],
        planned_fixes: &fixes,
        as_of: "2026-01-15",
        tool_version: "test",
    })
    .unwrap();
    let numbering = ids
        .map(|i| format!("cis-{i}"))
        .unwrap_or_else(|| bulkhead_report::assessment_model::numbering(&audits));
    let (findings, selection) = if select.is_empty() {
        let v: Vec<_> = bulkhead_threats::analysis::ranked_failures(&tm, &ev)
            .into_iter()
            .take(3)
            .collect();
        let n = v.len();
        (v, format!("The {n} failed checks with the highest risk."))
    } else {
        let v = select
            .iter()
            .map(|c| {
                let control = catalog().docker().find(c, edition).unwrap().id.clone();
                bulkhead_threats::analysis::analyse(&tm, &ev, &control)
            })
            .collect();
        (
            v,
            format!("Selected findings: {} ({numbering}).", select.join(", ")),
        )
    };
    let mut findings = findings;
    adjust(&mut findings);
    let a = Assessment {
        tool_version: "test",
        threats: &tm,
        audits: &audits,
        findings,
        selection,
        plan: plan.as_ref().map_err(|e| e.clone()),
        left_out: None,
    };
    (
        bulkhead_report::assessment_markdown::render(&a),
        bulkhead_report::assessment_html::render(&a),
        bulkhead_report::threats_markdown::render(&tm),
        bulkhead_report::threats_text::render(&tm, false),
    )
}

#[test]
fn writeup_assessment_analyses_the_three_selected_findings() {
    let (md, html, threats, text) = render("writeup", "1.2.0", &["4.5", "5.12", "5.25"]);
    golden("writeup/assessment.md", &md);
    golden("writeup/assessment.html", &html);
    golden("writeup/threats.md", &threats);
    golden("writeup/threats.txt", &text);
    // The write-up's structure, in order.
    let pos = |s: &str| md.find(s).unwrap_or_else(|| panic!("missing {s:?}"));
    assert!(pos("## 1. Docker threat model") < pos("## 2. Kubernetes threat model"));
    assert!(pos("## 3. Benchmark results") < pos("## 4. Analysis"));
    assert!(pos("## 4. Analysis") < pos("## 5. Hardening plan"));
    assert!(md.contains("### 1. [FAIL] 4.5 Ensure Content trust for Docker is Enabled"));
    assert!(md.contains(
        "### 2. [FAIL] 5.12 Ensure that the container's root filesystem is mounted as read only"
    ));
    assert!(md.contains("### 3. [FAIL] 5.25 Ensure that the container is restricted from acquiring additional privileges"));
    // Content trust: retired for official images, cosign/Notation as the lasting control, and
    // still DOCKER_CONTENT_TRUST=1 as the benchmark asks.
    let ct = &md[pos("### 1. [FAIL] 4.5")..pos("### 2. [FAIL] 5.12")];
    assert!(ct.contains("retired Docker Content Trust"), "{ct}");
    assert!(ct.contains("cosign") && ct.contains("Notation"));
    assert!(ct.contains("DOCKER_CONTENT_TRUST=1"));
    assert!(ct.contains("DKR-S01"), "4.5 leaves DKR-S01 open");
    assert!(md.contains("No Kubernetes node audit or cluster dump was available"));
    // Self-contained: inline SVG, no script, nothing loaded from elsewhere (the SVG namespace URI
    // is an identifier, not a fetch).
    assert!(html.contains("<svg") && !html.contains("<script"));
    for fetch in ["src=", "href=\"http", "url(http", "@import", "<link"] {
        assert!(
            !html.contains(fetch),
            "the page would fetch something: {fetch}"
        );
    }
}

#[test]
fn hardened_assessment_ranks_remaining_failures() {
    let (md, html, threats, text) = render("hardened", "1.6.0", &[]);
    golden("hardened/assessment.md", &md);
    golden("hardened/assessment.html", &html);
    golden("hardened/threats.md", &threats);
    golden("hardened/threats.txt", &text);
    // No check fails on the hardened host: the analysis says so rather than count zero of them.
    let analysis = &md[md.find("## 4.").unwrap()..md.find("## 5.").unwrap()];
    assert!(!analysis.contains("The 0 failed"), "{analysis}");
    assert!(
        analysis.contains("No check failed, so there is no failed finding to analyse."),
        "{analysis}"
    );
    assert!(!html.contains("The 0 failed") && html.contains("No check failed"));
}

#[test]
fn kubernetes_node_assessment_has_the_kubernetes_threat_model() {
    let (md, html, threats, text) = render("k8s-insecure", "1.6.0", &[]);
    golden("k8s-insecure/assessment.md", &md);
    golden("k8s-insecure/assessment.html", &html);
    golden("k8s-insecure/threats.md", &threats);
    golden("k8s-insecure/threats.txt", &text);
    let pos = |s: &str| md.find(s).unwrap_or_else(|| panic!("missing {s:?}"));
    let k8s = &md[pos("## 2. Kubernetes threat model")..pos("## 3. Benchmark results")];
    assert!(
        md[pos("## 1. Docker threat model")..pos("## 2. Kubernetes threat model")]
            .contains("No Docker engine was audited")
    );
    // The write-up's five Kubernetes threats, exposed, each with the evidence that keeps it open.
    for id in ["K8S-S01", "K8S-T01", "K8S-R01", "K8S-I01", "K8S-E01"] {
        let row = k8s
            .lines()
            .find(|l| l.starts_with(&format!("| {id} |")))
            .unwrap_or_else(|| panic!("{id} row"));
        assert!(row.contains("| exposed |"), "{row}");
    }
    // Flows say what the node's configuration shows.
    assert!(k8s.contains(
        "kubelet's serving certificate is NOT verified (no --kubelet-certificate-authority)"
    ));
    assert!(k8s.contains("none: --etcd-servers uses http://127.0.0.1:2379"));
    // The dump's namespaces, pods and service accounts are in the diagram.
    assert!(k8s.contains("Pod app/debug") && k8s.contains("Service account app/default"));
    assert!(md.contains("### CIS Kubernetes"));
    assert!(
        html.contains("id=\"kubernetes-threat-model\"")
            && html.contains("el-k8s.workload:app/pod/debug")
    );
}

/// Failing checks that harden has no automatic fix for are still failing: section 5 must list
/// each with what it needs, never say there is nothing to fix. In both formats, each entry names
/// the object it is about, so entries of one check on several objects can be told apart.
#[test]
fn plan_section_lists_failing_checks_without_an_automatic_fix() {
    let (md, html, _, _) = render("writeup", "1.6.0", &["1.1.1", "2.12"]);
    let plan = &md[md.find("## 5. Hardening plan").unwrap()..];
    assert!(md.contains("### 1. [FAIL] 1.1.1") && md.contains("### 2. [FAIL] 2.12"));
    assert!(!plan.contains("Nothing to fix"), "{plan}");
    assert!(
        plan.contains("No failing check has an automatic fix"),
        "{plan}"
    );
    assert!(
        plan.contains("- 2.12 (docker.daemon.authorization_plugin): ")
            && plan.contains("--authz-plugin NAME"),
        "{plan}"
    );
    assert!(
        plan.contains("- 1.1.1 (docker.host.separate_partition): "),
        "{plan}"
    );
    let plan = &html[html.find("id=\"hardening-plan\"").unwrap()..];
    assert!(!plan.contains("Nothing to fix"), "{plan}");
    assert!(
        plan.contains("No failing check has an automatic fix")
            && plan.contains("<li>2.12 (docker.daemon.authorization_plugin): ")
            && plan.contains("--authz-plugin NAME"),
        "{plan}"
    );

    let (md, html, _, _) = render("k8s-insecure", "1.6.0", &[]);
    let line = "2.2 (k8s.etcd.client_cert_auth) on etcd (pid 1000): ";
    assert!(
        md.contains(&format!("- {line}")),
        "Markdown names the object"
    );
    assert!(
        html.contains(&format!("<li>{line}")),
        "HTML names the object as the Markdown does"
    );
}

/// The Markdown outside fenced code blocks: what a Markdown renderer parses as inline content,
/// where raw HTML would be rendered. Code blocks show their text as it is.
fn outside_code_blocks(md: &str) -> String {
    let mut fence: Option<String> = None;
    let mut out = String::new();
    for line in md.lines() {
        let ticks: String = line.chars().take_while(|&c| c == '`').collect();
        match &fence {
            Some(f) if ticks.len() >= f.len() && line.trim_end() == ticks => fence = None,
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    assert!(fence.is_none(), "a code block is never closed");
    out
}

/// A GFM table row's cells: split on `|` that no backslash escapes.
fn cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut escaped = false;
    for c in row
        .trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .chars()
    {
        match c {
            '|' if !escaped => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
        escaped = c == '\\' && !escaped;
    }
    cells
}

const HOSTILE: &str = "we<b>b&\"x'|`y`";

/// The write-up host with the hostile string as its host name, its container's name, its image
/// and a member of the docker group (so it reaches headings, evidence, table cells, code spans,
/// the plan and its shell commands).
fn hostile_snapshot() -> Snapshot {
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text("writeup")).unwrap();
    v["host"]["hostname"]["value"] = HOSTILE.into();
    v["host"]["groups"]["value"][1]["members"][1] = HOSTILE.into();
    let c = &mut v["docker"]["containers"]["value"][0]["inspect"];
    c["Name"] = format!("/{HOSTILE}").into();
    c["Config"]["Image"] = format!("webapp:1.4{HOSTILE}").into();
    Snapshot::from_json(&v.to_string()).unwrap()
}

/// Names and values read from the audited host cannot inject HTML, break a table row or a code
/// span, or close a code block, in the assessment and in the threat model.
#[test]
fn markdown_shows_hostile_host_values_as_text() {
    let s = hostile_snapshot();
    let (md, html, threats, _) = render_snapshot(
        &s,
        "1.2.0",
        &["4.5", "5.12", "5.25", "1.2.2"],
        Some("1.2.0"),
    );
    for (what, doc) in [("assessment", &md), ("threat model", &threats)] {
        let text = outside_code_blocks(doc);
        let prose = without_code_spans(&text);
        assert!(
            prose.contains("we&lt;b&gt;b&amp;"),
            "{what}: the name is shown escaped"
        );
        for raw in ["<b>", "</b>", "&\"x"] {
            assert!(
                !prose.contains(raw),
                "{what}: raw {raw:?} outside code: {}",
                prose.lines().find(|l| l.contains(raw)).unwrap()
            );
        }
        // Every table row has as many cells as its table's header.
        let mut width = None;
        for line in text.lines() {
            if !line.starts_with('|') {
                width = None;
                continue;
            }
            let n = cells(line).len();
            match width {
                None => width = Some(n),
                Some(w) => assert_eq!(n, w, "{what}: row split apart: {line}"),
            }
        }
    }
    assert!(!html.contains("we<b>"), "the HTML escapes it as before");
    let text = outside_code_blocks(&md);
    // The docker group's members are listed in a results table cell.
    let row = text
        .lines()
        .find(|l| l.starts_with("| [WARN] 1.2.2 |"))
        .expect("1.2.2 row");
    assert!(row.contains("we&lt;b&gt;b&amp;\"x'\\|\\`y\\`"), "{row}");
    assert!(md.starts_with("# Container security assessment of we&lt;b&gt;b&amp;\"x'|\\`y\\`\n"));
    // A code span holding the name is fenced by more backticks than it holds, and padded
    // because the name ends with one; inside it `<b>` is literal text.
    assert!(
        outside_code_blocks(&threats).contains("- **Targets:** `` we<b>b&\"x'|`y` ``\n"),
        "the target is a code span that holds the name literally"
    );
}

/// A line with its code spans (CommonMark 6.1) left out; backslash-escaped backticks open none.
fn without_code_spans(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let c: Vec<char> = line.chars().collect();
        let run = |i: usize| c[i..].iter().take_while(|&&x| x == '`').count();
        let mut i = 0;
        while i < c.len() {
            if c[i] == '\\' && i + 1 < c.len() {
                out.extend(&c[i..i + 2]);
                i += 2;
            } else if c[i] == '`' {
                let n = run(i);
                let mut j = i + n;
                let close = loop {
                    if j >= c.len() {
                        break None;
                    }
                    if c[j] == '`' {
                        let m = run(j);
                        if m == n {
                            break Some(j + m);
                        }
                        j += m;
                    } else {
                        j += 1;
                    }
                };
                match close {
                    Some(end) => i = end,
                    None => {
                        out.extend(&c[i..i + n]);
                        i += n;
                    }
                }
            } else {
                out.push(c[i]);
                i += 1;
            }
        }
        out.push('\n');
    }
    out
}

/// A selected check that passes does not leave its threats open, needs no fix, and is not said to
/// lack one.
#[test]
fn selected_passing_check_is_not_said_to_leave_threats_open() {
    let s = Snapshot::from_json(&fixture_text("writeup")).unwrap();
    let (md, html, _, _) = render_snapshot(&s, "1.6.0", &["2.3"], None);
    let finding = &md[md.find("### 1. [PASS] 2.3").expect("2.3 passes")..md.find("## 5.").unwrap()];
    assert!(!finding.contains("leaves open"), "{finding}");
    assert!(
        finding.contains("**Threats it guards against.**"),
        "{finding}"
    );
    assert!(!finding.contains("How to fix it"), "{finding}");
    assert!(!finding.contains("no automatic fix"), "{finding}");
    let finding = &html
        [html.find("data-check=\"2.3\"").unwrap()..html.find("id=\"hardening-plan\"").unwrap()];
    assert!(!finding.contains("leaves open"), "{finding}");
    assert!(
        finding.contains("<b>Threats it guards against.</b>"),
        "{finding}"
    );
    assert!(!finding.contains("no automatic fix"), "{finding}");
}

/// The HTML states the figures the Markdown states: the threat counts under the title and, for
/// each benchmark, the count of each status with the score and its share of scored checks.
#[test]
fn html_states_the_counts_and_scores_the_markdown_states() {
    for (name, edition) in [("writeup", "1.2.0"), ("k8s-insecure", "1.6.0")] {
        let (md, html, _, _) = render(name, edition, &[]);
        let figures: Vec<&str> = md
            .lines()
            .filter(|l| l.contains(" threats: ") || l.contains(" checks: "))
            .collect();
        let benchmarks = md.matches("\n### CIS ").count();
        assert_eq!(
            figures.len(),
            1 + benchmarks,
            "{name}: the threat counts and one line per benchmark: {figures:#?}"
        );
        assert!(figures
            .iter()
            .any(|l| l.contains("% of scored checks pass")));
        for line in figures {
            assert!(
                html.contains(&format!("<p>{line}</p>")),
                "{name}: the HTML lacks {line:?}"
            );
        }
    }
}

/// `--select` without `--ids` names the numbering the checks were read in.
#[test]
fn selection_names_the_numbering_it_used() {
    let s = Snapshot::from_json(&fixture_text("writeup")).unwrap();
    let (md, html, _, _) = render_snapshot(&s, "1.6.0", &["2.3"], None);
    assert!(
        md.contains("\nSelected findings: 2.3 (cis-1.6.0).\n"),
        "{md}"
    );
    assert!(html.contains("<p>Selected findings: 2.3 (cis-1.6.0).</p>"));
    assert!(!md.contains("default numbering") && !html.contains("default numbering"));
}

/// A plan step that makes several changes lists them apart, in both formats.
#[test]
fn plan_step_keeps_its_changes_apart() {
    let (md, html, _, _) = render("writeup", "1.2.0", &["4.5", "5.12", "5.25"]);
    let step = "- Plan step `docker-run:web` (web, review):\n  - root file system mounted read-only; the directories it writes get tmpfs mounts\n  - --security-opt no-new-privileges:true: setuid binaries and file capabilities no longer raise privileges\n";
    assert!(md.contains(step), "{md}");
    assert!(!md.contains("tmpfs mounts --security-opt"));
    assert!(html.contains("<li>Plan step <code>docker-run:web</code> (web, review):<ul><li>root file system mounted read-only; the directories it writes get tmpfs mounts</li><li>--security-opt no-new-privileges:true"));
    assert!(!html.contains("tmpfs mounts --security-opt"));
}

/// A daemon reached through a docker CLI context is described by its address and the context
/// it came from; `endpoint` itself stays the address, for tools that read it as one.
#[test]
fn the_header_names_the_docker_context_the_endpoint_came_from() {
    let mut s: Snapshot = serde_json::from_str(&fixture_text("writeup")).unwrap();
    let plain = Target::from_snapshot("docker", &s);
    assert!(
        !plain.describe().contains("context"),
        "{}",
        plain.describe()
    );
    let d = s.docker.as_mut().unwrap();
    d.endpoint.host = "tcp://10.0.0.5:2376".into();
    d.endpoint.source = "context prod".into();
    let t = Target::from_snapshot("docker", &s);
    assert!(
        t.describe()
            .contains("via tcp://10.0.0.5:2376 (docker context prod)"),
        "{}",
        t.describe()
    );
    assert_eq!(t.endpoint.as_deref(), Some("tcp://10.0.0.5:2376"));
    assert_eq!(t.details["docker_context"], "prod");
}

/// A name read from the host that carries terminal escape sequences and a line break cannot
/// colour, clear or forge lines of the terminal threat register.
#[test]
fn terminal_threat_register_shows_control_characters_escaped() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text("writeup")).unwrap();
    let forged = "web\u{1b}[2J\n[MITIGATED]   DKR-E01 forged";
    v["host"]["hostname"]["value"] = forged.into();
    v["docker"]["containers"]["value"][0]["inspect"]["Name"] = format!("/{forged}").into();
    let s = Snapshot::from_json(&v.to_string()).unwrap();
    let (_, _, _, text) = render_snapshot(&s, "1.6.0", &[], None);
    assert!(!text.contains('\u{1b}'), "no raw escape character");
    assert!(
        text.lines()
            .all(|l| !l.starts_with("[MITIGATED]   DKR-E01 forged")),
        "no forged line"
    );
    assert!(text.starts_with("# bulkhead test: STRIDE threat model of web\\u{1b}[2J\\n[MITIGATED]"));
    // The container's name reaches the evidence under an open threat, escaped the same way.
    assert!(text.contains("container web\\u{1b}[2J\\n"), "{text}");
}

/// Harden marks commands in its messages with backticks. The HTML shows them as code, as the
/// Markdown does, and leaves a backtick that has no partner as it is.
#[test]
fn html_shows_the_plan_messages_marked_code_as_code() {
    let (md, html, _, _) = render("k8s-insecure", "1.6.0", &[]);
    let reason =
        "bulkhead has no automatic fix for this check; see `bulkhead checks explain 1.2.3`";
    assert!(md.contains(reason), "the Markdown keeps the code span");
    let plan = &html[html.find("id=\"hardening-plan\"").unwrap()..];
    assert!(
        plan.contains("see <code>bulkhead checks explain 1.2.3</code></li>"),
        "the message's command is code"
    );
    let left = plan
        .find('`')
        .map(|i| &plan[i.saturating_sub(120)..(i + 40).min(plan.len())]);
    assert_eq!(left, None, "a backtick is left in the plan");
}

/// Without the catalog's rationale, what a finding means is told from its check's and threats'
/// titles, which a user `--model` file can supply: they are shown as text in the Markdown, and
/// escaped once (not twice) in the HTML.
#[test]
fn meaning_without_a_rationale_shows_the_titles_as_text() {
    let s = Snapshot::from_json(&fixture_text("writeup")).unwrap();
    let (md, html, _, _) = render_snapshot_with(&s, "1.2.0", &["5.12"], None, |findings| {
        let f = &mut findings[0];
        f.rationale.clear();
        f.title = format!("check {HOSTILE}");
        f.open_threats[0].id = "APP-<i>01".into();
        f.open_threats[0].title = format!("threat {HOSTILE}");
    });
    let line = md
        .lines()
        .find(|l| l.starts_with("**What it means.**"))
        .unwrap();
    assert_eq!(
        without_code_spans(line),
        format!("{line}\n"),
        "no code span opens: {line}"
    );
    for raw in ["<b>", "<i>", "|`y`"] {
        assert!(!line.contains(raw), "raw {raw:?} in {line}");
    }
    assert!(
        line.contains("The check \"check we&lt;b&gt;b&amp;\"x'|\\`y\\`\" does not hold")
            && line.contains("APP-&lt;i&gt;01 (threat we&lt;b&gt;b&amp;"),
        "{line}"
    );
    let html_line = html
        .lines()
        .find(|l| l.starts_with("<p><b>What it means.</b>"))
        .unwrap();
    assert!(
        html_line.contains("The check \"check we&lt;b&gt;b&amp;&quot;x&#39;|`y`\" does not hold")
            && html_line.contains("APP-&lt;i&gt;01 (threat we&lt;b&gt;b&amp;"),
        "{html_line}"
    );
}

/// The fix of 4.5 is one bullet in the benchmark's terms, with only the command and the paths
/// as code, naming the profile file the plan step writes; no second bullet wraps a sentence in a
/// code span or names another file.
#[test]
fn content_trust_fix_is_one_bullet_naming_the_planned_file() {
    let (md, html, _, _) = render("writeup", "1.2.0", &["4.5", "5.12", "5.25"]);
    let start = md.find("### 1. [FAIL] 4.5").unwrap();
    let ct = &md[start..start + md[start..].find("### 2. [FAIL] 5.12").unwrap()];
    let fix = &ct[ct.find("**How to fix it.**").expect(ct)..];
    let bullets: Vec<&str> = fix.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(
        bullets
            .iter()
            .filter(|l| l.contains("As the benchmark asks"))
            .count(),
        1,
        "{fix}"
    );
    assert!(!ct.contains("docker-content-trust.sh"), "{ct}");
    let asked = bullets
        .iter()
        .find(|l| l.contains("As the benchmark asks"))
        .unwrap();
    assert!(
        asked.contains(
            "`export DOCKER_CONTENT_TRUST=1` in `/etc/profile.d/bulkhead-content-trust.sh`"
        ),
        "{asked}"
    );
    assert!(bullets
        .iter()
        .any(|l| l.starts_with("- Plan step `profile:/etc/profile.d/bulkhead-content-trust.sh`")));
    // Every code span is a command, a path or a plan step: none holds a sentence.
    for l in &bullets {
        for (i, span) in l.split('`').enumerate() {
            if i % 2 == 1 {
                assert!(
                    !span.contains(", ") && !span.contains(" (") && span.len() < 60,
                    "a sentence in a code span: {span:?} in {l}"
                );
            }
        }
    }
    // The HTML shows the same words as code, and no backtick.
    let start = html.find("4.5 Ensure Content trust").unwrap();
    let ct = &html[start..start + html[start..].find("5.12 Ensure").unwrap()];
    assert_eq!(ct.matches("As the benchmark asks").count(), 1, "{ct}");
    assert!(
        ct.contains("<code>export DOCKER_CONTENT_TRUST=1</code> in <code>/etc/profile.d/bulkhead-content-trust.sh</code>"),
        "{ct}"
    );
    assert!(!ct.contains('`'), "{ct}");
}

/// A check that judged the host as a whole, not one object, is cited without an object: `4.11
/// manual: ...`, never `4.11 manual on -: ...`, in the terminal register, the threat model's
/// Markdown and the assessment (Markdown and HTML); the JSON keeps `-`.
#[test]
fn evidence_about_the_host_as_a_whole_names_no_object() {
    let (md, html, threats, text) = render("hardened", "1.6.0", &[]);
    for (what, out) in [
        ("assessment", &md),
        ("html", &html),
        ("threats.md", &threats),
        ("threats.txt", &text),
    ] {
        assert!(!out.contains(" on -"), "{what}: {out}");
    }
    assert!(
        text.contains("* 4.11 manual: package signatures are checked"),
        "{text}"
    );
    assert!(
        threats.contains("- 4.11 `manual`: package signatures are checked"),
        "{threats}"
    );
    // An object still reads as one.
    assert!(text.contains(" on container "), "{text}");
    let (_, _, _, text) = render("k8s-insecure", "1.6.0", &[]);
    assert!(
        text.contains("* 5.2.1 warn: no Pod Security Admission"),
        "{text}"
    );
}

/// The write-up host with `n` copies of its container, `web-000` and on, as an HTML assessment
/// with 5.12 selected.
fn html_of_containers(n: usize) -> String {
    report_of_containers(n, &["5.12"], |_, _| {}).1
}

/// The write-up host with `n` copies of its container, `web-000` and on, each changed by
/// `adjust` (given its number and its facts), as the Markdown and the HTML assessment with
/// `select` selected.
fn report_of_containers(
    n: usize,
    select: &[&str],
    adjust: impl Fn(usize, &mut serde_json::Value),
) -> (String, String) {
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text("writeup")).unwrap();
    let base = v["docker"]["containers"]["value"][0].clone();
    let many: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut c = base.clone();
            c["inspect"]["Id"] = format!("{:064x}", 0xabc000 + i).into();
            c["inspect"]["Name"] = format!("/web-{i:03}").into();
            adjust(i, &mut c);
            c
        })
        .collect();
    v["docker"]["containers"]["value"] = many.into();
    let s = Snapshot::from_json(&v.to_string()).unwrap();
    let (md, html, _, _) = render_snapshot(&s, "1.2.0", select, Some("1.2.0"));
    (md, html)
}

/// The "What bulkhead saw" lists of the analysed findings: in the HTML, each list with its
/// heading; in the Markdown, the lines between its heading and the next.
fn seen_lists(md: &str, html: &str) -> (Vec<String>, Vec<String>) {
    let start = "<p><b>What bulkhead saw.</b></p><ul>";
    let html = html
        .split(start)
        .skip(1)
        .map(|t| format!("{start}{}</ul>", t.split("</ul>").next().unwrap()))
        .collect();
    let md = md
        .split("**What bulkhead saw.**\n\n")
        .skip(1)
        .map(|t| t.split("\n\n").next().unwrap().to_string())
        .collect();
    (md, html)
}

/// A host with 500 containers: the finding's one observation on every container (5.12, the root
/// file system is writable) is one item that says how many containers and what was seen once,
/// then names each of them, in the HTML and in the Markdown. Before, it was one item per
/// container: 41,041 bytes of this page (97,911 of the Chromium test's 500-container page, with
/// two such findings), 82 bytes a container; now 4,643 (10,145), 9 bytes a container, its name
/// and a comma.
#[test]
fn an_observation_on_500_containers_is_one_item_naming_each_of_them() {
    let (md50, html50) = report_of_containers(50, &["5.12"], |_, _| {});
    let (md, html) = report_of_containers(500, &["5.12"], |_, _| {});
    let (md50, html50) = seen_lists(&md50, &html50);
    let (md500, html500) = seen_lists(&md, &html);
    let (h, m) = (&html500[0], &md500[0]);
    eprintln!(
        "what bulkhead saw, 50 -> 500 containers: HTML {} -> {} bytes, Markdown {} -> {} bytes; pages {} bytes (HTML), {} bytes (Markdown)",
        html50[0].len(),
        h.len(),
        md50[0].len(),
        m.len(),
        html.len(),
        md.len()
    );
    // Compact: one item, growing by a container's name and a comma.
    let per = |a: &str, b: &str| (b.len() as f64 - a.len() as f64) / 450.0;
    for (what, a, b) in [("HTML", &html50[0], h), ("Markdown", &md50[0], m)] {
        assert!(
            per(a, b) <= 10.0,
            "the {what} list grows by {:.1} bytes a container",
            per(a, b)
        );
        assert!(b.len() < 6_000, "the {what} list is {} bytes: {b}", b.len());
    }
    assert_eq!(h.matches("<li").count(), 1, "{h}");
    assert!(h.starts_with(
        "<p><b>What bulkhead saw.</b></p><ul><li class=\"fail\">fail on 500 containers: HostConfig.ReadonlyRootfs = false<div class=\"names\">web-000, web-001, web-002, "
    ), "{h}");
    assert!(h.ends_with(", web-498, web-499</div></li></ul>"), "{h}");
    assert_eq!(m.lines().count(), 2, "{m}");
    assert!(m.starts_with(
        "- fail on 500 containers: HostConfig.ReadonlyRootfs = false\n  - 500 containers: web-000, web-001, "
    ), "{m}");
    // Every container is named there, once.
    for i in 0..500 {
        let name = format!("web-{i:03}");
        assert_eq!(
            h.matches(&format!("{name},")).count() + h.matches(&format!("{name}<")).count(),
            1,
            "{name}"
        );
        assert_eq!(
            m.matches(&format!("{name},")).count() + usize::from(m.ends_with(&name)),
            1,
            "{name}"
        );
    }
}

/// Observations that differ stay items of their own, where they were; fewer than ten alike are
/// listed one by one, as before (the golden reports' hosts have one container).
#[test]
fn differing_observations_and_fewer_than_ten_alike_are_listed_one_by_one() {
    // Twelve containers without no-new-privileges, one of them (web-005) with it turned off.
    let (md, html) = report_of_containers(12, &["5.25"], |i, c| {
        if i == 5 {
            c["inspect"]["HostConfig"]["SecurityOpt"] =
                serde_json::json!(["no-new-privileges=false"]);
        }
    });
    let (md, html) = seen_lists(&md, &html);
    let others = "web-000, web-001, web-002, web-003, web-004, web-006, web-007, web-008, web-009, web-010, web-011";
    assert_eq!(
        html[0],
        format!(
            "<p><b>What bulkhead saw.</b></p><ul><li class=\"fail\">fail on 11 containers: HostConfig.SecurityOpt = not set on the container or the daemon<div class=\"names\">{others}</div></li><li class=\"fail\">fail on container web-005: HostConfig.SecurityOpt = no-new-privileges=false</li></ul>"
        )
    );
    assert_eq!(
        md[0],
        format!(
            "- fail on 11 containers: HostConfig.SecurityOpt = not set on the container or the daemon\n  - 11 containers: {others}\n- fail on container web-005: HostConfig.SecurityOpt = no-new-privileges=false"
        )
    );
    // Nine alike: nine items, as each was always shown.
    let (md, html) = report_of_containers(9, &["5.12"], |_, _| {});
    let (md, html) = seen_lists(&md, &html);
    let (mut want_md, mut want_html) = (Vec::new(), String::new());
    for i in 0..9 {
        want_md.push(format!(
            "- fail on container web-00{i}: HostConfig.ReadonlyRootfs = false"
        ));
        want_html.push_str(&format!(
            "<li class=\"fail\">fail on container web-00{i}: HostConfig.ReadonlyRootfs = false</li>"
        ));
    }
    assert_eq!(md[0], want_md.join("\n"));
    assert_eq!(
        html[0],
        format!("<p><b>What bulkhead saw.</b></p><ul>{want_html}</ul>")
    );
}

/// The bytes of the threat sections' target lists and of their evidence tables in a page.
fn targets_and_evidence_bytes(html: &str) -> (usize, usize) {
    let part = |start: &str, end: &str| -> usize {
        html.split(start)
            .skip(1)
            .map(|t| start.len() + t.split(end).next().unwrap().len() + end.len())
            .sum()
    };
    (
        part("<p class=\"targets\">", "</p>"),
        part("<table class=\"evidence\">", "</table>"),
    )
}

/// What each container adds to the threat sections' target lists and evidence tables, measured
/// on the rendered pages of 50 and of 500 containers: a few bytes (its name in the table of the
/// host's images, say), not a link in each of the nine threats' targets and a name in each of
/// the 43 evidence rows about all containers. Before, a 500-container page (the Chromium
/// test's) had 253 KB of target lists and 518 KB of evidence tables, 1,540 bytes a container;
/// now 11 KB and 96 KB, and this page 4 KB and 42 KB.
#[test]
fn html_target_lists_and_evidence_tables_grow_little_with_the_containers() {
    let (t50, e50) = targets_and_evidence_bytes(&html_of_containers(50));
    let html = html_of_containers(500);
    let (t500, e500) = targets_and_evidence_bytes(&html);
    eprintln!(
        "targets {t50} -> {t500} bytes, evidence tables {e50} -> {e500} bytes, page {} bytes",
        html.len()
    );
    let per = |a: usize, b: usize| (b as f64 - a as f64) / 450.0;
    assert!(
        per(t50, t500) < 2.0,
        "the target lists grow by {:.1} bytes a container",
        per(t50, t500)
    );
    assert!(
        per(e50, e500) < 2.0,
        "the evidence tables grow by {:.1} bytes a container",
        per(e50, e500)
    );
    assert!(
        t500 + e500 < 500 * 200,
        "at 500 containers the target lists and evidence tables are {} bytes, {} a container",
        t500 + e500,
        (t500 + e500) / 500
    );
}

/// A host with 500 containers: each check's identical result on every container is one
/// evidence row naming them all, the containers that share their threats share one row of the
/// element table, and the diagram sums up the containers it cannot show, so the
/// page stays small enough to open (before: 6.3 MB, 177,000 elements, 15 s to load in
/// Chromium; 3,503 rows in one evidence table). Printed, every table repeats its header row on
/// each page and no row is split between two pages.
#[test]
fn html_of_500_containers_shares_evidence_and_element_rows_and_prints_table_headers() {
    let html = html_of_containers(500);
    assert!(
        html.len() < 600_000,
        "the page is {} bytes for 500 containers",
        html.len()
    );
    let rows = html
        .split("<table class=\"evidence\">")
        .skip(1)
        .map(|t| t.split("</table>").next().unwrap().matches("<tr>").count())
        .max()
        .unwrap();
    assert!(rows < 60, "an evidence table has {rows} rows");
    // Those objects are all the containers of their shared row of the element table, so the
    // row is named once, by a link to it, with the first and last container; so are the nine
    // threats' targets, and the image's list of the containers that use it.
    let group =
        "the <a href=\"#row-el-dkr.container:web-000\">500 elements</a> of one element-table row";
    assert!(html.contains(&format!(
        "<td>500 objects: {group} (container web-000 … container web-499)</td>"
    )));
    assert!(html.contains(&format!(
        "<p class=\"targets\">Targets: {group} (web-000 … web-499)</p>"
    )));
    assert!(html.contains(&format!(
        "<span>500 flows Start and supervise <var>name</var>, one for each of {group} (web-000 … web-499)</span>"
    )));
    assert!(html.contains(&format!("<td>used by = {group} (web-000 … web-499)</td>")));
    // Outside the diagram (which draws a few containers and sums up the rest), no container is
    // linked one by one.
    let after_diagram = html.split("</svg>").nth(1).unwrap();
    assert_eq!(
        after_diagram
            .matches("<a href=\"#el-dkr.container:")
            .count(),
        0
    );
    assert!(!html.contains("container web-001,") && !html.contains("flow Start and supervise"));
    // The containers share their threats, so they share one row of the element table: it names
    // each of them once, with its anchor, says their boundaries once and links their nine
    // threats once. Before, each container had a row repeating those links (838 KB, 1,676 bytes a
    // container, half the page).
    let table = html
        .split("<table class=\"elements\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap();
    assert!(
        table.len() < 500 * 100,
        "the element table is {} bytes, {} a container",
        table.len(),
        table.len() / 500
    );
    assert_eq!(
        table.matches("<span id=\"el-dkr.container:web-").count(),
        500
    );
    for i in [0, 1, 250, 499] {
        let name = format!("web-{i:03}");
        assert!(
            table.contains(&format!(
                "<span id=\"el-dkr.container:{name}\">{name}</span>"
            )),
            "{name} is named in the element table"
        );
    }
    assert!(table.contains(
        "<tr class=\"shared\" id=\"row-el-dkr.container:web-000\"><td><div class=\"names\">500 elements: "
    ));
    // Each container's boundary is its own, named after it: said once, not 500 times.
    assert!(table.contains("<td>each its own: Container <var>its name</var> (trust 20)</td>"));
    assert_eq!(table.matches("<a href=\"#threat-DKR-E01\"").count(), 1);
    // Every table's header is its <thead>, repeated on each printed page.
    assert_eq!(
        html.matches("<table").count(),
        html.matches("<thead>").count()
    );
    assert!(!html.contains("<table><tr>") && !html.contains("\"><tr><th>"));
    assert!(html.contains("thead{display:table-header-group}tr,li,.note{break-inside:avoid}"));
}

/// The evidence table of one threat section, from its heading to the end of its table.
fn evidence_table_of<'a>(html: &'a str, threat: &str) -> &'a str {
    html.split(&format!("<section class=\"threat\" id=\"threat-{threat}\""))
        .nth(1)
        .and_then(|t| t.split("<table class=\"evidence\">").nth(1))
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("{threat} has an evidence table"))
}

/// What a check saw can name the container itself (5.26 reads `/proc/<pid>/status` of each),
/// so one result on many containers is as many observations. Twelve containers, each with its
/// own memory limit (all pass 5.10): one evidence row, which says how many observations and
/// lists each container with what was seen on it, folded away; before, twelve rows, and a
/// real host with 30 containers showed 25 rows of 5.26 in each threat it backs.
#[test]
fn one_result_seen_differently_on_many_containers_is_one_evidence_row() {
    let (_, html) = report_of_containers(12, &["5.12"], |i, c| {
        c["inspect"]["HostConfig"]["Memory"] = ((i as u64 + 1) * 64 * 1024 * 1024).into();
    });
    let table = evidence_table_of(&html, "DKR-D01");
    let rows: Vec<&str> = table
        .split("<tr>")
        .filter(|r| r.contains("docker.<wbr>container.<wbr>memory_limit"))
        .collect();
    assert_eq!(rows.len(), 1, "{table}");
    let row = rows[0];
    assert!(
        row.contains("<td>12 objects: the <a href=\"#row-el-dkr.container:web-000\">12 elements</a> of one element-table row (container web-000 … container web-011)</td>"),
        "{row}"
    );
    assert!(
        row.contains("<details class=\"each\"><summary>12 observations, one for each object</summary><ul><li>container web-000: "),
        "{row}"
    );
    for i in 0..12 {
        assert_eq!(
            row.matches(&format!("<li>container web-{i:03}: ")).count(),
            1,
            "web-{i:03} listed once with its value: {row}"
        );
    }
    // On paper the folded list is printed.
    assert!(html.contains("details.each::details-content{content-visibility:visible}"));
    // Fewer than ten stay rows of their own, as before.
    let (_, html) = report_of_containers(9, &["5.12"], |i, c| {
        c["inspect"]["HostConfig"]["Memory"] = ((i as u64 + 1) * 64 * 1024 * 1024).into();
    });
    let table = evidence_table_of(&html, "DKR-D01");
    assert_eq!(
        table
            .split("<tr>")
            .filter(|r| r.contains("memory_limit"))
            .count(),
        9
    );
    assert!(!table.contains("<details"));
}

/// The data flows, numbered as the diagram numbers them, are a table of text: the diagram is
/// one image to a screen reader and leaves out the flows of the containers it does not draw.
/// The flows from containerd to each of 500 containers are one row; before, no flow was listed
/// outside the diagram.
#[test]
fn html_lists_every_data_flow_as_text_and_shares_the_flows_to_500_containers() {
    let (_, html, _, _) = render("writeup", "1.2.0", &["4.5", "5.12", "5.25"]);
    let flows = html
        .split("<h3>Data flows</h3><div class=\"wide\"><table class=\"flows\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("a data-flow table");
    assert!(flows.contains("<th>No.</th><th>From</th><th>To</th><th>Protocol, address</th><th>Authentication</th><th>Encryption</th><th>Status</th>"));
    let rows = flows.matches("<tr><td>").count();
    let s = Snapshot::from_json(&fixture_text("writeup")).unwrap();
    let docker_flows = {
        // The diagram numbers each flow of the model; the table shows the same numbers.
        let svg = html
            .split("<svg")
            .nth(1)
            .unwrap()
            .split("</svg>")
            .next()
            .unwrap();
        svg.matches("<g class=\"flow\"").count()
    };
    assert!(s.docker.is_some());
    assert_eq!(rows, docker_flows, "{flows}");
    assert!(
        flows.contains("<tr><td>1</td><td><a href=\"#el-"),
        "{flows}"
    );
    assert!(
        flows.contains("<span class=\"status "),
        "status in words: {flows}"
    );
    let html = html_of_containers(500);
    let flows = html
        .split("<table class=\"flows\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap();
    assert!(
        flows.len() < 20_000,
        "the flow table is {} bytes",
        flows.len()
    );
    assert!(
        flows.contains("(500 flows)</td>") && flows.contains("the <a href=\"#row-el-dkr.container:web-000\">500 elements</a> of one element-table row (web-000 … web-499)"),
        "{flows}"
    );
}

/// A control ID breaks at its dots, not inside its words (`docker.contain` / `er.no_new_pri`);
/// a check's status tag stays with its ID; a threat that targets nothing here says so.
#[test]
fn html_breaks_ids_between_words_and_says_when_nothing_is_targeted() {
    let (_, html, _, _) = render("writeup", "1.2.0", &["4.5", "5.12", "5.25"]);
    assert!(
        html.contains("<td class=\"control\">docker.<wbr>container.<wbr>no_new_privileges</td>")
    );
    assert!(!html.contains("<td>docker.container.no_new_privileges</td>"));
    assert!(html.contains("td.control{overflow-wrap:break-word}"));
    assert!(html.contains("td.not_applicable{overflow-wrap:normal;white-space:nowrap}"));
    assert!(!html.contains("<p class=\"targets\">Targets: </p>"));
    assert!(html.contains("<p class=\"targets\">Targets: none on this host</p>"));
}
