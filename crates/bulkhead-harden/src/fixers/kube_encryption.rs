//! CIS Kubernetes 1.2.28 on an API server that already has an EncryptionConfiguration: the
//! entry the API server applies to secrets (the first whose `resources` name `secrets`, `*.` or
//! `*.*`, as the evaluator reads it: [`EncryptionConfig::secrets_rule`]) writes them in plain
//! text because `identity` comes first, or no entry covers secrets at all.
//!
//! The file is edited where it is, in its own syntax, keeping its comments, layout and every key
//! it holds. JSON goes through the YAML editor's JSON mode (JSON text, commas where JSON puts
//! them): the JSON editor addresses object members only, and the providers are list items.
//!
//! - an encrypting provider (aescbc, aesgcm, secretbox, kms) already listed later in that entry
//!   moves to the front, its keys untouched; the other providers keep their order after it, so
//!   `identity` still reads what was stored in plain text;
//! - without one, a new `aescbc` provider with one freshly generated 32-byte key goes first;
//! - without an entry for secrets, a new first entry is added for them: the new aescbc provider,
//!   then `identity`.
//!
//! The edited document is checked against the intended one (the same values with only that
//! change), and the check's own evaluator judges the configuration as the edit leaves it before
//! the fix claims 1.2.28. A generated key is written only to the file: every output shows it
//! masked, and the edit is marked so that a reviewed plan is not refused for a key that differs
//! on every plan.

use super::kube::{find_manifest, judge_projected, push_fix, random_key, FixParts};
use super::{file_edit, ROOT_PRIVATE_FILE};
use crate::edit::{yaml, yaml::Seg};
use crate::files;
use crate::model::{AttrChange, CommandStep, FileAttrs, FixKind, Restart, Safety, Target};
use crate::planner::{Failing, PlanContext, Planned};
use bulkhead_facts::kube::{EncryptionConfig, KubeFacts, APISERVER, ENCRYPTING_PROVIDERS};
use bulkhead_facts::Fact;
use serde_json::{json, Value};
use std::ops::Range;

/// The command that rewrites every Secret, so that each is stored again through the first
/// provider. Shown, never run.
pub const REWRITE_SECRETS: &str =
    "kubectl get secrets --all-namespaces -o json | kubectl replace -f -";

/// What the edit does to the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// Provider `from` of entry `entry` (an encrypting one) moves to the front.
    Move {
        entry: usize,
        from: usize,
        name: String,
    },
    /// A new aescbc provider goes first in entry `entry`.
    Insert { entry: usize },
    /// A new first entry for secrets.
    NewEntry,
}

/// The name of a provider list item (`identity: {}` -> `identity`).
fn provider_name(p: &Value) -> &str {
    p.as_object()
        .and_then(|o| o.keys().next())
        .map(String::as_str)
        .unwrap_or("")
}

/// Decide the change from the configuration as read (`doc`, and `cfg` its reading by the
/// facts crate). An error says why the file is left to a human.
fn decide(path: &str, doc: &Value, cfg: &EncryptionConfig) -> Result<Change, String> {
    let Some(rule) = cfg.secrets_rule() else {
        return Ok(Change::NewEntry);
    };
    // One rule per item of `resources`, in order.
    let entry = cfg
        .rules
        .iter()
        .position(|r| std::ptr::eq(r, rule))
        .expect("the rule is one of the rules");
    let providers = doc["resources"][entry]["providers"]
        .as_array()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            format!(
                "{path}: the entry for {} lists no providers, which the API server refuses; correct it by hand",
                rule.resources.join(", ")
            )
        })?;
    let first = provider_name(&providers[0]);
    if ENCRYPTING_PROVIDERS.contains(&first) {
        return Err(format!(
            "{path} already puts {first} first for {}; the running API server predates that: restart it, then audit again",
            rule.resources.join(", ")
        ));
    }
    match providers
        .iter()
        .position(|p| ENCRYPTING_PROVIDERS.contains(&provider_name(p)))
    {
        Some(from) => Ok(Change::Move {
            entry,
            from,
            name: provider_name(&providers[from]).to_string(),
        }),
        None => Ok(Change::Insert { entry }),
    }
}

