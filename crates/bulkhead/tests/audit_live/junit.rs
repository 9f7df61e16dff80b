//! `--format junit`: well-formed XML (parsed by a strict XML parser), one test case per check,
//! counts that match the audit, and a hostile path that cannot break the document.

use crate::support::{results_by_id, HOSTILE_DIR};
use crate::{audit_snapshot, lab_or_skip};

fn attr(n: roxmltree::Node, name: &str) -> usize {
    n.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no {name}", n.tag_name().name()))
        .parse()
        .unwrap()
}

#[test]
fn well_formed_with_counts_that_match_the_audit() {
    let lab = lab_or_skip!();
    let r = audit_snapshot(lab, &["--format", "junit"]);
    r.expect_code(1);
    let xml = roxmltree::Document::parse(&r.stdout)
        .unwrap_or_else(|e| panic!("JUnit output is not well-formed XML: {e}\n{r}"));
    let json = audit_snapshot(lab, &["--format", "json"]).json();
    let s = &json["summary"];
    let by_id = results_by_id(&json);

    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(attr(root, "tests"), s["total"].as_u64().unwrap() as usize);
    assert_eq!(attr(root, "failures"), s["fail"].as_u64().unwrap() as usize);
    assert_eq!(attr(root, "errors"), s["error"].as_u64().unwrap() as usize);

    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 7, "one suite per section");
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    let mut cases = 0;
    for suite in &suites {
        assert_eq!(suite.tag_name().name(), "testsuite");
        let hostname = suite.attribute("hostname").unwrap();
        assert_eq!(hostname, json["target"]["host"].as_str().unwrap());
        let here: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(attr(*suite, "tests"), here.len());
        let count = |tag: &str| {
            here.iter()
                .filter(|c| c.children().any(|x| x.has_tag_name(tag)))
                .count()
        };
        assert_eq!(attr(*suite, "failures"), count("failure"));
        assert_eq!(attr(*suite, "errors"), count("error"));
        assert_eq!(attr(*suite, "skipped"), count("skipped"));
        tests += attr(*suite, "tests");
        failures += attr(*suite, "failures");
        errors += attr(*suite, "errors");
        skipped += attr(*suite, "skipped");
        for case in here {
            cases += 1;
            // "5.13 - Ensure ...": the check ID, then the title.
            let name = case.attribute("name").unwrap();
            let (id, title) = name.split_once(" - ").unwrap();
            let b = &by_id[id];
            assert_eq!(title, b["title"].as_str().unwrap());
            assert_eq!(
                case.attribute("classname").unwrap(),
                format!("cis-docker.{}", b["control"].as_str().unwrap())
            );
            let outcome = match b["status"].as_str().unwrap() {
                "fail" => Some("failure"),
                "error" => Some("error"),
                "manual" | "warn" | "not_applicable" => Some("skipped"),
                _ => None,
            };
            for tag in ["failure", "error", "skipped"] {
                assert_eq!(
                    case.children().any(|x| x.has_tag_name(tag)),
                    outcome == Some(tag),
                    "{name}: <{tag}>"
                );
            }
        }
    }
    assert_eq!(tests, 117);
    assert_eq!(cases, 117);
    assert_eq!(failures, s["fail"].as_u64().unwrap() as usize);
    assert_eq!(errors, s["error"].as_u64().unwrap() as usize);
    let n = |k: &str| s[k].as_u64().unwrap() as usize;
    assert_eq!(skipped, n("manual") + n("warn") + n("not_applicable"));
}

#[test]
fn hostile_path_stays_inside_its_failure_element() {
    let lab = lab_or_skip!();
    let r = audit_snapshot(lab, &["--format", "junit", "--only", "5.6"]);
    r.expect_code(1);
    let xml = roxmltree::Document::parse(&r.stdout)
        .unwrap_or_else(|e| panic!("not well-formed: {e}\n{r}"));
    let failure = xml
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("5.6 fails");
    let text = failure.text().unwrap();
    // XML 1.0 cannot carry ESC at all: it is replaced; the quote, backslash, non-ASCII letters
    // and the newline come back as they were.
    let expected = HOSTILE_DIR.replace('\u{1b}', "\u{FFFD}");
    let source = lab.hostile_source.replace(HOSTILE_DIR, &expected);
    assert!(
        text.contains(&source),
        "failure text does not carry {source:?}:\n{text}"
    );
}
