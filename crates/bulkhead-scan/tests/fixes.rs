//! The scanner's fixes are made with the one editor of each kind in `bulkhead_scan::fixes` (the
//! editors bulkhead-harden's fixers use too): each test applies a finding's fix, checks the text
//! byte for byte, and checks that the same editor called directly (as harden calls it) writes
//! the same thing.

use bulkhead_scan::fixes::{compose, dockerfile, json, yaml};
use bulkhead_scan::{apply_edits, scan_inputs, ArtifactKind, Finding, Input, ScanOptions};
use serde_json::json;

fn findings(path: &str, kind: ArtifactKind, text: &str) -> Vec<Finding> {
    let r = scan_inputs(
        &[Input {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
            kind: Some(kind),
        }],
        &ScanOptions::default(),
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r.findings
}

/// The text after the fix of the first finding of `rule` (the finding must have one).
fn fixed(path: &str, kind: ArtifactKind, text: &str, rule: &str) -> String {
    let all = findings(path, kind, text);
    let f = all
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} in {text}"));
    let fix = f
        .fix
        .as_ref()
        .unwrap_or_else(|| panic!("{rule} has no fix"));
    apply_edits(text, &fix.edits).unwrap()
}

fn rules(path: &str, kind: ArtifactKind, text: &str) -> Vec<String> {
    findings(path, kind, text)
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn dockerfile_user_is_the_editor_harden_uses() {
    // PITFALLS "Artifact scanners" 1: the builder's USER does not cover the final stage; the new
    // USER goes after the last build step of the final stage, before its run-time metadata.
    let text = "FROM golang:1.22 AS build\nUSER builder\nRUN go build -o /app .\n\nFROM debian:12.5\nCOPY --from=build /app /app\nRUN chown -R 10001 /srv\nEXPOSE 8080\nCMD [\"/app\"]\n";
    let out = fixed(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        text,
        "dockerfile-no-user",
    );
    assert_eq!(
        out,
        text.replace("EXPOSE 8080\n", "USER 10001:10001\nEXPOSE 8080\n")
    );
    assert_eq!(
        dockerfile::set_user(text, None, "10001:10001").unwrap(),
        Some(out.clone()),
        "harden's Dockerfile fixer writes the same"
    );
    assert!(!rules("Dockerfile", ArtifactKind::Dockerfile, &out)
        .contains(&"dockerfile-no-user".to_string()));
    // A root USER is replaced in place, trailing text kept.
    let text = "FROM alpine:3.20\nARG UID=0\nUSER ${UID}   \nCMD [\"sh\"]\n";
    let out = fixed(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        text,
        "dockerfile-root-final-stage",
    );
    assert_eq!(out, text.replace("USER ${UID}   ", "USER 10001:10001   "));
}

#[test]
fn dockerfile_healthcheck_probes_the_exposed_port() {
    let text = "FROM nginx:1.25\nCOPY site /usr/share/nginx/html\nUSER 10001\nEXPOSE 80\n";
    let out = fixed(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        text,
        "dockerfile-healthcheck-missing",
    );
    assert_eq!(
        out,
        "FROM nginx:1.25\nCOPY site /usr/share/nginx/html\nUSER 10001\nHEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD nc -z 127.0.0.1 80 || exit 1\nEXPOSE 80\n"
    );
    assert_eq!(
        dockerfile::add_healthcheck(text, None, "nc -z 127.0.0.1 80 || exit 1").unwrap(),
        Some(out)
    );
    // Without a port nothing says what to probe: the finding has no fix.
    let none = findings(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM alpine:3.20\nUSER 10001\n",
    );
    let f = none
        .iter()
        .find(|f| f.rule == "dockerfile-healthcheck-missing")
        .unwrap();
    assert!(f.fix.is_none());
}

#[test]
fn kubernetes_security_context_is_written_as_a_block_and_comments_survive() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web  # the shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: app   # main\n          image: shop:1.4\n          # ports follow\n          ports:\n            - containerPort: 8080\n";
    let once = fixed(
        "deploy.yaml",
        ArtifactKind::Kubernetes,
        text,
        "k8s-privilege-escalation",
    );
    assert_eq!(
        once,
        text.replace(
            "            - containerPort: 8080\n",
            "            - containerPort: 8080\n          securityContext:\n            allowPrivilegeEscalation: false\n"
        )
    );
    // The next fix, computed on the fixed text, joins the securityContext it created.
    let twice = fixed(
        "deploy.yaml",
        ArtifactKind::Kubernetes,
        &once,
        "k8s-writable-root-fs",
    );
    assert!(
        twice.ends_with("          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n"),
        "{twice}"
    );
    assert!(twice.contains("  name: web  # the shop\n") && twice.contains("# ports follow"));
    let left = rules("deploy.yaml", ArtifactKind::Kubernetes, &twice);
    assert!(!left.contains(&"k8s-privilege-escalation".to_string()));
    assert!(!left.contains(&"k8s-writable-root-fs".to_string()));
    // A value written as a YAML 1.1 boolean is replaced in place.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: yes   # debug\n  containers:\n  - name: c\n    image: x:1\n";
    assert_eq!(
        fixed("pod.yaml", ArtifactKind::Kubernetes, text, "k8s-host-pid"),
        text.replace("hostPID: yes", "hostPID: false")
    );
}

