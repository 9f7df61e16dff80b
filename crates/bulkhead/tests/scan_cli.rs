//! `bulkhead scan` end to end through the real binary: inputs, stdin, formats, exit codes,
//! baseline round trip.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bulkhead"))
}

fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bulkhead-scan-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn exit_codes_follow_fail_on() {
    let d = workdir("exit");
    std::fs::write(d.join("Dockerfile"), "FROM alpine:3.19@sha256:0000000000000000000000000000000000000000000000000000000000000000\nUSER 10001\nHEALTHCHECK CMD [\"true\"]\nCMD [\"true\"]\n").unwrap();
    let ok = bin().arg("scan").arg(&d).status().unwrap();
    assert_eq!(ok.code(), Some(0), "a clean Dockerfile");
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  web:\n    image: nginx:1.25\n    privileged: true\n",
    )
    .unwrap();
    let bad = bin()
        .args(["scan", "--fail-on", "critical"])
        .arg(&d)
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
    let never = bin()
        .args(["scan", "--fail-on", "never"])
        .arg(&d)
        .status()
        .unwrap();
    assert_eq!(never.code(), Some(0));
    let usage = bin()
        .args(["scan", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("--kind"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn stdin_kubectl_dump_to_sarif_file() {
    let d = workdir("stdin");
    let out = d.join("out.sarif");
    let mut child = bin()
        .args([
            "scan",
            "-",
            "--kind",
            "kubernetes",
            "--format",
            "sarif",
            "-o",
        ])
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec:\n    hostPID: true\n    containers: [{name: c, image: x:1}]\n")
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let host_pid = results
        .iter()
        .find(|r| r["ruleId"] == "k8s-host-pid")
        .expect("hostPID in a List from stdin");
    assert_eq!(
        host_pid["locations"][0]["physicalLocation"]["region"]["startLine"],
        8
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// An editor or pre-commit hook pipes a buffer and says which file it is: the findings name
/// that file and carry the fingerprints of a scan of the file itself, so the same baseline
/// applies; the name gives the kind, and a name that gives none (without --kind) is a usage error.
#[test]
fn stdin_filename_reports_standard_input_as_that_file() {
    let d = workdir("stdin-filename");
    let text = b"FROM debian:12\nRUN apt-get install -y curl\n";
    std::fs::create_dir_all(d.join("deploy")).unwrap();
    std::fs::write(d.join("deploy/Dockerfile"), text).unwrap();
    let piped = |args: &[&str]| {
        let mut child = bin()
            .args(args)
            .current_dir(&d)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(text).unwrap();
        child.wait_with_output().unwrap()
    };
    let findings = |out: &[u8]| -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_slice(out).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["location"]["path"].as_str().unwrap().to_string(),
                    f["fingerprint"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let from_stdin = piped(&[
        "scan",
        "-",
        "--stdin-filename",
        "deploy/Dockerfile",
        "--format",
        "json",
    ]);
    assert_eq!(from_stdin.status.code(), Some(1), "{from_stdin:?}");
    let from_file = bin()
        .args(["scan", "deploy/Dockerfile", "--format", "json"])
        .current_dir(&d)
        .output()
        .unwrap();
    let listed = findings(&from_stdin.stdout);
    assert!(!listed.is_empty());
    assert!(
        listed.iter().all(|(p, _)| p == "deploy/Dockerfile"),
        "{listed:?}"
    );
    assert_eq!(listed, findings(&from_file.stdout));

    let unknown = piped(&["scan", "-", "--stdin-filename", "notes.txt"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("--kind"));
    let without_dash = bin()
        .args(["scan", "deploy", "--stdin-filename", "deploy/Dockerfile"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(without_dash.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&without_dash.stderr).contains("give `-`"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn baseline_round_trip() {
    let d = workdir("baseline");
    std::fs::write(d.join("Dockerfile"), "FROM debian:12\nRUN apt-get update\n").unwrap();
    let base = d.join("baseline.json");
    let first = bin()
        .arg("scan")
        .arg(&d)
        .arg("--write-baseline")
        .arg(&base)
        .output()
        .unwrap();
    // Writing the baseline accepts the findings: exit 0, so the `&&` of --help runs the second
    // command.
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("dockerfile-"));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert!(!written["fingerprints"].as_array().unwrap().is_empty());
    let second = bin()
        .arg("scan")
        .arg(&d)
        .arg("--baseline")
        .arg(&base)
        .arg("--format")
        .arg("json")
        .output()
        .unwrap();
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(v["summary"]["findings"], 0);
    assert!(v["summary"]["suppressed"].as_u64().unwrap() > 0);
    // A file that could not be scanned is not in the baseline: that still fails the run.
    std::fs::write(
        d.join("broken.Dockerfile"),
        "FROM alpine\nRUN <<EOF\nnever closed\n",
    )
    .unwrap();
    let broken = bin()
        .arg("scan")
        .arg(&d)
        .arg("--write-baseline")
        .arg(d.join("baseline2.json"))
        .output()
        .unwrap();
    assert_eq!(broken.status.code(), Some(1));
    assert!(d.join("baseline2.json").exists());
    let help = bin().args(["scan", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("the exit code is 0 once FILE is written"),
        "{help}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn threats_take_scan_findings_as_evidence() {
    let d = workdir("threats");
    std::fs::write(
        d.join("Dockerfile"),
        "FROM golang:1.22 AS build\nUSER builder\nFROM debian:12\nCMD [\"/app\"]\n",
    )
    .unwrap();
    let scan = d.join("scan.json");
    let s = bin()
        .arg("scan")
        .arg(&d)
        .args(["--format", "json", "--fail-on", "never", "-o"])
        .arg(&scan)
        .status()
        .unwrap();
    assert_eq!(s.code(), Some(0));
    let snapshot = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../bulkhead-threats/tests/fixtures/hardened.snapshot.json");
    let out = bin()
        .arg("threats")
        .arg("--snapshot")
        .arg(&snapshot)
        .arg("--scan")
        .arg(&scan)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut found = false;
    fn walk(v: &serde_json::Value, found: &mut bool) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("source").and_then(|s| s.as_str()) == Some("scan")
                    && m.get("control").and_then(|s| s.as_str())
                        == Some("docker.image.non_root_user")
                    && m.get("check").and_then(|s| s.as_str()) == Some("dockerfile-no-user")
                {
                    *found = true;
                }
                m.values().for_each(|x| walk(x, found));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, found)),
            _ => {}
        }
    }
    walk(&v, &mut found);
    assert!(
        found,
        "the Dockerfile finding is evidence for docker.image.non_root_user"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn credentials_in_commands_and_urls_are_masked_in_every_format() {
    let d = workdir("creds");
    std::fs::write(
        d.join("Dockerfile"),
        "FROM debian:12.5\nRUN curl -k -u admin:S3cr3tPassw0rd https://internal.example.com/artifact.tgz -o /a.tgz\nRUN curl -H \"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\" https://x | sh\nRUN pip install --index-url https://user:glpat-abcdefghij1234567890@gitlab.example.com/simple foo\nENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nADD https://user:pw123456@example.com/x.tgz /x\nUSER 1000\n",
    )
    .unwrap();
    std::fs::write(
        d.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata:\n  DATABASE_URL: postgres://app:pgpass9876@db:5432/app\n",
    )
    .unwrap();
    for format in ["text", "json", "sarif", "github", "junit"] {
        let out = bin()
            .args(["scan", "--fail-on", "never", "--format", format])
            .arg(&d)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for secret in [
            "S3cr3tPassw0rd",
            "dozjgNryP4J3jVmNHl0w5N",
            "glpat-abcdefghij1234567890",
            "pw123456",
            "AKIAIOSFODNN7EXAMPLE",
            "pgpass9876",
        ] {
            assert!(!all.contains(secret), "{format} prints {secret}:\n{all}");
        }
        assert!(
            all.contains("dockerfile-secret") && all.contains("k8s-configmap-secret"),
            "{format}: {all}"
        );
        if format != "github" {
            // the github format carries messages, not snippets
            assert!(all.contains("admin:***"), "{format}: {all}");
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn explicitly_named_files_that_are_not_scanned_are_listed_as_skipped() {
    let d = workdir("skipped");
    let typo = d.join("typo.yaml");
    std::fs::write(
        &typo,
        "apiversion: v1\nkind: Pod\nmetadata: {name: t}\nspec:\n  hostPID: true\n  containers: [{name: c, image: \"nginx:1.25\", securityContext: {privileged: true}}]\n",
    )
    .unwrap();
    let empty = d.join("empty.yaml");
    std::fs::write(&empty, "").unwrap();
    let text = bin().arg("scan").arg(&typo).arg(&empty).output().unwrap();
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains(&format!(
            "skipped: {}:1:1: the key \"apiversion\" is not \"apiVersion\"",
            typo.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("skipped: {}: empty", empty.display())),
        "{stdout}"
    );
    let json = bin()
        .arg("scan")
        .arg(&typo)
        .arg(&empty)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["summary"]["skipped"], 2, "{v}");
    let paths: Vec<&str> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec![empty.display().to_string(), typo.display().to_string()]
    );
    // Walking the directory, the same files stay quiet, as before.
    let walked = bin()
        .arg("scan")
        .arg(&d)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&walked.stdout).unwrap();
    assert_eq!(v["summary"]["skipped"], 1, "only the directory itself: {v}");
    assert_eq!(v["skipped"][0]["path"], d.display().to_string());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn target_stage_missing_in_a_directory_is_a_note_and_for_one_named_file_an_error() {
    let d = workdir("target");
    std::fs::write(
        d.join("Dockerfile.target"),
        "FROM debian:12.5 AS debug\nUSER root\nFROM debian:12.5 AS runtime\nUSER 1000\n",
    )
    .unwrap();
    std::fs::write(d.join("Dockerfile.plain"), "FROM debian:12.5\nUSER root\n").unwrap();
    let dir = bin()
        .args(["scan", "--target", "runtime", "--format", "json"])
        .arg(&d)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&dir.stderr);
    let v: serde_json::Value = serde_json::from_slice(&dir.stdout).unwrap();
    assert_eq!(v["summary"]["errors"], 0, "{stderr}");
    assert_eq!(v["summary"]["files"], 2);
    let root: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "dockerfile-root-final-stage")
        .collect();
    assert_eq!(root.len(), 1, "{}", String::from_utf8_lossy(&dir.stdout));
    assert!(root[0]["location"]["path"]
        .as_str()
        .unwrap()
        .ends_with("Dockerfile.plain"));
    assert!(
        stderr.contains("note:")
            && stderr.contains("Dockerfile.plain")
            && stderr.contains("last stage"),
        "{stderr}"
    );
    let plain = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("Dockerfile.plain"))
        .unwrap();
    assert!(
        plain["note"].as_str().unwrap().contains("runtime"),
        "{plain}"
    );

    let one = bin()
        .args(["scan", "--target", "runtime"])
        .arg(d.join("Dockerfile.plain"))
        .output()
        .unwrap();
    assert_eq!(one.status.code(), Some(1));
    let out = String::from_utf8_lossy(&one.stdout);
    assert!(
        out.contains("error:") && out.contains("no stage named \"runtime\""),
        "{out}"
    );
    assert!(!out.contains("dockerfile-root-final-stage"), "{out}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn broken_yaml_documents_and_duplicate_keys_are_errors_beside_the_findings() {
    let d = workdir("partial");
    std::fs::write(
        d.join("pods.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: first, namespace: shop}\nspec:\n  hostPID: true\n  containers: [{name: c, image: \"nginx:1.25\"}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: second\nspec: {}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("docker-compose.yml"),
        "services:\n  web:\n    image: nginx:1.25\n    privileged: true\n  web:\n    image: nginx:1.25\n",
    )
    .unwrap();
    let out = bin().arg("scan").arg(&d).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pods.yaml:5:"), "{text}");
    assert!(text.contains("k8s-host-pid"), "{text}");
    assert!(text.contains("pods.yaml:11:5: invalid YAML"), "{text}");
    assert!(
        text.contains("docker-compose.yml:5:3: duplicate mapping key \"web\""),
        "{text}"
    );
    assert!(!text.contains("service web"), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A path named on the command line that does not exist is a usage error (exit 2) naming it,
/// not a file that "could not be scanned" (exit 1) among the results.
#[test]
fn a_named_path_that_does_not_exist_is_a_usage_error() {
    let dir = workdir("missing");
    let missing = dir.join("no-such-dir");
    let out = bin().arg("scan").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}: no such file or directory", missing.display())),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no report: {out:?}");
}

/// A daemon.json dockerd refuses (`"icc": false` with `"iptables": false`) is reported by
/// daemon-icc with the reason, and its JSON fix turns iptables on; with `"bridge": "none"` and
/// icc left on there is nothing for daemon-icc to report.
#[test]
fn daemon_json_icc_without_iptables_is_reported_as_a_file_dockerd_refuses() {
    let d = workdir("icc-iptables");
    let file = d.join("daemon.json");
    std::fs::write(&file, "{\n  \"icc\": false,\n  \"iptables\": false\n}\n").unwrap();
    let o = bin()
        .args(["scan", "--format", "json", "--fail-on", "never"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let icc = findings
        .iter()
        .find(|f| f["rule"] == "daemon-icc")
        .unwrap_or_else(|| panic!("no daemon-icc: {findings:#?}"));
    assert_eq!(icc["location"]["line"], 2);
    assert!(
        icc["message"]
            .as_str()
            .unwrap()
            .contains("dockerd refuses to start"),
        "{icc}"
    );
    assert_eq!(icc["fix"]["description"], "set \"iptables\": true");
    assert_eq!(icc["fix"]["edits"][0]["replacement"], "true");
    assert!(findings.iter().any(|f| f["rule"] == "daemon-iptables"));

    std::fs::write(&file, "{\"bridge\": \"none\"}\n").unwrap();
    let o = bin()
        .args(["scan", "--format", "json", "--fail-on", "never"])
        .arg(&file)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "daemon-icc"),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A CI job that scans its checkout by absolute path (`bulkhead scan "$GITHUB_WORKSPACE"`) from
/// inside it, or runs in a subdirectory: SARIF URIs are relative to %SRCROOT% (the repository's
/// top, the nearest directory holding `.git`, stated in `originalUriBaseIds`), and the
/// fingerprints are those of `bulkhead scan .` at the top, wherever the checkout is, so code
/// scanning keeps matching alerts when the runner's directory changes.
#[test]
fn sarif_from_absolute_paths_is_relative_and_stable_across_checkouts() {
    let root = workdir("moved");
    let sarif_of = |dir: &std::path::Path, arg: &str| -> serde_json::Value {
        let out = bin()
            .args(["scan", "--format", "sarif", arg])
            .current_dir(dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let mut seen = Vec::new();
    for name in ["one", "two"] {
        let d = root.join(name);
        std::fs::create_dir_all(d.join("app dir")).unwrap();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        std::fs::write(
            d.join("app dir/Dockerfile"),
            "FROM debian:12\nRUN apt-get install -y curl\n",
        )
        .unwrap();
        let sub = d.join("app dir");
        for (cwd, arg) in [(&d, d.to_str().unwrap()), (&d, "."), (&sub, ".")] {
            let v = sarif_of(cwd, arg);
            let run = &v["runs"][0];
            let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
                .as_str()
                .unwrap();
            assert!(base.starts_with("file:///") && base.ends_with(&format!("/{name}/")));
            let mut fps = Vec::new();
            for r in run["results"].as_array().unwrap() {
                let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
                assert_eq!(
                    a["uri"],
                    "app%20dir/Dockerfile",
                    "{arg} in {}",
                    cwd.display()
                );
                assert_eq!(a["uriBaseId"], "%SRCROOT%");
                fps.push(r["partialFingerprints"]["bulkhead/v1"].clone());
            }
            assert!(!fps.is_empty());
            seen.push(fps);
        }
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
    let _ = std::fs::remove_dir_all(&root);
}

/// In a checkout reached through a symlinked directory (`link -> real`), the working directory
/// reads as the real path while `"$PWD"` spells the link: both name the same files of the same
/// tree, so `scan .` and `scan "$PWD"` agree on URIs and fingerprints and no local path leaks.
#[test]
fn sarif_in_a_symlinked_checkout_is_the_same_for_dot_and_pwd() {
    let root = workdir("symlinked");
    let repo = root.join("real/repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("deploy")).unwrap();
    std::fs::write(
        repo.join("deploy/Dockerfile"),
        "FROM debian:12\nRUN apt-get install -y curl\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
    let through = root.join("link/repo");
    let sarif_of = |cwd: &std::path::Path, arg: &str| -> Vec<(String, String, String)> {
        let out = bin()
            .args(["scan", "--format", "sarif", arg])
            .current_dir(cwd)
            .env("PWD", cwd)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
                (
                    a["uri"].as_str().unwrap().to_string(),
                    a["uriBaseId"].as_str().unwrap_or("").to_string(),
                    r["partialFingerprints"]["bulkhead/v1"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect()
    };
    let dot = sarif_of(&through, ".");
    assert!(!dot.is_empty());
    assert!(
        dot.iter()
            .all(|(uri, base, _)| uri == "deploy/Dockerfile" && base == "%SRCROOT%"),
        "{dot:?}"
    );
    let pwd = sarif_of(&through, through.to_str().unwrap());
    assert_eq!(pwd, dot);
    let file = sarif_of(
        &through.join("deploy"),
        through.join("deploy/Dockerfile").to_str().unwrap(),
    );
    assert_eq!(file, dot);
    let _ = std::fs::remove_dir_all(&root);
}

/// Standard input without --stdin-filename is no file of the repository: its SARIF URI is
/// `stdin` with no %SRCROOT% base, and its fingerprints do not depend on the directory.
#[test]
fn unnamed_stdin_is_outside_the_source_root() {
    let root = workdir("stdin-unnamed");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    let text = b"FROM debian:12\nRUN apt-get install -y curl\n";
    let run = |cwd: &std::path::Path| -> Vec<(serde_json::Value, String)> {
        let mut child = bin()
            .args(["scan", "--format", "sarif", "--kind", "dockerfile", "-"])
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(text).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["locations"][0]["physicalLocation"]["artifactLocation"].clone(),
                    r["partialFingerprints"]["bulkhead/v1"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect()
    };
    let top = run(&root);
    assert!(!top.is_empty());
    for (a, _) in &top {
        assert_eq!(a, &serde_json::json!({"uri": "stdin"}));
    }
    assert_eq!(run(&root.join("a/b")), top);
    let _ = std::fs::remove_dir_all(&root);
}

/// A pull request's checkout chooses its own `.bulkhead.toml`: as a link to `/dev/zero` it used
/// to make `bulkhead scan .` read until the kernel killed it. It is refused with the reason, at
/// once; a process substitution named with --config is still read.
#[test]
fn a_repository_config_that_is_a_device_is_refused_not_read() {
    let d = workdir("config-device");
    std::fs::write(d.join("Dockerfile"), "FROM debian:12\nUSER 10001\n").unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join(".bulkhead.toml")).unwrap();
    let out = bin()
        .args(["scan", "Dockerfile"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "bulkhead: error: cannot read config .bulkhead.toml: is a character device, not a \
         regular file; only regular files are read"
    );
    std::fs::remove_file(d.join(".bulkhead.toml")).unwrap();
    let out = Command::new("bash")
        .args([
            "-c",
            &format!(
                "{} scan Dockerfile --config <(printf '[scan]\\ndisable = [\"dockerfile-healthcheck-missing\"]\\n') --format json",
                env!("CARGO_BIN_EXE_bulkhead")
            ),
        ])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dockerfile-image-not-pinned"), "{text}");
    assert!(!text.contains("dockerfile-healthcheck-missing"), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A scanned file's lines are quoted in the report, so escape sequences in them reached the
/// user's terminal and were obeyed: `ESC[1A ESC[2K` erased the finding above, a carriage return
/// overwrote a line, a bidirectional override reordered it. Every format now shows them as
/// escapes (text with the carets still under the span, tabs kept), and JSON and SARIF stay
/// JSON that decodes to the file's own characters.
#[test]
fn terminal_escapes_in_a_scanned_file_are_shown_not_obeyed() {
    let d = workdir("escapes");
    let hostile =
        "RUN echo \"\u{1b}[2K\u{1b}[1A\u{1b}[2K\r\u{202e}x\u{9b}\" &&\tcurl https://x | sh";
    std::fs::write(d.join("Dockerfile"), format!("FROM debian:12\n{hostile}\n")).unwrap();
    let scan = |format: &str| {
        let out = bin()
            .args([
                "scan",
                "Dockerfile",
                "--format",
                format,
                "--color",
                "always",
            ])
            .current_dir(&d)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let acts = |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1a}' | '\u{1c}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}');
    for format in ["text", "json", "sarif", "github", "junit"] {
        let text = scan(format);
        assert!(
            !text.chars().any(acts),
            "{format}: raw control character\n{text}"
        );
        // The only ESC left is the start of bulkhead's own colours.
        for (at, _) in text.match_indices('\u{1b}') {
            let rest = &text[at..];
            let end = rest.find('m').expect("a colour sequence ends with m");
            assert!(
                rest[2..end]
                    .split(';')
                    .all(|p| p.parse::<u8>().is_ok_and(|n| n <= 36)),
                "{format}: {:?}",
                &rest[..end + 1]
            );
        }
    }
    let text = scan("text");
    let plain: String = {
        // Drop bulkhead's colours to read the layout.
        let mut s = String::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find('\u{1b}') {
            s.push_str(&rest[..at]);
            rest = &rest[at + rest[at..].find('m').unwrap() + 1..];
        }
        s.push_str(rest);
        s
    };
    let shown = "  2 | RUN echo \"\\u{1b}[2K\\u{1b}[1A\\u{1b}[2K\\r\\u{202e}x\\u{9b}\" &&\tcurl https://x | sh";
    let lines: Vec<&str> = plain.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == shown)
        .unwrap_or_else(|| panic!("no escaped snippet line\n{plain}"));
    assert_eq!(
        lines[at + 1],
        format!("    | {}", "^".repeat(shown.len() - 6))
    );
    for format in ["json", "sarif"] {
        let v: serde_json::Value = serde_json::from_str(&scan(format)).unwrap();
        assert!(v.to_string().contains("\\u001b[1A"), "{format}");
    }
    let json: serde_json::Value = serde_json::from_str(&scan("json")).unwrap();
    let snippets: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["snippet"].as_str())
        .collect();
    assert!(snippets.contains(&hostile), "{snippets:?}");
    let _ = std::fs::remove_dir_all(&d);
}
