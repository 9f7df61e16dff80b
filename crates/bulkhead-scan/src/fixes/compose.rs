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
    match options
        .iter()
        .position(|o| o.starts_with("no-new-privileges"))
    {
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
}