#[test]
fn compose_no_new_privileges_is_added_to_an_existing_list() {
    // The list already holds another option: the option is appended, the rest stays.
    let text = "services:\n  web:\n    image: nginx:1.25\n    security_opt:\n      - apparmor=docker-default\n    ports:\n      - \"8080:80\"\n";
    let out = fixed(
        "compose.yaml",
        ArtifactKind::Compose,
        text,
        "compose-no-new-privileges",
    );
    assert_eq!(
        out,
        text.replace(
            "      - apparmor=docker-default\n",
            "      - apparmor=docker-default\n      - no-new-privileges:true\n"
        )
    );
    let sp = compose::no_new_privileges(text, "web").unwrap().unwrap();
    assert_eq!(
        sp.apply(text),
        out,
        "harden's compose patch writes the same"
    );
    let out = fixed(
        "compose.yaml",
        ArtifactKind::Compose,
        text,
        "compose-read-only",
    );
    assert_eq!(
        out,
        yaml::set(
            text,
            0,
            &[yaml::Seg::Key("services"), yaml::Seg::Key("web")],
            "read_only",
            &json!(true)
        )
        .unwrap()
    );
    assert!(
        out.ends_with("      - \"8080:80\"\n    read_only: true\n"),
        "{out}"
    );
}

#[test]
fn daemon_json_keys_follow_the_files_layout() {
    // Four-space indentation and CRLF line ends are the file's; the key goes after the last one.
    let text = "{\r\n    \"icc\": false,\r\n    \"log-driver\": \"journald\"\r\n}\r\n";
    let out = fixed(
        "daemon.json",
        ArtifactKind::DaemonJson,
        text,
        "daemon-live-restore",
    );
    assert_eq!(
        out,
        "{\r\n    \"icc\": false,\r\n    \"log-driver\": \"journald\",\r\n    \"live-restore\": true\r\n}\r\n"
    );
    assert_eq!(
        json::set(text, &["live-restore"], &json!(true)).unwrap(),
        out
    );
}

/// `text` (written with `\n`) as a Windows editor saves it: CRLF line ends, and a byte order mark
/// when `bom`.
fn windows(text: &str, bom: bool) -> String {
    format!(
        "{}{}",
        if bom { "\u{feff}" } else { "" },
        text.replace('\n', "\r\n")
    )
}

/// Where byte `off` of the LF text is in its [`windows`] form.
fn windows_offset(lf: &str, off: usize, bom: bool) -> usize {
    off + lf[..off].matches('\n').count() + if bom { 3 } else { 0 }
}

/// A `\n` not preceded by `\r`, with the text around it.
fn bare_lf(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len())
        .find(|&i| b[i] == b'\n' && (i == 0 || b[i - 1] != b'\r'))
        .map(|i| format!("{:?}", &text[i.saturating_sub(40)..i + 1]))
}

