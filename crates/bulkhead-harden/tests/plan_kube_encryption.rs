//! CIS Kubernetes 1.2.28 on a node whose API server already has an EncryptionConfiguration:
//! the first provider of the entry covering secrets is `identity`, or no entry covers secrets.
//! The fix edits that file in place, keeping its comments, layout and every existing key: an
//! encrypting provider listed later is moved to the front; without one, a new aescbc provider
//! with a freshly generated key goes first; without an entry for secrets, one is added first.
//! The generated key is never shown (diff, text and JSON plans), nor are the keys already in the
//! file. Before the fix claims the check, the real evaluator judges the edited file.
//!
//! Each node is built in code: the API server's command line from its static pod manifest, and
//! the EncryptionConfiguration read from under a temporary root as the collector reads it. The
//! plan is applied there and the node audited again as the restarted API server would be.

mod common;

use bulkhead_checks::Status;
use bulkhead_facts::kube::*;
use bulkhead_facts::{Fact, Snapshot};
use bulkhead_harden::apply::{apply, restrict_to_reviewed, rollback, ApplyError, ApplyOptions};
use bulkhead_harden::{plan, render, FixKind, Plan, Safety};
use common::{kube_audit, kube_component, kube_node, put, request, status, temp_root};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const ENC: &str = "/etc/kubernetes/enc/enc.yaml";
const ENC_JSON: &str = "/etc/kubernetes/enc/enc.json";
const MANIFEST: &str = "/etc/kubernetes/manifests/kube-apiserver.yaml";
const CHECK: &str = "1.2.28";

/// A key already in the file (base64 of 32 bytes): it must never be shown either.
const OLD_KEY: &str = "dGhpcyBpcyB0aGUgb2xkIGtleSBvZiB0aGUgY2x1c3Qh";
const OLD_KEY_2: &str = "YW5vdGhlciBrZXksIGFsc28gdGhpcnR5LXR3byBieXQ=";

fn manifest(enc: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --advertise-address=10.0.0.10\n    - --encryption-provider-config={enc}\n    image: registry.k8s.io/kube-apiserver:v1.30.2\n    name: kube-apiserver\n    volumeMounts:\n    - mountPath: /etc/kubernetes/enc\n      name: enc\n      readOnly: true\n  hostNetwork: true\n  volumes:\n  - hostPath:\n      path: /etc/kubernetes/enc\n      type: DirectoryOrCreate\n    name: enc\n"
    )
}

/// The EncryptionConfiguration as the collector records it: parsed from the file under `root`,
/// key material dropped.
fn read_as_collected(root: &Path, path: &str) -> Fact<EncryptionConfig> {
    match std::fs::read_to_string(root.join(path.trim_start_matches('/'))) {
        Ok(text) => {
            let doc = bulkhead_sources::yaml::parse(&text)
                .map_err(|e| format!("{path}: {e}"))
                .and_then(|d| {
                    d.into_iter()
                        .next()
                        .map(|d| d.root.to_json(bulkhead_sources::yaml::Schema::Yaml11))
                        .ok_or_else(|| format!("{path}: no document"))
                });
            match doc.and_then(|v| EncryptionConfig::from_value(path, &v)) {
                Ok(c) => Fact::Value(c),
                Err(e) => Fact::Unavailable(e),
            }
        }
        Err(e) => Fact::Unavailable(format!("cannot read {path}: {e}")),
    }
}

/// A control plane node running kube-apiserver from its static pod manifest (written under
/// `root`), which names `enc` with --encryption-provider-config.
fn node(root: &Path, enc: &str) -> Snapshot {
    let text = manifest(enc);
    let manifest_file = root.join(MANIFEST.trim_start_matches('/'));
    if !manifest_file.exists() {
        put(root, MANIFEST, &text);
    }
    let docs = bulkhead_sources::yaml::parse(&text).unwrap();
    let cmd = docs[0]
        .root
        .to_json(bulkhead_sources::yaml::Schema::Core)
        .pointer("/spec/containers/0/command")
        .cloned()
        .unwrap();
    let args: Vec<String> = cmd.as_array().unwrap()[1..]
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut paths = BTreeMap::new();
    paths.insert(
        "apiserver_manifest".to_string(),
        ResolvedPath::configured(MANIFEST, "kubelet staticPodPath (test)"),
    );
    kube_node(
        root,
        vec![kube_component(
            APISERVER,
            "/usr/local/bin/kube-apiserver",
            &args,
        )],
        KubeFacts {
            platform: Platform {
                kind: "kubeadm".into(),
                managed: false,
                evidence: vec![],
            },
            paths,
            encryption: Some(read_as_collected(root, enc)),
            ..Default::default()
        },
    )
}