/// A new aescbc provider holding one key.
fn aescbc(key_name: &str, secret: &str) -> Value {
    json!({"aescbc": {"keys": [{"name": key_name, "secret": secret}]}})
}

/// The key name for a key generated today: `key-bulkhead-YYYYMMDD`.
fn key_name() -> String {
    let secs = bulkhead_facts::time::unix_now();
    let (y, m, d) = bulkhead_facts::time::civil_from_days(secs.div_euclid(86_400));
    format!("key-bulkhead-{y:04}{m:02}{d:02}")
}

/// The document as the change should leave it.
fn intended(doc: &Value, change: &Change, new: Option<&Value>) -> Value {
    let mut v = doc.clone();
    match change {
        Change::Move { entry, from, .. } => {
            if let Some(p) = v["resources"][*entry]["providers"].as_array_mut() {
                let moved = p.remove(*from);
                p.insert(0, moved);
            }
        }
        Change::Insert { entry } => {
            if let (Some(p), Some(new)) = (v["resources"][*entry]["providers"].as_array_mut(), new)
            {
                p.insert(0, new.clone());
            }
        }
        Change::NewEntry => {
            if let (Some(r), Some(new)) = (v["resources"].as_array_mut(), new) {
                r.insert(
                    0,
                    json!({"resources": ["secrets"], "providers": [new.clone(), {"identity": {}}]}),
                );
            }
        }
    }
    v
}

/// The text with the change made (`new` the provider to add, for an insert or a new entry).
fn edit_text(text: &str, change: &Change, new: Option<&Value>) -> Result<String, String> {
    let e = |err: yaml::YamlEditError| err.to_string();
    match change {
        Change::Move { entry, from, .. } => {
            let path = [
                Seg::Key("resources"),
                Seg::Index(*entry),
                Seg::Key("providers"),
            ];
            move_first(text, &path, *from)
        }
        Change::Insert { entry } => {
            let path = [
                Seg::Key("resources"),
                Seg::Index(*entry),
                Seg::Key("providers"),
            ];
            let new = new.expect("an insert has a provider");
            let t = yaml::append(text, 0, &path, new).map_err(e)?;
            move_first(&t, &path, list_len(&t, &path)? - 1)
        }
        Change::NewEntry => {
            let list = [Seg::Key("resources")];
            let new = new.expect("a new entry has a provider");
            // `resources` first, then `providers`, as people write an entry.
            let t = yaml::append(text, 0, &list, &json!({"resources": ["secrets"]})).map_err(e)?;
            let at = list_len(&t, &list)? - 1;
            let t = yaml::set(
                &t,
                0,
                &[Seg::Key("resources"), Seg::Index(at)],
                "providers",
                &json!([new, {"identity": {}}]),
            )
            .map_err(e)?;
            move_first(&t, &list, at)
        }
    }
}

fn list_len(text: &str, path: &[Seg]) -> Result<usize, String> {
    let docs = bulkhead_sources::yaml::parse(text).map_err(|e| e.to_string())?;
    yaml::node_at(&docs, 0, path)
        .and_then(|n| n.as_seq())
        .map(|s| s.len())
        .filter(|n| *n > 0)
        .ok_or_else(|| "the list to edit is gone".to_string())
}