/// The same file saved with CRLF line ends (and a byte order mark when `bom`) gets the same
/// findings at the same lines and columns, and each fix writes what the LF file's fix writes,
/// with CRLF line ends: no line of the fixed file ends in a bare `\n`, the mark stays where there
/// was one and none appears where there was none. So do all fixes applied together. Returns how
/// many fixes were compared.
fn crlf_fixes_match_lf(path: &str, kind: ArtifactKind, lf: &str, bom: bool) -> usize {
    let crlf = windows(lf, bom);
    let want = findings(path, kind, lf);
    let got = findings(path, kind, &crlf);
    let summary = |v: &[Finding]| -> Vec<(String, u32)> {
        v.iter()
            .map(|f| (f.rule.clone(), f.location.line))
            .collect()
    };
    assert_eq!(
        summary(&got),
        summary(&want),
        "{path}: CRLF findings differ"
    );
    let mut compared = 0;
    for (g, w) in got.iter().zip(&want) {
        let what = format!("{path} {} line {}", w.rule, w.location.line);
        let (gl, wl) = (&g.location, &w.location);
        assert_eq!(
            (gl.line, gl.column, gl.end_line, gl.end_column),
            (wl.line, wl.column, wl.end_line, wl.end_column),
            "{what}: position"
        );
        assert_eq!(
            gl.offset,
            windows_offset(lf, wl.offset, bom),
            "{what}: offset"
        );
        assert_eq!(
            gl.offset + gl.length,
            windows_offset(lf, wl.offset + wl.length, bom),
            "{what}: length"
        );
        assert_eq!(g.snippet.replace('\r', ""), w.snippet, "{what}: snippet");
        assert!(!g.snippet.starts_with('\u{feff}'), "{what}: snippet");
        assert_eq!(g.message, w.message, "{what}: message");
        assert_eq!(g.fingerprint, w.fingerprint, "{what}: fingerprint");
        let (Some(gf), Some(wf)) = (&g.fix, &w.fix) else {
            assert_eq!(g.fix.is_some(), w.fix.is_some(), "{what}: fix");
            continue;
        };
        assert_eq!(gf.edits.len(), wf.edits.len(), "{what}: edits");
        for (ge, we) in gf.edits.iter().zip(&wf.edits) {
            assert_eq!(
                (ge.line, ge.column),
                (we.line, we.column),
                "{what}: edit position"
            );
            assert_eq!(
                ge.offset,
                windows_offset(lf, we.offset, bom),
                "{what}: edit offset"
            );
            assert_eq!(
                ge.replacement,
                we.replacement.replace('\n', "\r\n"),
                "{what}: edit text"
            );
        }
        let fixed = apply_edits(&crlf, &gf.edits).unwrap();
        let fixed_lf = apply_edits(lf, &wf.edits).unwrap();
        assert_eq!(fixed, windows(&fixed_lf, bom), "{what}: fixed text");
        assert_eq!(bare_lf(&fixed), None, "{what}: bare LF in\n{fixed}");
        compared += 1;
    }
    let all = |v: &[Finding], text: &str| {
        let plan = bulkhead_scan::fixes::plan(v, bulkhead_scan::Safety::Review);
        assert_eq!(plan.len(), 1, "{path}: one file");
        bulkhead_scan::fixes::apply(text, &plan[0]).unwrap()
    };
    let fixed = all(&got, &crlf);
    assert_eq!(fixed, windows(&all(&want, lf), bom), "{path}: all fixes");
    assert_eq!(bare_lf(&fixed), None, "{path}: bare LF in\n{fixed}");
    // The fixed file scans again with the same findings as the fixed LF file.
    assert_eq!(
        summary(&findings(path, kind, &fixed)),
        summary(&findings(path, kind, &all(&want, lf))),
        "{path}: after all fixes"
    );
    compared
}

