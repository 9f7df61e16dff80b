//! Compose edits that are more than setting one key: making a service's `security_opt` hold
//! `no-new-privileges:true` (replacing a `no-new-privileges:false` in place, or adding the
//! option to the list, creating it when missing). The scanner's `compose-no-new-privileges` fix
//! and harden's compose patch for a running container both use it. Single keys (`read_only`,
//! `user`, `privileged`) are [`super::yaml::set`].

use super::yaml::{self, Seg};
use super::Splice;
use serde_json::json;

/// The option as compose-go reads it: `=` and `:` are the same separator, letter case ignored.
fn normalized(option: &str) -> String {
    option.replace('=', ":").trim().to_ascii_lowercase()
}

/// Make service `service` of the compose file `text` run with `no-new-privileges:true`. `None`
/// when it already does.
pub fn no_new_privileges(text: &str, service: &str) -> Result<Option<Splice>, String> {
    let docs = bulkhead_sources::yaml::parse(text).map_err(|e| e.to_string())?;
    let path = [
        Seg::Key("services"),
        Seg::Key(service),
        Seg::Key("security_opt"),
    ];
    let e = |r: Result<Splice, yaml::YamlEditError>| r.map(Some).map_err(|e| e.0);
    let wanted = json!("no-new-privileges:true");
    let Some(list) = yaml::node_at(&docs, 0, &path).filter(|n| !n.is_null()) else {
        return e(yaml::set_splice(
            text,
            0,
            &path[..2],
            "security_opt",
            &json!(["no-new-privileges:true"]),
        ));
    };
    let Some(items) = list.as_seq() else {
        return Err(format!(
            "services.{service}.security_opt (line {}) is not a list",
            list.span.start.line
        ));
    };
    let options: Vec<String> = items
        .iter()
        .map(|n| normalized(n.as_str().unwrap_or("")))
        .collect();
    if options
        .iter()
        .any(|o| o == "no-new-privileges" || o == "no-new-privileges:true")
    {
        return Ok(None);
    }
    let at = options
        .iter()
        .position(|o| o.starts_with("no-new-privileges"));
    // A list the service merges in from an anchor (`<<: *base`) is shared by every mapping
    // merging it: the service gets its own `security_opt` (the merged items and the option),
    // which overrides the merged one; the anchor is left as written. (`yaml::set_splice` refuses
    // a list written as an alias, `security_opt: *opts`, for the same reason.)
    let svc = yaml::node_at(&docs, 0, &path[..2]);
    let own = svc
        .and_then(|s| s.entry("security_opt"))
        .is_some_and(|(k, v)| {
            let inside = |n: &bulkhead_sources::yaml::Node| {
                svc.is_some_and(|s| s.span.range().contains(&n.span.start.offset))
            };
            inside(k) && inside(v)
        });
    if !own {
        let mut list: Vec<serde_json::Value> = items
            .iter()
            .map(|n| match n.as_str() {
                Some(s) => Ok(json!(s)),
                None => Err(format!(
                    "services.{service}.security_opt (line {}) holds an item that is not a string",
                    n.span.start.line
                )),
            })
            .collect::<Result<_, _>>()?;
        match at {
            Some(i) => list[i] = wanted,
            None => list.push(wanted),
        }
        return e(yaml::set_splice(
            text,
            0,
            &path[..2],
            "security_opt",
            &serde_json::Value::Array(list),
        ));
    }
    match at {
        Some(i) => e(yaml::replace_item_splice(text, 0, &path, i, &wanted)),
        None => e(yaml::append_splice(text, 0, &path, &wanted)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> Option<String> {
        no_new_privileges(text, "web")
            .unwrap()
            .map(|s| s.apply(text))
    }

    #[test]
    fn the_option_is_added_replaced_or_left_alone() {
        // PITFALLS CIS Docker 14: `no-new-privileges:false` is not set; it is replaced in place.
        let text = "services:\n  web:\n    image: nginx:1.25\n    security_opt:\n      - no-new-privileges:false   # why?\n      - label=disable\n";
        assert_eq!(
            fixed(text).unwrap(),
            text.replace("no-new-privileges:false", "no-new-privileges:true")
        );
        let text = "services:\n  web:\n    image: nginx:1.25\n    security_opt: [apparmor=docker-default]\n";
        assert_eq!(
            fixed(text).unwrap(),
            "services:\n  web:\n    image: nginx:1.25\n    security_opt: [apparmor=docker-default, no-new-privileges:true]\n"
        );
        let text = "services:\n  web:\n    image: nginx:1.25\n\n  db:\n    image: postgres:16\n";
        assert_eq!(
            fixed(text).unwrap(),
            "services:\n  web:\n    image: nginx:1.25\n    security_opt:\n      - no-new-privileges:true\n\n  db:\n    image: postgres:16\n"
        );
        assert_eq!(
            fixed("services:\n  web:\n    security_opt: [\"no-new-privileges=TRUE\"]\n"),
            None
        );
        let e =
            no_new_privileges("services:\n  web:\n    security_opt: nope\n", "web").unwrap_err();
        assert!(e.contains("line 3") && e.contains("not a list"), "{e}");
    }

    #[test]
    fn a_merged_list_is_overridden_in_the_service_not_edited_in_the_anchor() {
        // Editing the anchor would change every service merging it (here `db` too).
        for base in [
            "x-base: &base\n  image: app:1\n  security_opt: [seccomp:unconfined]\n",
            "x-base: &base\n  image: app:1\n  security_opt:\n    - seccomp:unconfined\n",
        ] {
            let text = format!(
                "{base}services:\n  web:\n    <<: *base\n    ports: [\"80:80\"]\n  db:\n    <<: *base\n    image: db:1\n"
            );
            assert_eq!(
                fixed(&text).unwrap(),
                text.replace(
                    "    ports: [\"80:80\"]\n",
                    "    ports: [\"80:80\"]\n    security_opt:\n      - seccomp:unconfined\n      - no-new-privileges:true\n"
                ),
                "{text}"
            );
        }
        // A merged `no-new-privileges:false` is replaced in the service's own list.
        let text = "x-base: &base\n  security_opt: [no-new-privileges:false, label=disable]\nservices:\n  web:\n    <<: *base\n    image: app:1\n";
        assert_eq!(
            fixed(text).unwrap(),
            format!(
                "{text}    security_opt:\n      - no-new-privileges:true\n      - label=disable\n"
            )
        );
        // The service's own list overrides the merged one and is edited in place.
        let text = "x-base: &base\n  security_opt: [seccomp:unconfined]\nservices:\n  web:\n    <<: *base\n    security_opt: [label=disable]\n";
        assert_eq!(
            fixed(text).unwrap(),
            text.replace("[label=disable]", "[label=disable, no-new-privileges:true]")
        );
        // A list written as an alias is shared too: refused, not edited where the anchor is.
        let text = "x-opts: &opts [seccomp:unconfined]\nservices:\n  web:\n    image: app:1\n    security_opt: *opts\n";
        let e = no_new_privileges(text, "web").unwrap_err();
        assert!(e.contains("alias"), "{e}");
    }
}