/// Write the EncryptionConfiguration with mode 0600, as it should be.
fn put_private(root: &Path, path: &str, text: &str) {
    let p = put(root, path, text);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn options(root: &Path) -> ApplyOptions {
    ApplyOptions {
        root: root.to_path_buf(),
        include_review: true,
        state_dir: Some(root.join("state")),
    }
}

/// Audit, check 1.2.28 fails, plan it.
fn plan_on(root: &Path, enc: &str) -> (Snapshot, Plan) {
    let s = node(root, enc);
    let before = kube_audit(&s, &[CHECK]);
    assert_eq!(status(&before, CHECK), Status::Fail, "{CHECK} before");
    let p = plan(&s, &[before], &request(root, &[CHECK])).unwrap();
    (s, p)
}

/// Apply `p`, then audit the node again as the restarted API server reads the file.
fn apply_and_reaudit(root: &Path, enc: &str, p: &Plan) {
    apply(p, &options(root)).unwrap();
    let again = kube_audit(&node(root, enc), &[CHECK]);
    assert_eq!(status(&again, CHECK), Status::Pass, "{CHECK} after");
}

/// Everything a plan shows: the text view, the JSON contract, every diff, and each fix's
/// changes, notes and commands.
fn everything_shown(p: &Plan) -> String {
    let mut s = render::text(p, true);
    s.push_str(&render::json(p, "test"));
    for f in &p.fixes {
        s.push_str(&f.diff().unwrap_or_default());
        s.push_str(&f.command().unwrap_or_default());
        s.push_str(&format!("{:?}{:?}{:?}", f.changes, f.notes, f.may_break));
    }
    s.push_str(&format!("{:?}", p.unfixed));
    s
}

fn doc(text: &str) -> Value {
    bulkhead_sources::yaml::parse(text).unwrap()[0]
        .root
        .to_json(bulkhead_sources::yaml::Schema::Yaml11)
}

/// The one `aescbc` key of the first provider of `entry` in the written text: (name, secret).
fn new_key(text: &str, entry: usize) -> (String, String) {
    let v = doc(text);
    let keys = &v["resources"][entry]["providers"][0]["aescbc"]["keys"];
    assert_eq!(keys.as_array().map(Vec::len), Some(1), "{text}");
    (
        keys[0]["name"].as_str().unwrap().to_string(),
        keys[0]["secret"].as_str().unwrap().to_string(),
    )
}

/// A generated key: 32 random bytes in standard base64, named after the day.
fn assert_generated(name: &str, secret: &str) {
    assert!(name.starts_with("key-bulkhead-"), "{name}");
    let day = &name["key-bulkhead-".len()..];
    assert!(
        day.len() == 8 && day.chars().all(|c| c.is_ascii_digit()),
        "{name}"
    );
    assert_eq!(secret.len(), 44, "{secret}");
    assert!(secret.ends_with('=') && !secret.ends_with("=="), "{secret}");
    assert!(secret[..43]
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/'));
}

fn mode_of(root: &Path, path: &str) -> u32 {
    std::fs::metadata(root.join(path.trim_start_matches('/')))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// The notes every fix of an existing configuration carries: the restart the API server needs,
/// the rewrite of existing Secrets (as a command shown, never run) and the backup of the key.
fn assert_notes(fix: &bulkhead_harden::Fix) {
    let notes = fix.notes.join("\n");
    assert!(notes.contains("only when it starts"), "{notes}");
    assert!(
        notes.contains(&format!("move {MANIFEST} out of /etc/kubernetes/manifests")),
        "{notes}"
    );
    assert!(notes.contains("stay unencrypted until"), "{notes}");
    assert!(notes.contains("back up"), "{notes}");
    assert!(notes.contains(ENC) || notes.contains(ENC_JSON), "{notes}");
    assert_eq!(fix.action.steps.len(), 1, "{:#?}", fix.action.steps);
    assert_eq!(
        fix.action.steps[0].argv,
        vec![
            "sh",
            "-c",
            "kubectl get secrets --all-namespaces -o json | kubectl replace -f -"
        ]
    );
    assert!(fix.is_file_fix());
    assert_eq!(fix.safety, Safety::Review);
}

const MOVE: &str = "# Encryption at rest for the test cluster.\n# Keep this file private.\napiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources:\n      - secrets\n      - configmaps\n    providers:\n      - identity: {}   # plain text, for now\n      # the key below was rotated in June\n      - aescbc:\n          keys:\n            - name: key1\n              secret: dGhpcyBpcyB0aGUgb2xkIGtleSBvZiB0aGUgY2x1c3Qh\n            - name: key0\n              secret: \"YW5vdGhlciBrZXksIGFsc28gdGhpcnR5LXR3byBieXQ=\"\n      - secretbox:\n          keys:\n            - name: box\n              secret: c2VjcmV0Ym94IGtleSBvZiB0aGlydHktdHdvIGJ5dGU=\n  - resources:\n      - events\n    providers:\n      - identity: {}\n";

/// identity first, an aescbc provider later (with two keys and a comment above it), secretbox
/// last: aescbc moves to the front with its comment and both keys exactly as written, identity
/// and secretbox keep their order after it, no key is added, and the API server restarted on
/// the written file passes 1.2.28. No key of the file appears in anything the plan shows.
#[test]
fn a_later_encrypting_provider_is_moved_first_with_its_keys() {
    let root = temp_root("enc-move");
    put_private(&root, ENC, MOVE);
    let (_, p) = plan_on(&root, ENC);
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.fixes);
    let fix = &p.fixes[0];
    assert_eq!(fix.kind, FixKind::EncryptionConfig);
    assert_eq!(fix.id, format!("encryption-config:{ENC}"));
    assert_eq!(fix.checks, vec![CHECK]);
    assert_eq!(fix.controls, vec!["k8s.apiserver.encryption_providers"]);
    assert_eq!(fix.target.path.as_deref(), Some(ENC));
    assert_eq!(
        fix.action.edits.len(),
        1,
        "only the configuration is edited"
    );
    let edit = &fix.action.edits[0];
    assert_eq!(edit.path, ENC);
    assert_eq!(edit.before.as_deref(), Some(MOVE));
    assert_eq!(
        edit.after,
        MOVE.replace(
            "      - identity: {}   # plain text, for now\n      # the key below was rotated in June\n      - aescbc:\n          keys:\n            - name: key1\n              secret: dGhpcyBpcyB0aGUgb2xkIGtleSBvZiB0aGUgY2x1c3Qh\n            - name: key0\n              secret: \"YW5vdGhlciBrZXksIGFsc28gdGhpcnR5LXR3byBieXQ=\"\n",
            "      # the key below was rotated in June\n      - aescbc:\n          keys:\n            - name: key1\n              secret: dGhpcyBpcyB0aGUgb2xkIGtleSBvZiB0aGUgY2x1c3Qh\n            - name: key0\n              secret: \"YW5vdGhlciBrZXksIGFsc28gdGhpcnR5LXR3byBieXQ=\"\n      - identity: {}   # plain text, for now\n",
        )
    );
    assert!(
        fix.changes.iter().any(|c| c.contains("aescbc")),
        "{:?}",
        fix.changes
    );
    assert_notes(fix);
    // Nothing shows a key: neither in the diff (moved lines and context) nor anywhere else.
    let shown = everything_shown(&p);
    for key in [
        OLD_KEY,
        OLD_KEY_2,
        "c2VjcmV0Ym94IGtleSBvZiB0aGlydHktdHdvIGJ5dGU=",
    ] {
        assert!(!shown.contains(key), "a key of the file is shown:\n{shown}");
    }
    let diff = fix.diff().unwrap();
    assert!(diff.contains("secret: ***"), "{diff}");
    // A move generates nothing: a reviewed plan must match exactly.
    assert!(!edit.generated_secret);

    apply_and_reaudit(&root, ENC, &p);
    assert_eq!(mode_of(&root, ENC), 0o600);
    let written = std::fs::read_to_string(root.join(ENC.trim_start_matches('/'))).unwrap();
    assert_eq!(written, edit.after);
}

const IDENTITY_ONLY: &str = "# Encryption at rest: not yet.\napiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources:\n      - secrets\n    providers:\n      - identity: {}   # plain text\n";

/// identity is the only provider: a new aescbc provider with one generated 32-byte key goes
/// first, identity stays after it (existing Secrets stay readable), comments stay. The key is
/// masked in the diff and appears nowhere in the text or JSON plan; the file keeps mode 0600 and
/// the restarted API server passes 1.2.28.
#[test]
fn identity_alone_gets_a_new_aescbc_provider_first() {
    let root = temp_root("enc-insert");
    put_private(&root, ENC, IDENTITY_ONLY);
    let (_, p) = plan_on(&root, ENC);
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.fixes);
    let fix = &p.fixes[0];
    assert_eq!(fix.kind, FixKind::EncryptionConfig);
    let edit = &fix.action.edits[0];
    let (name, secret) = new_key(&edit.after, 0);
    assert_generated(&name, &secret);
    assert_eq!(
        edit.after,
        IDENTITY_ONLY.replace(
            "      - identity: {}   # plain text\n",
            // The editor nests mappings in the file's indentation step, measured between
            // nested mapping keys (none here: 2), and indents lists under their key as the file
            // does; `resources:` to `  - resources:` is a list, not a step of 4.
            &format!("      - aescbc:\n          keys:\n            - name: {name}\n              secret: {secret}\n      - identity: {{}}   # plain text\n"),
        )
    );
    assert!(edit.generated_secret);
    assert_notes(fix);
    let shown = everything_shown(&p);
    assert!(!shown.contains(&secret), "the new key is shown:\n{shown}");
    assert!(
        fix.diff().unwrap().contains("+              secret: ***"),
        "{}",
        fix.diff().unwrap()
    );
    // Planning again generates another key.
    let (_, again) = plan_on(&root, ENC);
    let (_, other) = new_key(&again.fixes[0].action.edits[0].after, 0);
    assert_ne!(other, secret);
    // A reviewed plan is still applied although the key differs (only the key may).
    let reviewed: Value = serde_json::from_str(&render::json(&p, "test")).unwrap();
    let kept = restrict_to_reviewed(&again, &reviewed).unwrap();
    assert_eq!(kept.fixes.len(), 1);

    apply_and_reaudit(&root, ENC, &p);
    assert_eq!(mode_of(&root, ENC), 0o600);
    let written = std::fs::read_to_string(root.join(ENC.trim_start_matches('/'))).unwrap();
    assert_eq!(written, edit.after);
}

/// A configuration readable by others gets its mode restricted along with the new key: the
/// file is about to hold a key that decrypts every Secret.
#[test]
fn a_readable_configuration_is_made_private() {
    let root = temp_root("enc-mode");
    let p = put(&root, ENC, IDENTITY_ONLY);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, plan) = plan_on(&root, ENC);
    let fix = &plan.fixes[0];
    assert_eq!(fix.action.attrs.len(), 1, "{:#?}", fix.action.attrs);
    assert_eq!(fix.action.attrs[0].path, ENC);
    assert_eq!(fix.action.attrs[0].after.mode, 0o600);
    apply_and_reaudit(&root, ENC, &plan);
    assert_eq!(mode_of(&root, ENC), 0o600);
}