#[test]
fn dockerfile_fixes_keep_crlf_line_ends() {
    // Continuation lines, a heredoc, a builder stage, run-time metadata the new lines go before.
    let text = "# syntax=docker/dockerfile:1\nFROM golang:1.22 AS build\nUSER builder\nRUN go build -o /app . \\\n && strip /app\n\nFROM debian:12.5\nMAINTAINER someone@example.invalid\nRUN apt-get update \\\n && apt-get install -y curl=7.88.1-10 \\\n && rm -rf /var/lib/apt/lists/*\nRUN <<EOF\napt-get install -y ca-certificates=20230311\nEOF\nADD app.conf /etc/app.conf\nCOPY --from=build /app /app\nEXPOSE 8080\nCMD [\"/app\"]\n";
    assert!(crlf_fixes_match_lf("Dockerfile", ArtifactKind::Dockerfile, text, false) >= 5);
    // A root USER replaced in place; a file without a final line break gets its USER on a line
    // of its own, ended like the others.
    let text = "FROM alpine:3.20\nUSER root\nRUN make\nEXPOSE 80\nCMD [\"app\"]";
    assert!(crlf_fixes_match_lf("Dockerfile", ArtifactKind::Dockerfile, text, false) >= 2);
    // docker build reads a Dockerfile that starts with a byte order mark, so bulkhead scans and
    // fixes it too, keeping the mark.
    assert!(crlf_fixes_match_lf("Dockerfile", ArtifactKind::Dockerfile, text, true) >= 2);
    let text = "FROM scratch\nCOPY app /app";
    assert_eq!(
        fixed(
            "Dockerfile",
            ArtifactKind::Dockerfile,
            &windows(text, false),
            "dockerfile-no-user"
        ),
        "FROM scratch\r\nCOPY app /app\r\nUSER 10001:10001\r\n"
    );
    // harden's Dockerfile fixers call the same editor.
    let text = windows(
        "FROM alpine:3.20\nHEALTHCHECK NONE\nUSER 0\nCMD [\"sh\"]\n",
        false,
    );
    let out = dockerfile::set_user(&text, None, "10001").unwrap().unwrap();
    let out = dockerfile::add_healthcheck(&out, None, "true")
        .unwrap()
        .unwrap();
    assert_eq!(
        out,
        "FROM alpine:3.20\r\nHEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD true\r\nUSER 10001\r\nCMD [\"sh\"]\r\n"
    );
    let out = dockerfile::add_healthcheck(
        &windows("FROM alpine:3.20\nCMD [\"sh\"]\n", false),
        None,
        "true",
    )
    .unwrap()
    .unwrap();
    assert_eq!(bare_lf(&out), None, "{out}");
}

#[test]
fn compose_fixes_keep_crlf_line_ends_and_the_byte_order_mark() {
    // Values replaced in place, a key added after the last entry, a list item replaced, an item
    // appended to a flow list, a list created; the last service ends the file without a final
    // line break.
    let text = "# stack\nservices:\n  web:\n    image: nginx:1.25   # pinned\n    privileged: true\n    user: root\n    security_opt:\n      - no-new-privileges:false\n    environment:\n      MODE: prod\n\n  worker:\n    image: worker:1.0\n    security_opt: [label=disable]\n  db:\n    image: postgres:16";
    for bom in [false, true] {
        assert!(crlf_fixes_match_lf("compose.yaml", ArtifactKind::Compose, text, bom) >= 6);
    }
    // harden's compose patch.
    let crlf = windows(
        "services:\n  web:\n    image: nginx:1.25\n\n  db:\n    image: postgres:16\n",
        true,
    );
    let out = compose::no_new_privileges(&crlf, "web")
        .unwrap()
        .unwrap()
        .apply(&crlf);
    assert_eq!(
        out,
        "\u{feff}services:\r\n  web:\r\n    image: nginx:1.25\r\n    security_opt:\r\n      - no-new-privileges:true\r\n\r\n  db:\r\n    image: postgres:16\r\n"
    );
}

#[test]
fn kubernetes_fixes_keep_crlf_line_ends_and_the_byte_order_mark() {
    // Two documents: a Deployment whose container gets a new securityContext block and a hostPID
    // replaced, a Pod whose flow securityContext gets keys in flow style.
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web  # the shop\nspec:\n  template:\n    spec:\n      hostPID: yes\n      containers:\n        - name: app   # main\n          image: shop:1.4\n          ports:\n            - containerPort: 8080\n        - name: side\n          image: side:1.0\n          securityContext:\n            privileged: true\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    securityContext: {runAsNonRoot: true}\n";
    for bom in [false, true] {
        assert!(crlf_fixes_match_lf("deploy.yaml", ArtifactKind::Kubernetes, text, bom) >= 6);
    }
    // A manifest written as JSON gets its new members on lines of their own.
    let json = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\n    \"containers\": [\n      {\n        \"name\": \"c\",\n        \"image\": \"x:1\"\n      }\n    ]\n  }\n}\n";
    assert!(crlf_fixes_match_lf("pod.json", ArtifactKind::Kubernetes, json, false) >= 2);
}