/// Is the collection written in flow style (`[a, b]`, JSON)? An anchor or tag before it is
/// skipped.
fn is_flow(text: &str, n: &bulkhead_sources::yaml::Node) -> bool {
    let mut rest = text[n.span.start.offset..].trim_start();
    while rest.starts_with(['&', '!']) {
        let end = rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest.starts_with('[')
}

/// Move item `j` of the list at `path` to the front, everything else in its order.
///
/// The YAML editor measures each item (and refuses an item or list that an anchor shares with
/// other places): in a block list an item is its lines, and they move whole, trailing comments
/// and nested comments included, with the comment lines written right above its dash at its
/// column (a comment about the item). In a flow list (JSON included) the items trade places and
/// every separator stays where it was, so the layout is kept.
fn move_first(text: &str, path: &[Seg], j: usize) -> Result<String, String> {
    if j == 0 {
        return Ok(text.to_string());
    }
    let docs = bulkhead_sources::yaml::parse(text).map_err(|e| e.to_string())?;
    let list = yaml::node_at(&docs, 0, path).ok_or("the list to edit is gone")?;
    let items = list.as_seq().ok_or("not a list")?;
    let measure = |i: usize| {
        yaml::remove_item_splice(text, 0, path, i)
            .map(|s| s.range)
            .map_err(|e| e.to_string())
    };
    let (first, moved) = (measure(0)?, measure(j)?);
    if is_flow(text, list) {
        let spans: Vec<Range<usize>> = items.iter().map(|n| n.span.range()).collect();
        let ordered = spans.windows(2).all(|w| w[0].end <= w[1].start)
            && spans.iter().all(|s| s.start < s.end && s.end <= text.len());
        if !ordered {
            return Err(
                "the list's items are not written in order (an alias?); move it by hand".into(),
            );
        }
        let mut order: Vec<usize> = (0..spans.len()).collect();
        let m = order.remove(j);
        order.insert(0, m);
        let mut out = text[..spans[0].start].to_string();
        for (slot, &i) in order.iter().enumerate() {
            out.push_str(&text[spans[i].clone()]);
            if let Some(next) = spans.get(slot + 1) {
                out.push_str(&text[spans[slot].end..next.start]);
            }
        }
        out.push_str(&text[spans[spans.len() - 1].end..]);
        return Ok(out);
    }
    let dash_col = |range: &Range<usize>, item: &bulkhead_sources::yaml::Node| {
        let lead = &text[range.start..item.span.start.offset.max(range.start)];
        let t = lead.trim_start_matches(' ');
        t.starts_with('-').then(|| lead.len() - t.len())
    };
    let (Some(c0), Some(cj)) = (dash_col(&first, &items[0]), dash_col(&moved, &items[j])) else {
        return Err("the list's items do not start their own lines; move it by hand".into());
    };
    let prev_end = measure(j - 1)?.end;
    let to = with_comments_above(text, first.start, c0, 0);
    let from = with_comments_above(text, moved.start, cj, prev_end);
    let mut block = text[from..moved.end].to_string();
    if !block.ends_with('\n') {
        block.push_str(bulkhead_scan::fixes::line_break(text));
    }
    Ok(format!(
        "{}{}{}{}",
        &text[..to],
        block,
        &text[to..from],
        &text[moved.end..]
    ))
}

/// The start of the comment lines written right above the line at `start` at column `col`
/// (no blank line between), not before `floor`.
fn with_comments_above(text: &str, mut start: usize, col: usize, floor: usize) -> usize {
    while start > floor {
        let prev = text[..start - 1].rfind('\n').map(|i| i + 1).unwrap_or(0);
        if prev < floor {
            break;
        }
        let line = text[prev..start].trim_end_matches(['\n', '\r']);
        let body = line.trim_start_matches(' ');
        if body.starts_with('#') && line.len() - body.len() == col {
            start = prev;
        } else {
            break;
        }
    }
    start
}

/// Plan 1.2.28 (and whatever else of `failing` the edit closes) on the existing configuration
/// `existing` the API server reads.
pub(super) fn plan_existing(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    existing: &EncryptionConfig,
    failing: &[&Failing<'_>],
    out: &mut Planned,
) {
    let path = existing.path.as_str();
    let refuse = |out: &mut Planned, why: String| {
        for f in failing {
            out.unfixed.push(f.unfixed(Some(path), why.clone()));
        }
    };
    let by_hand = "put an encrypting provider (aescbc, aesgcm, secretbox or kms) first for secrets in it by hand, keeping the current keys";
    let read = match files::read(&ctx.root, path) {
        Ok(r) => r,
        Err(e) => return refuse(out, format!("{e}; {by_hand}")),
    };
    let Some(text) = read.content.clone() else {
        return refuse(
            out,
            format!(
                "{path} was not found under --root {}: the API server may read it inside its own mount namespace; {by_hand}",
                ctx.root.display()
            ),
        );
    };
    let not_startable = "harden does not edit a file the API server would not start with: correct it by hand, then run harden again";
    let doc = match bulkhead_sources::yaml::parse(&text) {
        Ok(docs) => match docs.into_iter().next() {
            Some(d) => d.root.to_json(bulkhead_sources::yaml::Schema::Yaml11),
            None => return refuse(out, format!("{path} holds no document; {not_startable}")),
        },
        Err(e) => return refuse(out, format!("{path}: {e}; {not_startable}")),
    };
    let cfg = match EncryptionConfig::from_value(path, &doc) {
        Ok(c) => c,
        Err(e) => return refuse(out, format!("{e}; {not_startable}")),
    };
    let change = match decide(path, &doc, &cfg) {
        Ok(c) => c,
        Err(e) => return refuse(out, e),
    };
    // A new key, for an insert or a new entry.
    let new = match &change {
        Change::Move { .. } => None,
        _ => match random_key() {
            Ok(k) => Some((key_name(), k)),
            Err(e) => return refuse(out, e),
        },
    };
    let provider = new.as_ref().map(|(n, k)| aescbc(n, k));
    let after = match edit_text(&text, &change, provider.as_ref()) {
        Ok(t) => t,
        Err(e) => return refuse(out, format!("{path}: {e}; {by_hand}")),
    };
    // The edited text must hold exactly the intended document: the same values, with only the
    // provider (or entry) in its new place.
    let after_doc = bulkhead_sources::yaml::parse(&after)
        .ok()
        .and_then(|d| d.into_iter().next())
        .map(|d| d.root.to_json(bulkhead_sources::yaml::Schema::Yaml11));
    if after_doc.as_ref() != Some(&intended(&doc, &change, provider.as_ref())) {
        return refuse(
            out,
            format!("{path}: the edit would not leave the intended configuration (a bug; please report it); {by_hand}"),
        );
    }
    let after_doc = after_doc.expect("compared above");
    let projected_cfg = match EncryptionConfig::from_value(path, &after_doc) {
        Ok(c) => c,
        Err(e) => return refuse(out, format!("{e}; {by_hand}")),
    };
    // The check's own evaluator judges the API server restarted on the edited file.
    let mut projected = ctx.snapshot.clone();
    if let Some(k) = projected.kubernetes.as_mut() {
        k.encryption = Some(Fact::Value(projected_cfg.clone()));
        if let Some(c) = k.components.get_mut(APISERVER) {
            c.started_at = None;
        }
    }
    let verdicts = judge_projected(
        &projected,
        failing,
        &format!("the API server with the edited {path}"),
    );
    let mut fixed: Vec<&Failing> = Vec::new();
    for (f, v) in failing.iter().zip(verdicts) {
        match v {
            None => fixed.push(f),
            Some(why) => out.unfixed.push(f.unfixed(Some(path), why)),
        }
    }
    if fixed.is_empty() {
        return;
    }
    let rule = projected_cfg
        .secrets_rule()
        .expect("the edited file has an entry for secrets");
    let resources = rule.resources.join(", ");
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    let mut may_break = Vec::new();
    match (&change, &new) {
        (Change::Move { name, .. }, _) => {
            changes.push(format!(
                "{name}, with its keys as they are, moved first among the providers for {resources} in {path}: new writes are encrypted with it; {} keep their order after it",
                rule.providers[1..].join(", ")
            ));
            if name == "kms" {
                may_break.push("the API server cannot start, nor read or write what the entry covers, while its KMS plugin does not answer".to_string());
            }
            notes.push("make the same change on every control plane node: each API server must write with the same provider".to_string());
        }
        (Change::Insert { .. }, Some((key, _))) => {
            changes.push(format!(
                "a new aescbc provider first among the providers for {resources} in {path}, with one 32-byte key ({key}) freshly generated from /dev/urandom; {} stay after it, so what was stored through them stays readable",
                rule.providers[1..].join(", ")
            ));
        }
        (_, new) => {
            changes.push(format!(
                "a new first entry in {path} for secrets: aescbc with one 32-byte key ({}) freshly generated from /dev/urandom, then identity, so Secrets stored in plain text stay readable",
                new.as_ref().map(|(k, _)| k.as_str()).unwrap_or_default()
            ));
        }
    }
    if new.is_some() {
        may_break.push(format!(
            "on a cluster with several control plane nodes, every API server needs this key: copy {path} as written to each of them and restart them together, or an API server without it cannot read the Secrets another one encrypted"
        ));
    }
    if rule.resources.iter().any(|r| r == "*." || r == "*.*") {
        notes.push(format!(
            "the entry edited covers {resources}: every resource it matches is encrypted from now on, not only Secrets"
        ));
    }
    let mut attrs = Vec::new();
    if let Some(a) = read.attrs.filter(|a| a.mode & 0o077 != 0) {
        let private = FileAttrs {
            mode: a.mode & !0o077,
            ..a
        };
        changes.push(format!(
            "{path} made private: mode {:04o} -> {:04o}, as it holds encryption keys",
            a.mode, private.mode
        ));
        attrs.push(AttrChange {
            path: path.to_string(),
            before: a,
            after: private,
        });
    }
    // When the API server loads the edited file.
    let api = kube.component(APISERVER);
    let reloads = api
        .and_then(|c| c.flags.last("encryption-provider-config-automatic-reload"))
        .is_some_and(|v| v.is_empty() || v.eq_ignore_ascii_case("true"));
    let restart = if reloads {
        notes.push(format!(
            "kube-apiserver runs with --encryption-provider-config-automatic-reload: it notices the edited {path} by itself and loads it, no restart needed"
        ));
        None
    } else if let Ok(m) = find_manifest(ctx, kube, APISERVER) {
        let dir = m
            .path
            .rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_else(|| "/".into());
        notes.push(format!(
            "kube-apiserver reads {path} only when it starts, and the kubelet restarts a static pod when its manifest changes, not when a file the pod mounts does: after applying, move {} out of {dir} (for example to /root), wait until the kube-apiserver container is gone (`crictl ps --name kube-apiserver` lists nothing), then move it back",
            m.path
        ));
        None
    } else {
        notes.push(format!(
            "kube-apiserver reads {path} only when it starts: restart it after applying"
        ));
        Some(Restart {
            service: "kube-apiserver".into(),
            reload_suffices: false,
        })
    };
    notes.push(
        "Secrets already stored stay unencrypted until they are written again: once the API server runs with the edited file, rewrite them all with the command below (bulkhead never runs it)".to_string(),
    );
    notes.push(format!(
        "back up {path} with the cluster's backups and keep it private: it holds the key that now encrypts Secrets, and an etcd backup is worthless without it{}",
        if new.is_some() {
            "; the new key is shown masked and written only to the file"
        } else {
            ""
        }
    ));
    let mut edit = file_edit(path, &read, after, ROOT_PRIVATE_FILE);
    edit.generated_secret = new.is_some();
    push_fix(
        out,
        &fixed,
        FixParts {
            kind: FixKind::EncryptionConfig,
            target: Target::new("static-pod", APISERVER, Some(path.to_string())),
            edits: vec![edit],
            changes,
            may_break,
            safety: Safety::Review,
            notes,
            restart,
        },
    );
    let fix = out.fixes.last_mut().expect("just pushed");
    fix.title = format!("Encrypt Secrets at rest: an encrypting provider first in {path}");
    fix.action.attrs = attrs;
    fix.action.steps.push(CommandStep {
        comment: "rewrite every Secret so that it is stored encrypted (once the API server runs with the edited file)".into(),
        argv: vec!["sh".into(), "-c".into(), REWRITE_SECRETS.into()],
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDERS: [Seg<'static>; 3] =
        [Seg::Key("resources"), Seg::Index(0), Seg::Key("providers")];

    #[test]
    fn block_items_move_with_their_comments() {
        let t = "resources:\n  - resources: [secrets]\n    providers:\n      # plain text\n      - identity: {}  # for now\n        # about identity\n      # the real one\n      - aescbc:\n          # rotated\n          keys: [{name: a, secret: s}]\n      - kms: {name: k, endpoint: unix:///x}\n";
        assert_eq!(
            move_first(t, &PROVIDERS, 1).unwrap(),
            "resources:\n  - resources: [secrets]\n    providers:\n      # the real one\n      - aescbc:\n          # rotated\n          keys: [{name: a, secret: s}]\n      # plain text\n      - identity: {}  # for now\n        # about identity\n      - kms: {name: k, endpoint: unix:///x}\n"
        );
        // The last item, at the end of a file without a final newline.
        let t = "resources:\n- providers:\n  - identity: {}\n  - aescbc: {keys: [{name: a, secret: s}]}";
        assert_eq!(
            move_first(t, &PROVIDERS, 1).unwrap(),
            "resources:\n- providers:\n  - aescbc: {keys: [{name: a, secret: s}]}\n  - identity: {}\n"
        );
    }

    #[test]
    fn flow_items_trade_places_and_separators_stay() {
        let t = "resources:\n  - resources: [secrets]\n    providers: [{identity: {}}, {aesgcm: {keys: [{name: a, secret: s}]}}, {secretbox: {keys: []}}]\n";
        assert_eq!(
            move_first(t, &PROVIDERS, 2).unwrap(),
            "resources:\n  - resources: [secrets]\n    providers: [{secretbox: {keys: []}}, {identity: {}}, {aesgcm: {keys: [{name: a, secret: s}]}}]\n"
        );
    }

    #[test]
    fn a_new_provider_in_a_flow_list_is_written_in_flow_style() {
        let t = "kind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers: [{identity: {}}]   # for now\n";
        let new = aescbc("k", "a+b/c=");
        let after = edit_text(t, &Change::Insert { entry: 0 }, Some(&new)).unwrap();
        assert_eq!(
            after,
            "kind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers: [{aescbc: {keys: [{name: k, secret: a+b/c=}]}}, {identity: {}}]   # for now\n"
        );
    }

    #[test]
    fn crlf_files_keep_their_line_ends() {
        let t = "resources:\r\n- resources:\r\n  - secrets\r\n  providers:\r\n  - identity: {}\r\n";
        let doc = bulkhead_sources::yaml::parse(t).unwrap()[0]
            .root
            .to_json(bulkhead_sources::yaml::Schema::Yaml11);
        let change = Change::Insert { entry: 0 };
        let new = aescbc("k", "c2VjcmV0");
        let after = edit_text(t, &change, Some(&new)).unwrap();
        assert_eq!(
            after,
            "resources:\r\n- resources:\r\n  - secrets\r\n  providers:\r\n  - aescbc:\r\n      keys:\r\n      - name: k\r\n        secret: c2VjcmV0\r\n  - identity: {}\r\n"
        );
        let after_doc = bulkhead_sources::yaml::parse(&after).unwrap()[0]
            .root
            .to_json(bulkhead_sources::yaml::Schema::Yaml11);
        assert_eq!(after_doc, intended(&doc, &change, Some(&new)));
    }

    #[test]
    fn the_change_follows_the_rule_for_secrets() {
        let cfg = |doc: &Value| EncryptionConfig::from_value("/e.yaml", doc).unwrap();
        let d = json!({"kind": "EncryptionConfiguration", "resources": [
            {"resources": ["configmaps"], "providers": [{"identity": {}}]},
            {"resources": ["*.*"], "providers": [{"identity": {}}, {"aesgcm": {"keys": []}}]},
        ]});
        assert_eq!(
            decide("/e.yaml", &d, &cfg(&d)),
            Ok(Change::Move {
                entry: 1,
                from: 1,
                name: "aesgcm".into()
            })
        );
        let d = json!({"kind": "EncryptionConfiguration", "resources": [
            {"resources": ["secrets"], "providers": [{"identity": {}}]},
        ]});
        assert_eq!(
            decide("/e.yaml", &d, &cfg(&d)),
            Ok(Change::Insert { entry: 0 })
        );
        let d = json!({"kind": "EncryptionConfiguration", "resources": [
            {"resources": ["configmaps"], "providers": [{"identity": {}}]},
        ]});
        assert_eq!(decide("/e.yaml", &d, &cfg(&d)), Ok(Change::NewEntry));
        let d = json!({"kind": "EncryptionConfiguration", "resources": [
            {"resources": ["secrets"], "providers": []},
        ]});
        assert!(decide("/e.yaml", &d, &cfg(&d))
            .unwrap_err()
            .contains("lists no providers"));
    }

    #[test]
    fn key_names_carry_the_day() {
        let n = key_name();
        assert!(n.starts_with("key-bulkhead-20"), "{n}");
        assert_eq!(n.len(), "key-bulkhead-".len() + 8);
    }
}