const NO_SECRETS: &str = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n# configmaps only, so far\nresources:\n- resources:\n  - configmaps\n  providers:\n  - aesgcm:\n      keys:\n      - name: cm\n        secret: dGhpcyBpcyB0aGUgb2xkIGtleSBvZiB0aGUgY2x1c3Qh\n  - identity: {}\n";

/// No entry covers secrets: a new first entry for them is added (a new aescbc key, then
/// identity), in the file's own list style; the configmaps entry stays as it is, after it.
#[test]
fn a_missing_secrets_entry_is_added_first() {
    let root = temp_root("enc-entry");
    put_private(&root, ENC, NO_SECRETS);
    let (_, p) = plan_on(&root, ENC);
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let fix = &p.fixes[0];
    let edit = &fix.action.edits[0];
    let (name, secret) = new_key(&edit.after, 0);
    assert_generated(&name, &secret);
    let v = doc(&edit.after);
    assert_eq!(v["resources"][0]["resources"], json!(["secrets"]));
    assert_eq!(v["resources"][0]["providers"][1], json!({"identity": {}}));
    assert_eq!(v["resources"][0]["providers"].as_array().unwrap().len(), 2);
    assert_eq!(v["resources"][1], doc(NO_SECRETS)["resources"][0]);
    assert!(
        edit.after.starts_with("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n# configmaps only, so far\nresources:\n- resources:\n  - secrets\n"),
        "{}",
        edit.after
    );
    assert!(
        edit.after.ends_with(&NO_SECRETS["apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n# configmaps only, so far\nresources:\n".len()..]),
        "{}",
        edit.after
    );
    assert_notes(fix);
    let shown = everything_shown(&p);
    assert!(!shown.contains(&secret), "the new key is shown:\n{shown}");
    assert!(!shown.contains(OLD_KEY), "the old key is shown:\n{shown}");
    apply_and_reaudit(&root, ENC, &p);
}