/// Editors do not show a byte order mark: it is not a column of the first line, not part of a
/// snippet, and an edit of the first line's text or of whole lines keeps it.
#[test]
fn a_byte_order_mark_is_kept_and_is_not_a_column() {
    let text = "\u{feff}services: {web: {image: \"nginx:1.25\", privileged: true}}\r\n";
    let f = findings("compose.yaml", ArtifactKind::Compose, text);
    let p = f.iter().find(|f| f.rule == "compose-privileged").unwrap();
    assert_eq!(
        (p.location.column, p.location.end_column),
        (51, 55),
        "columns as an editor shows them"
    );
    assert_eq!(p.fix.as_ref().unwrap().edits[0].column, 51);
    assert_eq!(
        &text[p.location.offset..p.location.offset + p.location.length],
        "true"
    );
    assert!(p.snippet.starts_with("services:"), "{}", p.snippet);
    assert_eq!(
        yaml::remove_item("\u{feff}- a\r\n- b\r\n", 0, &[], 0).unwrap(),
        "\u{feff}- b\r\n"
    );
    assert_eq!(
        yaml::set("\u{feff}a: 1\r\n", 0, &[], "b", &json!(2)).unwrap(),
        "\u{feff}a: 1\r\nb: 2\r\n"
    );
}

#[test]
fn daemon_json_fixes_keep_crlf_line_ends() {
    let text = "{\n  \"icc\": true,\n  \"log-driver\": \"json-file\",\n  \"log-opts\": {\"max-size\": \"10m\"}\n}\n";
    assert!(crlf_fixes_match_lf("daemon.json", ArtifactKind::DaemonJson, text, false) >= 2);
}

