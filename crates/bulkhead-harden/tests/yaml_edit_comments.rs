//! The YAML editor replaces a scalar value and nothing else: a comment after the value, and the
//! spaces between the value and that comment, stay byte for byte, whether the old value was
//! quoted or not.

use bulkhead_harden::edit::yaml::{self, Seg};
use serde_json::json;

/// Set top-level `key` to `value` and return the edited text.
fn set(text: &str, key: &str, value: serde_json::Value) -> String {
    yaml::set(text, 0, &[], key, &value).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn a_double_quoted_value_keeps_its_comment() {
    let text = "authorization:\n  mode: \"AlwaysAllow\"   # set by kubeadm\n  other: 1\n";
    let out = yaml::set(
        text,
        0,
        &[Seg::Key("authorization")],
        "mode",
        &json!("Webhook"),
    )
    .unwrap();
    assert_eq!(
        out,
        "authorization:\n  mode: Webhook   # set by kubeadm\n  other: 1\n"
    );
}

#[test]
fn a_single_quoted_value_keeps_its_comment() {
    let text = "enabled: 'true' # keep\nnext: x\n";
    assert_eq!(
        set(text, "enabled", json!(false)),
        "enabled: false # keep\nnext: x\n"
    );
    // A doubled quote inside single quotes is part of the value.
    let text = "name: 'it''s' #c\n";
    assert_eq!(set(text, "name", json!("other")), "name: other #c\n");
}

#[test]
fn a_hash_inside_quotes_is_not_a_comment() {
    let text = "a: \"a#b\" # c\n";
    assert_eq!(set(text, "a", json!("z")), "a: z # c\n");
    let text = "a: 'a #b' # c\n";
    assert_eq!(set(text, "a", json!("z")), "a: z # c\n");
    // Without a comment, the whole quoted value (hash included) is replaced.
    let text = "a: \"x # y\"\nb: 1\n";
    assert_eq!(set(text, "a", json!("z")), "a: z\nb: 1\n");
}

#[test]
fn an_escaped_quote_does_not_end_the_value() {
    let text = "a: \"a\\\"b\" # c\n";
    assert_eq!(set(text, "a", json!("z")), "a: z # c\n");
    let text = "a: \"a\\\\\" # c\n";
    assert_eq!(set(text, "a", json!("z")), "a: z # c\n");
}

#[test]
fn a_quoted_value_without_trailing_newline_or_with_crlf() {
    assert_eq!(set("a: \"x\" # c", "a", json!("z")), "a: z # c");
    assert_eq!(
        set("a: \"x\"  # c\r\nb: 1\r\n", "a", json!("z")),
        "a: z  # c\r\nb: 1\r\n"
    );
    // A value that must stay quoted is written quoted, the comment after it.
    assert_eq!(set("a: 'x' # c\n", "a", json!("true")), "a: \"true\" # c\n");
}

#[test]
fn plain_values_keep_their_comments() {
    let text = "readOnlyPort: 10255   # legacy\nx: 1\n";
    assert_eq!(
        set(text, "readOnlyPort", json!(0)),
        "readOnlyPort: 0   # legacy\nx: 1\n"
    );
    let text = "mode: AlwaysAllow #kubeadm\n";
    assert_eq!(
        set(text, "mode", json!("Webhook")),
        "mode: Webhook #kubeadm\n"
    );
}

#[test]
fn quoted_values_in_flow_collections_keep_their_comments() {
    let text = "gates: {A: \"true\", B: 'x'}   # gates\nlist: [\"a#1\", 'b']  # items\n";
    let out = yaml::set(text, 0, &[Seg::Key("gates")], "A", &json!(false)).unwrap();
    assert_eq!(
        out,
        "gates: {A: false, B: 'x'}   # gates\nlist: [\"a#1\", 'b']  # items\n"
    );
    let out = yaml::replace_item(text, 0, &[Seg::Key("list")], 0, &json!("c")).unwrap();
    assert_eq!(
        out,
        "gates: {A: \"true\", B: 'x'}   # gates\nlist: [c, 'b']  # items\n"
    );
}

#[test]
fn quoted_block_list_items_keep_their_comments() {
    let text = "command:\n- kube-apiserver\n- \"--profiling=true\"   # debug\n- '--x=1' # y\n";
    let path = [Seg::Key("command")];
    let out = yaml::replace_item(text, 0, &path, 1, &json!("--profiling=false")).unwrap();
    assert_eq!(
        out,
        "command:\n- kube-apiserver\n- --profiling=false   # debug\n- '--x=1' # y\n"
    );
    let out = yaml::replace_item(text, 0, &path, 2, &json!("--x=2")).unwrap();
    assert_eq!(
        out,
        "command:\n- kube-apiserver\n- \"--profiling=true\"   # debug\n- --x=2 # y\n"
    );
}

#[test]
fn a_quoted_scalar_replaced_by_a_block_keeps_the_following_lines() {
    let text = "a: \"x\" # c\nb: 1\n";
    assert_eq!(
        set(text, "a", json!(["p", "q"])),
        "a:\n  - p\n  - q\nb: 1\n"
    );
}

#[test]
fn a_flow_list_followed_by_a_comment_with_brackets_is_edited_inside_its_own_brackets() {
    let text = "cap_add: [NET_ADMIN, \"SYS_TIME\"]  # see [docs]\nx: 1\n";
    let path = [Seg::Key("cap_add")];
    assert_eq!(
        yaml::append(text, 0, &path, &json!("CHOWN")).unwrap(),
        "cap_add: [NET_ADMIN, \"SYS_TIME\", CHOWN]  # see [docs]\nx: 1\n"
    );
    assert_eq!(
        yaml::remove_item(text, 0, &path, 1).unwrap(),
        "cap_add: [NET_ADMIN]  # see [docs]\nx: 1\n"
    );
    let text = "gates: {A: true}  # {note}\n";
    assert_eq!(
        yaml::set(text, 0, &[Seg::Key("gates")], "B", &json!(false)).unwrap(),
        "gates: {A: true, B: false}  # {note}\n"
    );
}

/// A block scalar (`|`, `>-`) is replaced whole, header and content lines, and the entries,
/// blank lines and comments after it stay.
///
/// The parser's span of a block scalar does not cover its header (it starts at the first content
/// character, or at an anchor or tag), so the editor finds the indicator and the content lines
/// itself rather than trusting the span.
#[test]
fn block_scalars_are_replaced_whole() {
    assert_eq!(
        set("a: |\n  one\n  two\nb: 1\n", "a", json!("z")),
        "a: z\nb: 1\n"
    );
    assert_eq!(
        set("a: >-\n  one\n\n# note\nb: 1\n", "a", json!("z")),
        "a: z\n\n# note\nb: 1\n"
    );
    assert_eq!(set("a: |\n  one", "a", json!("z")), "a: z");
    // An anchor on the scalar stays; with an alias repeating it, the edit is refused.
    assert_eq!(
        set("a: &x |\n  one\nb: 1\n", "a", json!("z")),
        "a: &x z\nb: 1\n"
    );
    let e = yaml::set("a: &x |\n  one\nb: *x\n", 0, &[], "a", &json!("z")).unwrap_err();
    assert!(
        e.0.starts_with("a carries the anchor &x, which b (line 3)"),
        "{e}"
    );
    let text = "spec:\n  script: |\n    echo hi\n  next: 1\n";
    assert_eq!(
        yaml::set(text, 0, &[Seg::Key("spec")], "script", &json!("true")).unwrap(),
        "spec:\n  script: \"true\"\n  next: 1\n"
    );
    let text = "args:\n- |\n  one\n- x\n";
    assert_eq!(
        yaml::replace_item(text, 0, &[Seg::Key("args")], 0, &json!("z")).unwrap(),
        "args:\n- z\n- x\n"
    );
    // A block scalar replaced by a list.
    assert_eq!(
        set("a: |\n  one\nb: 1\n", "a", json!(["p"])),
        "a:\n  - p\nb: 1\n"
    );
    // A comment on the header line stays; CRLF line breaks stay CRLF.
    assert_eq!(
        set(
            "a: |-  # script\r\n  one\r\n\r\n  two\r\nb: 1\r\n",
            "a",
            json!("z")
        ),
        "a: z  # script\r\nb: 1\r\n"
    );
}

/// Lines inside a block scalar are its content even when they start with `#`: a key, list item
/// or removal next to it keeps them in the scalar, and comments elsewhere stay where they are.
/// An item written as an alias (`- *name`) is not replaced where its anchor is.
#[test]
fn block_scalar_lines_that_look_like_comments_stay_in_the_scalar() {
    let text = "# pod\nscript: |   # run at start\n  echo hi\n  # done\n";
    assert_eq!(
        set(text, "next", json!(1)),
        "# pod\nscript: |   # run at start\n  echo hi\n  # done\nnext: 1\n"
    );
    let path = [Seg::Key("args")];
    let text = "args:\r\n- a\r\n- |\r\n  one\r\n  # two\r\nx: 1 # keep\r\n";
    assert_eq!(
        yaml::append(text, 0, &path, &json!("z")).unwrap(),
        "args:\r\n- a\r\n- |\r\n  one\r\n  # two\r\n- z\r\nx: 1 # keep\r\n"
    );
    assert_eq!(
        yaml::remove_item(text, 0, &path, 1).unwrap(),
        "args:\r\n- a\r\nx: 1 # keep\r\n"
    );
    let text = "args:\n- &flag --profiling=true\n- *flag";
    let e = yaml::replace_item(text, 0, &path, 1, &json!("--profiling=false")).unwrap_err();
    assert!(
        e.0.contains("args[1]") && e.0.contains("alias (*flag)"),
        "{e}"
    );
    assert_eq!(
        yaml::append(text, 0, &path, &json!("z")).unwrap(),
        "args:\n- &flag --profiling=true\n- *flag\n- z\n"
    );
}

/// Compose services sharing a list through an anchor: adding to or removing from one service's
/// list never edits the anchor, so the other service keeps exactly what it had. A list written
/// as an alias (`cap_add: *caps`) is refused naming the alias; a list merged in with `<<` is
/// written into the service itself (its own key overrides the merged one).
#[test]
fn lists_shared_through_an_anchor_are_not_changed_for_other_services() {
    let text = "x-caps: &caps [NET_ADMIN]   # shared\nx-base: &base\n  cap_drop:\n    - ALL\n  read_only: true\nservices:\n  a:\n    <<: *base\n    image: a:1\n    cap_add: *caps\n  b:\n    <<: *base\n    image: b:1\n    cap_add: *caps\n";
    let caps = [Seg::Key("services"), Seg::Key("a"), Seg::Key("cap_add")];
    for e in [
        yaml::append(text, 0, &caps, &json!("SYS_TIME")).unwrap_err(),
        yaml::remove_item(text, 0, &caps, 0).unwrap_err(),
    ] {
        assert!(
            e.0.contains("services.a.cap_add at line 10, column 14")
                && e.0.contains("alias (*caps)")
                && e.0.contains("&caps"),
            "{e}"
        );
    }
    let drop = [Seg::Key("services"), Seg::Key("a"), Seg::Key("cap_drop")];
    let out = yaml::append(text, 0, &drop, &json!("NET_RAW")).unwrap();
    assert_eq!(
        out,
        text.replace(
            "    cap_add: *caps\n  b:",
            "    cap_add: *caps\n    cap_drop:\n      - ALL\n      - NET_RAW\n  b:"
        )
    );
    let out = yaml::remove_item(text, 0, &drop, 0).unwrap();
    assert_eq!(
        out,
        text.replace(
            "    cap_add: *caps\n  b:",
            "    cap_add: *caps\n    cap_drop: []\n  b:"
        )
    );
}

/// What a compose file reads as (merges and aliases resolved).
fn read(text: &str) -> serde_json::Value {
    let docs = bulkhead_sources::yaml::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    docs[0].root.to_json(bulkhead_sources::yaml::Schema::Core)
}

/// A compose file as harden meets it: services merge common settings (`<<: *common`) and one
/// service's `cap_add` is an anchor another repeats. Hardening `web` sets a logging option
/// below the merged `logging` mapping and adds a capability to `web`'s list, one edit after the
/// other as harden does; an edit that is refused is reported, not applied.
///
/// The logging option is written into a copy of the merged mapping that `web` gets of its own
/// (the anchor's other entries kept, so nothing of `logging` is lost); the capability would
/// also change `worker`, which repeats `web`'s list through `*caps`, so it is refused naming
/// both. The anchors and the other services stay byte for byte.
#[test]
fn hardening_one_compose_service_leaves_what_it_shares_with_others_alone() {
    let common = "x-common: &common\n  restart: unless-stopped\n  logging:\n    driver: json-file   # every service\n    options:\n      max-size: 10m\n      tag: \"{{.Name}}\"\n";
    let worker = "  worker:\n    <<: *common\n    image: app:1\n    cap_add: *caps\n";
    let text = format!("{common}services:\n  web:\n    <<: *common\n    image: nginx:1.25   # pinned\n    cap_add: &caps\n      - NET_BIND_SERVICE\n{worker}");
    let web = |k: &'static str| [Seg::Key("services"), Seg::Key("web"), Seg::Key(k)];
    let before = read(&text);

    let mut out = text.clone();
    let mut unfixed = Vec::new();
    let options = [
        Seg::Key("services"),
        Seg::Key("web"),
        Seg::Key("logging"),
        Seg::Key("options"),
    ];
    match yaml::set(&out, 0, &options, "max-file", &json!("3")) {
        Ok(t) => out = t,
        Err(e) => unfixed.push(e.0),
    }
    match yaml::append(&out, 0, &web("cap_add"), &json!("CHOWN")) {
        Ok(t) => out = t,
        Err(e) => unfixed.push(e.0),
    }
    match yaml::set(&out, 0, &web("image")[..2], "read_only", &json!(true)) {
        Ok(t) => out = t,
        Err(e) => unfixed.push(e.0),
    }

    assert_eq!(
        unfixed,
        ["services.web.cap_add carries the anchor &caps, which services.worker.cap_add (line 23) also uses through *caps; change it by hand, or give each its own value"]
    );
    assert_eq!(
        out,
        format!("{common}services:\n  web:\n    <<: *common\n    image: nginx:1.25   # pinned\n    cap_add: &caps\n      - NET_BIND_SERVICE\n    logging:\n      driver: json-file\n      options:\n        max-size: 10m\n        tag: \"{{{{.Name}}}}\"\n        max-file: \"3\"\n    read_only: true\n{worker}")
    );
    // The anchor and worker are untouched, byte for byte.
    assert!(out.starts_with(common));
    assert!(out.ends_with(worker));
    // web reads as before plus the two settings; worker and the anchor read as before.
    let after = read(&out);
    let mut want = before.clone();
    want["services"]["web"]["logging"]["options"]["max-file"] = json!("3");
    want["services"]["web"]["read_only"] = json!(true);
    assert_eq!(after, want);
    assert_eq!(after["services"]["worker"], before["services"]["worker"]);
    assert_eq!(
        after["services"]["web"]["logging"],
        json!({"driver": "json-file", "options": {"max-size": "10m", "tag": "{{.Name}}", "max-file": "3"}})
    );
}