const JSON_MOVE: &str = "{\n  \"kind\": \"EncryptionConfiguration\",\n  \"apiVersion\": \"apiserver.config.k8s.io/v1\",\n  \"resources\": [\n    {\n      \"resources\": [\"secrets\"],\n      \"providers\": [\n        {\"identity\": {}},\n        {\"aesgcm\": {\"keys\": [{\"name\": \"k1\", \"secret\": \"dGhpcyBpcyB0aGUgb2xkIGtleSBvZiB0aGUgY2x1c3Qh\"}]}},\n        {\"kms\": {\"apiVersion\": \"v2\", \"name\": \"vault\", \"endpoint\": \"unix:///var/run/kms.sock\"}}\n      ]\n    }\n  ]\n}\n";

/// The JSON form: the file stays JSON, laid out as it was, with aesgcm moved first and
/// identity and kms after it in their order.
#[test]
fn a_json_configuration_stays_json() {
    let root = temp_root("enc-json");
    put_private(&root, ENC_JSON, JSON_MOVE);
    let (_, p) = plan_on(&root, ENC_JSON);
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let edit = &p.fixes[0].action.edits[0];
    assert_eq!(
        edit.after,
        JSON_MOVE.replace(
            "        {\"identity\": {}},\n        {\"aesgcm\": {\"keys\": [{\"name\": \"k1\", \"secret\": \"dGhpcyBpcyB0aGUgb2xkIGtleSBvZiB0aGUgY2x1c3Qh\"}]}},\n",
            "        {\"aesgcm\": {\"keys\": [{\"name\": \"k1\", \"secret\": \"dGhpcyBpcyB0aGUgb2xkIGtleSBvZiB0aGUgY2x1c3Qh\"}]}},\n        {\"identity\": {}},\n",
        )
    );
    serde_json::from_str::<Value>(&edit.after).unwrap();
    assert_notes(&p.fixes[0]);
    assert!(!everything_shown(&p).contains(OLD_KEY));
    apply_and_reaudit(&root, ENC_JSON, &p);
}