/// daemon-icc's fix turns iptables back on when the file disables it (dockerd refuses `"icc":
/// false` without iptables), and daemon-iptables' fix makes the same edit of the `iptables`
/// value. Whichever fixes are planned together (every finding's, the two rules', daemon-icc's
/// alone, daemon-iptables' alone), each result is JSON with one `iptables` member, and a new scan
/// finds neither rule once their fixes are in; the edit both fixes share is made once, not
/// refused as an overlap.
#[test]
fn daemon_icc_and_iptables_fixes_share_the_iptables_edit() {
    use bulkhead_scan::fixes::{apply, plan};
    use bulkhead_scan::Safety;
    let texts = [
        "{\n  \"iptables\": false\n}\n",
        "{\n  \"iptables\": false,\n  \"log-driver\": \"journald\"\n}\n",
        "{\n  \"icc\": true,\n  \"iptables\": false\n}\n",
        "{\n  \"icc\": false,\n  \"iptables\": false\n}\n",
        "{\"log-level\": \"debug\", \"iptables\": false}",
        "{\r\n    \"iptables\": false\r\n}\r\n",
    ];
    // The text after one round of the chosen rules' fixes (None: every fix), checked on the way.
    let round = |text: &str, chosen: Option<&[&str]>| -> String {
        let all = findings("daemon.json", ArtifactKind::DaemonJson, text);
        let picked: Vec<Finding> = all
            .iter()
            .filter(|f| chosen.is_none_or(|c| c.contains(&f.rule.as_str())))
            .cloned()
            .collect();
        let planned = plan(&picked, Safety::Review);
        let Some(file) = planned.first() else {
            return text.to_string();
        };
        if let Some(c) = chosen {
            assert!(
                file.deferred.is_empty(),
                "{text} {c:?}: {:?}",
                file.deferred
            );
            for rule in c {
                assert!(
                    file.fixes.iter().any(|(r, _, _)| r == rule),
                    "{text}: {rule} not fixed: {:?}",
                    file.fixes
                );
            }
        }
        let out = apply(text, file).unwrap();
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap_or_else(|e| panic!("{chosen:?} on {text}: not JSON ({e}):\n{out}"));
        assert_eq!(out.matches("\"iptables\"").count(), 1, "{out}");
        assert!(
            !rules("daemon.json", ArtifactKind::DaemonJson, &out)
                .contains(&"daemon-iptables".into()),
            "{chosen:?} on {text}: daemon-iptables left\n{out}"
        );
        out
    };
    for text in texts {
        for chosen in [
            &["daemon-icc", "daemon-iptables"][..],
            &["daemon-icc"][..],
            &["daemon-iptables"][..],
        ] {
            let out = round(text, Some(chosen));
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["iptables"], json!(true), "{out}");
            if chosen.contains(&"daemon-icc") {
                assert_eq!(v["icc"], json!(false), "{out}");
                assert!(
                    !rules("daemon.json", ArtifactKind::DaemonJson, &out)
                        .contains(&"daemon-icc".into()),
                    "{out}"
                );
            }
        }
        // Every fix, round after round (fixes that add keys after the same member wait for the
        // next round), as harden makes them.
        let mut out = text.to_string();
        for _ in 0..16 {
            let next = round(&out, None);
            if next == out {
                break;
            }
            out = next;
        }
        let left = rules("daemon.json", ArtifactKind::DaemonJson, &out);
        assert!(!left.contains(&"daemon-icc".into()), "{left:?}\n{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            (&v["icc"], &v["iptables"]),
            (&json!(false), &json!(true)),
            "{out}"
        );
    }
    // Two edits of one place that differ still overlap: the second fix waits for a re-scan.
    let text = "{\n  \"icc\": true,\n  \"iptables\": false\n}\n";
    let mut two: Vec<Finding> = findings("daemon.json", ArtifactKind::DaemonJson, text)
        .into_iter()
        .filter(|f| f.rule == "daemon-icc" || f.rule == "daemon-iptables")
        .collect();
    assert_eq!(two.len(), 2);
    for e in &mut two[1].fix.as_mut().unwrap().edits {
        e.replacement = "null".into();
    }
    let planned = plan(&two, Safety::Review);
    assert_eq!(planned[0].deferred.len(), 1, "{:?}", planned[0]);
}

/// A root USER written over continuation lines (`USER ro\` + `ot` is `root`, as Docker joins
/// the lines) is rewritten whole, on one line: an edit of its first line alone would leave the
/// rest of the value, or break the continuation.
#[test]
fn a_root_user_on_continuation_lines_is_rewritten_whole() {
    for (text, user_lines) in [
        (
            "FROM alpine:3.20\nUSER ro\\\not\nCMD [\"sh\"]\n",
            "USER ro\\\not",
        ),
        (
            "FROM alpine:3.20\n  USER \\\n    # the default\n    root\nCMD [\"sh\"]\n",
            "USER \\\n    # the default\n    root",
        ),
    ] {
        let out = fixed(
            "Dockerfile",
            ArtifactKind::Dockerfile,
            text,
            "dockerfile-root-final-stage",
        );
        assert_eq!(
            out,
            text.replace(user_lines, "USER 10001:10001"),
            "{text:?}"
        );
        assert_eq!(
            dockerfile::set_user(text, None, "10001:10001").unwrap(),
            Some(out.clone())
        );
        assert!(!rules("Dockerfile", ArtifactKind::Dockerfile, &out)
            .contains(&"dockerfile-root-final-stage".to_string()));
    }
}

/// `HEALTHCHECK NO\` + `NE` is `HEALTHCHECK NONE` as Docker joins the lines: replaced whole.
#[test]
fn a_healthcheck_none_on_continuation_lines_is_replaced_whole() {
    let text = "FROM alpine:3.20\nEXPOSE 8080\nHEALTHCHECK NO\\\nNE\nCMD [\"sh\"]\n";
    assert_eq!(
        dockerfile::add_healthcheck(text, None, "true").unwrap(),
        Some(text.replace(
            "HEALTHCHECK NO\\\nNE",
            "HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD true"
        ))
    );
}
