//! The declarative condition language of the threat library and the reference models.
//!
//! A condition is data, deserialized into a small tree (`all`, `any`, `not`, and tests on a fact,
//! an element attribute or a control's evidence status). It is interpreted here by matching on
//! that tree; nothing in a library or model file is ever evaluated as code.
//!
//! ```toml
//! applies_when = { all = [
//!   { fact = "docker.daemon.tcp_listener", equals = true },
//!   { attr = "privileged", equals = true },
//!   { control = "docker.daemon.tls_auth", is = ["fail", "warn"] },
//! ] }
//! ```

use bulkhead_checks::Status;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawCond")]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    /// A fact derived from the snapshot (`docker.daemon.tcp_listener`).
    Fact {
        key: String,
        test: Test,
    },
    /// An attribute of the element or flow being judged (`privileged`, `docker_socket_mounted`).
    Attr {
        key: String,
        test: Test,
    },
    /// The rolled-up evidence status of a control (`docker.container.not_privileged` is `fail`).
    Control {
        id: String,
        is: Vec<Status>,
    },
}

/// A comparison against a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Equals(Value),
    NotEquals(Value),
    In(Vec<Value>),
    GreaterThan(f64),
    LessThan(f64),
    Exists(bool),
}

impl Test {
    fn holds(&self, actual: Option<&Value>) -> bool {
        match self {
            Test::Exists(want) => actual.is_some_and(|v| !v.is_null()) == *want,
            Test::Equals(v) => actual == Some(v),
            Test::NotEquals(v) => actual != Some(v),
            Test::In(vs) => actual.is_some_and(|a| vs.contains(a)),
            Test::GreaterThan(n) => actual.and_then(Value::as_f64).is_some_and(|a| a > *n),
            Test::LessThan(n) => actual.and_then(Value::as_f64).is_some_and(|a| a < *n),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The shape on disk: exactly one of `all`, `any`, `not`, `fact`, `attr`, `control`, with the
/// test fields that go with it. Unknown keys are an error, so a typo cannot silently match.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCond {
    all: Option<Vec<Cond>>,
    any: Option<Vec<Cond>>,
    not: Option<Box<Cond>>,
    fact: Option<String>,
    attr: Option<String>,
    control: Option<String>,
    equals: Option<Value>,
    not_equals: Option<Value>,
    #[serde(rename = "in")]
    one_of: Option<Vec<Value>>,
    greater_than: Option<f64>,
    less_than: Option<f64>,
    exists: Option<bool>,
    is: Option<OneOrMany>,
}

impl TryFrom<RawCond> for Cond {
    type Error = String;

    fn try_from(r: RawCond) -> Result<Cond, String> {
        let heads = [
            r.all.is_some(),
            r.any.is_some(),
            r.not.is_some(),
            r.fact.is_some(),
            r.attr.is_some(),
            r.control.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if heads != 1 {
            return Err(
                "a condition needs exactly one of `all`, `any`, `not`, `fact`, `attr`, `control`"
                    .into(),
            );
        }
        let mut tests = Vec::new();
        if let Some(v) = r.equals {
            tests.push(Test::Equals(v));
        }
        if let Some(v) = r.not_equals {
            tests.push(Test::NotEquals(v));
        }
        if let Some(v) = r.one_of {
            tests.push(Test::In(v));
        }
        if let Some(v) = r.greater_than {
            tests.push(Test::GreaterThan(v));
        }
        if let Some(v) = r.less_than {
            tests.push(Test::LessThan(v));
        }
        if let Some(v) = r.exists {
            tests.push(Test::Exists(v));
        }
        let single_test = |what: &str, key: &str, mut tests: Vec<Test>| -> Result<Test, String> {
            match tests.len() {
                1 => Ok(tests.remove(0)),
                _ => Err(format!(
                    "{what} {key:?} needs exactly one test: equals, not_equals, in, greater_than, less_than or exists"
                )),
            }
        };
        if let Some(v) = r.all {
            return no_tests(tests, r.is.is_some(), "all").map(|_| Cond::All(v));
        }
        if let Some(v) = r.any {
            return no_tests(tests, r.is.is_some(), "any").map(|_| Cond::Any(v));
        }
        if let Some(v) = r.not {
            return no_tests(tests, r.is.is_some(), "not").map(|_| Cond::Not(v));
        }
        if let Some(key) = r.fact {
            let test = single_test("fact", &key, tests)?;
            return Ok(Cond::Fact { key, test });
        }
        if let Some(key) = r.attr {
            let test = single_test("attr", &key, tests)?;
            return Ok(Cond::Attr { key, test });
        }
        let id = r.control.expect("one head is present");
        if !tests.is_empty() {
            return Err(format!(
                "control {id:?} is tested with `is`, not equals/in/..."
            ));
        }
        let names = match r.is {
            Some(OneOrMany::One(s)) => vec![s],
            Some(OneOrMany::Many(v)) => v,
            None => {
                return Err(format!(
                    "control {id:?} needs `is` (a status or a list of them)"
                ))
            }
        };
        let is = names
            .iter()
            .map(|n| {
                Status::parse(n).ok_or_else(|| {
                    format!("control {id:?}: {n:?} is not a status (pass, fail, warn, info, manual, not_applicable, error)")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cond::Control { id, is })
    }
}

fn no_tests(tests: Vec<Test>, has_is: bool, head: &str) -> Result<(), String> {
    if tests.is_empty() && !has_is {
        Ok(())
    } else {
        Err(format!("`{head}` takes a list of conditions, not a test"))
    }
}

/// What a condition is judged against.
pub struct Scope<'a> {
    pub facts: &'a BTreeMap<String, Value>,
    /// Attributes of the element or flow being judged (empty when none).
    pub attrs: &'a BTreeMap<String, Value>,
    /// The rolled-up evidence status of a control, None when there is no evidence for it.
    pub control: &'a dyn Fn(&str) -> Option<Status>,
}

impl Cond {
    pub fn holds(&self, scope: &Scope<'_>) -> bool {
        match self {
            Cond::All(v) => v.iter().all(|c| c.holds(scope)),
            Cond::Any(v) => v.iter().any(|c| c.holds(scope)),
            Cond::Not(c) => !c.holds(scope),
            Cond::Fact { key, test } => test.holds(scope.facts.get(key)),
            Cond::Attr { key, test } => test.holds(scope.attrs.get(key)),
            Cond::Control { id, is } => (scope.control)(id).is_some_and(|s| is.contains(&s)),
        }
    }

    /// Every control ID the condition mentions (for validation against the catalog).
    pub fn controls(&self) -> Vec<&str> {
        match self {
            Cond::All(v) | Cond::Any(v) => v.iter().flat_map(|c| c.controls()).collect(),
            Cond::Not(c) => c.controls(),
            Cond::Control { id, .. } => vec![id.as_str()],
            Cond::Fact { .. } | Cond::Attr { .. } => vec![],
        }
    }

    /// Every fact key the condition mentions (for validation against the known facts).
    pub fn facts(&self) -> Vec<&str> {
        match self {
            Cond::All(v) | Cond::Any(v) => v.iter().flat_map(|c| c.facts()).collect(),
            Cond::Not(c) => c.facts(),
            Cond::Fact { key, .. } => vec![key.as_str()],
            Cond::Attr { .. } | Cond::Control { .. } => vec![],
        }
    }

    /// A short human rendering, for "not applicable because ..." reasons.
    pub fn describe(&self) -> String {
        let test = |t: &Test| match t {
            Test::Equals(v) => format!("= {v}"),
            Test::NotEquals(v) => format!("!= {v}"),
            Test::In(v) => format!(
                "in [{}]",
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Test::GreaterThan(n) => format!("> {n}"),
            Test::LessThan(n) => format!("< {n}"),
            Test::Exists(true) => "is known".into(),
            Test::Exists(false) => "is unknown".into(),
        };
        match self {
            Cond::All(v) => v
                .iter()
                .map(Cond::describe)
                .collect::<Vec<_>>()
                .join(" and "),
            Cond::Any(v) => format!(
                "({})",
                v.iter()
                    .map(Cond::describe)
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Cond::Not(c) => format!("not ({})", c.describe()),
            Cond::Fact { key, test: t } => format!("{key} {}", test(t)),
            Cond::Attr { key, test: t } => format!("{key} {}", test(t)),
            Cond::Control { id, is } => format!(
                "{id} is {}",
                is.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("/")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> Result<Cond, String> {
        #[derive(Deserialize)]
        struct W {
            c: Cond,
        }
        toml::from_str::<W>(&format!("c = {s}"))
            .map(|w| w.c)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn parses_and_judges_nested_conditions() {
        let c = parse(r#"{ all = [ { fact = "docker.daemon.tcp_listener", equals = true }, { not = { attr = "user", in = ["", "root", "0"] } }, { control = "x.y", is = ["fail", "warn"] } ] }"#).unwrap();
        let facts = BTreeMap::from([("docker.daemon.tcp_listener".to_string(), json!(true))]);
        let attrs = BTreeMap::from([("user".to_string(), json!("10001"))]);
        let fail = |_: &str| Some(Status::Fail);
        let scope = Scope {
            facts: &facts,
            attrs: &attrs,
            control: &fail,
        };
        assert!(c.holds(&scope));
        let root = BTreeMap::from([("user".to_string(), json!("root"))]);
        let scope = Scope {
            facts: &facts,
            attrs: &root,
            control: &fail,
        };
        assert!(!c.holds(&scope));
        assert_eq!(c.controls(), vec!["x.y"]);
        assert_eq!(c.facts(), vec!["docker.daemon.tcp_listener"]);
    }

    #[test]
    fn rejects_ambiguous_or_misspelled_conditions() {
        assert!(parse(r#"{ fact = "a", attr = "b", equals = 1 }"#).is_err());
        assert!(parse(r#"{ fact = "a" }"#)
            .unwrap_err()
            .contains("exactly one test"));
        assert!(parse(r#"{ fact = "a", equal = 1 }"#).is_err());
        assert!(parse(r#"{ control = "a", is = "broken" }"#)
            .unwrap_err()
            .contains("not a status"));
    }

    #[test]
    fn missing_fact_never_equals_and_numbers_compare() {
        let facts = BTreeMap::from([("n".to_string(), json!(2))]);
        let attrs = BTreeMap::new();
        let none = |_: &str| None;
        let scope = Scope {
            facts: &facts,
            attrs: &attrs,
            control: &none,
        };
        assert!(!parse(r#"{ fact = "missing", equals = false }"#)
            .unwrap()
            .holds(&scope));
        assert!(parse(r#"{ fact = "n", greater_than = 1 }"#)
            .unwrap()
            .holds(&scope));
        assert!(!parse(r#"{ control = "c", is = "fail" }"#)
            .unwrap()
            .holds(&scope));
    }
}