/// JSON with identity alone: the new provider is written as JSON, first, and its key masked.
#[test]
fn a_json_configuration_gets_a_new_provider_as_json() {
    let root = temp_root("enc-json-insert");
    let text = "{\n  \"apiVersion\": \"apiserver.config.k8s.io/v1\",\n  \"kind\": \"EncryptionConfiguration\",\n  \"resources\": [\n    {\n      \"resources\": [\"secrets\"],\n      \"providers\": [\n        {\"identity\": {}}\n      ]\n    }\n  ]\n}\n";
    put_private(&root, ENC_JSON, text);
    let (_, p) = plan_on(&root, ENC_JSON);
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let edit = &p.fixes[0].action.edits[0];
    let v: Value = serde_json::from_str(&edit.after).unwrap();
    let (name, secret) = new_key(&edit.after, 0);
    assert_generated(&name, &secret);
    assert_eq!(v["resources"][0]["providers"][1], json!({"identity": {}}));
    assert!(
        edit.after.contains(&format!("        {{\"aescbc\": {{\"keys\": [{{\"name\": \"{name}\", \"secret\": \"{secret}\"}}]}}}},\n        {{\"identity\": {{}}}}\n")),
        "{}",
        edit.after
    );
    assert!(!everything_shown(&p).contains(&secret));
    apply_and_reaudit(&root, ENC_JSON, &p);
}

/// The audit read a good file, but the file harden finds is not one the API server would
/// start with (not YAML, not an EncryptionConfiguration), is unreadable or is not under the
/// root: nothing is edited, and the reason names the file.
#[test]
fn an_unusable_configuration_is_not_edited() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "yaml",
            Some("kind: EncryptionConfiguration\nresources: [\n"),
            ENC,
        ),
        (
            "kind",
            Some("apiVersion: v1\nkind: Pod\nresources: []\n"),
            "kind is \"Pod\"",
        ),
        ("utf8", None, "not UTF-8"),
        ("gone", Some(""), "was not found under --root"),
    ];
    for (name, broken, why) in cases {
        let root = temp_root(&format!("enc-broken-{name}"));
        put_private(&root, ENC, IDENTITY_ONLY);
        let s = node(&root, ENC);
        let before = kube_audit(&s, &[CHECK]);
        assert_eq!(status(&before, CHECK), Status::Fail);
        let real = root.join(ENC.trim_start_matches('/'));
        match broken {
            Some("") => std::fs::remove_file(&real).unwrap(),
            Some(t) => std::fs::write(&real, t).unwrap(),
            None => std::fs::write(&real, b"kind: \xff\xfe\n").unwrap(),
        }
        let p = plan(&s, &[before], &request(&root, &[CHECK])).unwrap();
        assert!(p.fixes.is_empty(), "{name}: {:#?}", p.fixes);
        assert_eq!(p.unfixed.len(), 1, "{name}: {:#?}", p.unfixed);
        let reason = &p.unfixed[0].reason;
        assert_eq!(p.unfixed[0].check, CHECK);
        assert!(reason.contains(ENC), "{name}: {reason}");
        assert!(reason.contains(why), "{name}: {reason}");
    }
}

/// The audit itself could not read the file: the check is an error, not a failure, and the
/// plan says so, naming the file.
#[test]
fn a_configuration_the_audit_could_not_read_gets_no_fix() {
    let root = temp_root("enc-unread");
    put_private(&root, ENC, "kind: EncryptionConfiguration\nresources: [\n");
    let s = node(&root, ENC);
    let before = kube_audit(&s, &[CHECK]);
    assert_eq!(status(&before, CHECK), Status::Error);
    let p = plan(&s, &[before], &request(&root, &[CHECK])).unwrap();
    assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
    assert_eq!(p.unfixed.len(), 1, "{:#?}", p.unfixed);
    assert!(p.unfixed[0].reason.contains(ENC), "{}", p.unfixed[0].reason);
}

/// The fix goes through the normal file path: a file changed since the plan is refused, and an
/// applied fix rolls back to the original bytes (and mode).
#[test]
fn apply_refuses_a_changed_file_and_rollback_restores_the_original() {
    let root = temp_root("enc-rollback");
    put_private(&root, ENC, IDENTITY_ONLY);
    let (_, p) = plan_on(&root, ENC);
    let real = root.join(ENC.trim_start_matches('/'));
    // Changed after the plan read it: refused, nothing written.
    let edited_by_hand = format!("{IDENTITY_ONLY}# edited by hand\n");
    std::fs::write(&real, &edited_by_hand).unwrap();
    match apply(&p, &options(&root)) {
        Err(ApplyError::Refused(m)) => assert!(m.contains(ENC), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&real).unwrap(), edited_by_hand);
    std::fs::write(&real, IDENTITY_ONLY).unwrap();

    apply(&p, &options(&root)).unwrap();
    assert_ne!(std::fs::read_to_string(&real).unwrap(), IDENTITY_ONLY);
    rollback(&options(&root)).unwrap();
    assert_eq!(std::fs::read(&real).unwrap(), IDENTITY_ONLY.as_bytes());
    assert_eq!(mode_of(&root, ENC), 0o600);
    let again = kube_audit(&node(&root, ENC), &[CHECK]);
    assert_eq!(status(&again, CHECK), Status::Fail);
}

/// An API server that reloads its encryption configuration by itself
/// (--encryption-provider-config-automatic-reload) needs no restart; the notes say so.
#[test]
fn automatic_reload_needs_no_restart() {
    let root = temp_root("enc-reload");
    put_private(&root, ENC, IDENTITY_ONLY);
    let mut s = node(&root, ENC);
    let api = s
        .kubernetes
        .as_mut()
        .unwrap()
        .components
        .get_mut(APISERVER)
        .unwrap();
    let args = vec![
        format!("--encryption-provider-config={ENC}"),
        "--encryption-provider-config-automatic-reload=true".to_string(),
    ];
    api.flags = parse_component_flags(APISERVER, &args);
    let before = kube_audit(&s, &[CHECK]);
    let p = plan(&s, &[before], &request(&root, &[CHECK])).unwrap();
    let fix = &p.fixes[0];
    let notes = fix.notes.join("\n");
    assert!(notes.contains("automatic-reload"), "{notes}");
    assert!(!notes.contains("only when it starts"), "{notes}");
    assert!(fix.restart.is_none());
}
