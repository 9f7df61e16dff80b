//! The HTML assessment opened in a real headless Chromium (Debian package `chromium`), driven
//! over the DevTools protocol through --remote-debugging-pipe (file descriptors 3 and 4, no
//! network port). The test finds the inline SVG diagram, its trust boundaries and the ten
//! threats of the write-up, and records every request the page makes: only the page's own
//! file:// URL may appear. A control page with one remote image proves the recorder sees
//! requests. Under CI=true a missing chromium fails the test; otherwise it is skipped with a
//! printed reason.

use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
use bulkhead_facts::Snapshot;
use bulkhead_report::assessment_model::Assessment;
use bulkhead_report::Target;
use bulkhead_testkit::TempDir;
use bulkhead_threats::svg::element_anchor;
use bulkhead_threats::{build, EvidenceSet, Input};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {CHROMIUM} is missing: install the Debian package chromium");
    }
    eprintln!("skipping: {CHROMIUM} not installed (apt-get install chromium)");
    false
}

/// The write-up host that is also the insecure kubeadm node of bulkhead-kube-tests (its
/// Kubernetes facts and cluster dump), so both threat models are present and evaluated.
fn snapshot() -> Snapshot {
    let fixture = |name: &str| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
            "../bulkhead-threats/tests/fixtures/{name}.snapshot.json"
        ));
        Snapshot::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap()
    };
    let mut s = fixture("writeup");
    s.kubernetes = fixture("k8s-insecure").kubernetes;
    s
}

fn assessment_html() -> String {
    assessment_html_of(snapshot())
}

/// The write-up host as found on real hosts whose names are long single words: a generated
/// container name and an image pinned by digest, which reach headings, table cells, links and
/// the plan's commands.
fn long_names_snapshot() -> Snapshot {
    let mut v = serde_json::to_value(snapshot()).unwrap();
    let c = &mut v["docker"]["containers"]["value"][0]["inspect"];
    c["Name"] = "/payments-api_blue-green_canary_2026-01-15_deployment_replica-0001".into();
    c["Config"]["Image"] = "registry.internal.example.com/platform/payments/api@sha256:5d1c7c0f2a9e4b3f8a6d0e1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a".into();
    Snapshot::from_json(&v.to_string()).unwrap()
}

fn assessment_html_of(s: Snapshot) -> String {
    let opts = AuditOptions::default();
    let ctx = Context::new(&s, &opts);
    let docker = bulkhead_checks::run(catalog().docker(), "1.2.0", &ctx, &Selection::default());
    let k8s = catalog().kubernetes();
    let kube = bulkhead_checks::run(k8s, k8s.default_edition(), &ctx, &Selection::default());
    let mut ev = EvidenceSet::new();
    ev.add_audit(&docker);
    ev.add_audit(&kube);
    let plan = bulkhead_harden::plan(&s, &[docker.clone(), kube.clone()], &Default::default());
    let fixes: BTreeSet<String> = plan
        .as_ref()
        .map(|p| p.fixed_controls())
        .unwrap_or_default();
    let tm = build(&Input {
        snapshot: &s,
        evidence: &ev,
        evidence_sources: vec!["cis-docker 1.2.0".into(), "cis-kubernetes 1.12".into()],
        user: None,
        user_file: "",
        acceptances: &[],
        planned_fixes: &fixes,
        as_of: "2026-01-15",
        tool_version: "test",
    })
    .unwrap();
    let audits = vec![
        (docker, Target::from_snapshot("docker", &s)),
        (kube, Target::from_snapshot("kubernetes", &s)),
    ];
    let findings = [
        "docker.image.content_trust",
        "docker.container.read_only_rootfs",
        "docker.container.no_new_privileges",
    ]
    .iter()
    .map(|c| bulkhead_threats::analysis::analyse(&tm, &ev, c))
    .collect();
    bulkhead_report::assessment_html::render(&Assessment {
        tool_version: "test",
        threats: &tm,
        audits: &audits,
        findings,
        selection: "Selected findings: 4.5, 5.12, 5.25 (cis-1.2.0).".into(),
        plan: plan.as_ref().map_err(|e| e.clone()),
        left_out: None,
    })
}

/// A headless Chromium driven over the DevTools pipe.
struct Browser {
    child: std::process::Child,
    to: std::fs::File,
    from: mpsc::Receiver<Value>,
    next_id: u64,
    events: Vec<Value>,
    _profile: TempDir,
}

/// The probe's list of strings under `key`.
fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("the probe reports {key} as a list: {v}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

impl Browser {
    fn launch() -> Browser {
        let profile = TempDir::new("chromium-profile");
        let (to_read, to_write) = pipe();
        let (from_read, from_write) = pipe();
        let (r3, w4) = (to_read, from_write);
        let mut cmd = Command::new(CHROMIUM);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-default-apps",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.0.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // A group of its own, so that closing the browser also stops its helper processes.
        .process_group(0);
        unsafe {
            cmd.pre_exec(move || {
                // The DevTools pipe: Chromium reads commands on fd 3 and writes replies on fd 4.
                if libc::dup2(r3, 3) < 0 || libc::dup2(w4, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        unsafe {
            libc::close(to_read);
            libc::close(from_write);
        }
        use std::os::fd::FromRawFd;
        let to = unsafe { std::fs::File::from_raw_fd(to_write) };
        let mut from = unsafe { std::fs::File::from_raw_fd(from_read) };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            while let Ok(n) = from.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(pos) = buf.iter().position(|b| *b == 0) {
                    let msg: Vec<u8> = buf.drain(..=pos).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&msg[..msg.len() - 1]) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Browser {
            child,
            to,
            from: rx,
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        }
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no reply to {method} within 30 s"));
            if v.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    fn wait_event(&mut self, method: &str) {
        if self.events.iter().any(|e| e["method"] == method) {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {method} within 30 s"));
            let hit = v["method"] == method;
            self.events.push(v);
            if hit {
                return;
            }
        }
    }

    /// Open `url`, wait for the load event, evaluate `expr`; returns its value and every URL the
    /// page requested.
    fn visit(&mut self, url: &str, expr: &str) -> (Value, Vec<String>) {
        self.visit_as(url, expr, None)
    }

    /// [`Browser::visit`] in a window `width` CSS pixels wide showing `media` ("screen" or
    /// "print", as Chromium lays the page out for paper).
    fn visit_as(
        &mut self,
        url: &str,
        expr: &str,
        view: Option<(u32, &str)>,
    ) -> (Value, Vec<String>) {
        let target = self.send(None, "Target.createTarget", json!({"url": "about:blank"}))
            ["targetId"]
            .clone();
        let session = self.send(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )["sessionId"]
            .as_str()
            .unwrap()
            .to_string();
        self.send(Some(&session), "Network.enable", json!({}));
        self.send(Some(&session), "Page.enable", json!({}));
        if let Some((width, media)) = view {
            self.send(
                Some(&session),
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
            );
            self.send(
                Some(&session),
                "Emulation.setEmulatedMedia",
                json!({"media": media}),
            );
        }
        self.events.clear();
        self.send(Some(&session), "Page.navigate", json!({"url": url}));
        self.wait_event("Page.loadEventFired");
        // Let late requests (lazy images, fonts) show up before judging.
        std::thread::sleep(Duration::from_millis(500));
        while let Ok(v) = self.from.try_recv() {
            self.events.push(v);
        }
        let value = self.send(
            Some(&session),
            "Runtime.evaluate",
            // A probe may be async (one that waits for navigations): its promise is awaited.
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        )["result"]["value"]
            .clone();
        let urls = self
            .events
            .iter()
            .filter(|e| {
                e["method"] == "Network.requestWillBeSent" && e["sessionId"] == session.as_str()
            })
            .filter_map(|e| e["params"]["request"]["url"].as_str().map(String::from))
            .collect();
        (value, urls)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: Chromium's helpers (zygote, renderer, crash handler) would otherwise
        // go on writing into the profile while its directory is removed, and leave it behind.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn pipe() -> (i32, i32) {
    let mut fds = [0i32; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    (fds[0], fds[1])
}

const PROBE: &str = r#"JSON.stringify({
  svgs: Array.from(document.querySelectorAll('svg.dfd')).map(s => s.id),
  boundaries: Array.from(document.querySelectorAll('svg.dfd g.boundary .boundary-label')).map(t => t.textContent),
  boundaryRects: document.querySelectorAll('svg.dfd g.boundary rect').length,
  elementLinks: Array.from(document.querySelectorAll('svg.dfd a')).map(a => a.getAttribute('href')),
  threats: Array.from(document.querySelectorAll('section.threat')).map(s => s.id),
  anchorsResolve: Array.from(document.querySelectorAll('svg.dfd a')).every(a => document.getElementById(a.getAttribute('href').slice(1)) !== null),
  scripts: document.scripts.length,
})"#;

#[test]
fn html_report_in_headless_chromium_shows_diagram_boundaries_and_threats_without_network() {
    if !chromium_available() {
        return;
    }
    let dir = TempDir::new("html-report");
    let page = dir.0.join("assessment.html");
    std::fs::write(&page, assessment_html()).unwrap();
    let mut b = Browser::launch();
    let url = format!("file://{}", page.display());
    let (v, urls) = b.visit(&url, PROBE);
    let v: Value = serde_json::from_str(v.as_str().expect("probe returns JSON text")).unwrap();
    let svgs = strings(&v, "svgs");
    assert!(
        svgs.contains(&"dfd-docker") && svgs.contains(&"dfd-kubernetes"),
        "diagrams: {svgs:?}"
    );
    let labels = strings(&v, "boundaries");
    for want in [
        "Docker host (root) · trust 90",
        "Container web · trust 20",
        "Image registry (Internet or corporate) · trust 30",
        "Control plane · trust 90",
        "Cluster data (etcd) · trust 95",
    ] {
        assert!(
            labels.contains(&want),
            "boundary {want:?} drawn; found {labels:?}"
        );
    }
    assert_eq!(
        v["boundaryRects"].as_u64().unwrap() as usize,
        labels.len(),
        "each boundary is a labelled box"
    );
    let threats = strings(&v, "threats");
    for (id, _) in bulkhead_threats::library::WRITE_UP_THREATS {
        assert!(
            threats.contains(&format!("threat-{id}").as_str()),
            "{id} shown; found {threats:?}"
        );
    }
    assert!(
        v["elementLinks"].as_array().unwrap().len() >= 8,
        "diagram elements link to their threats"
    );
    assert_eq!(
        v["anchorsResolve"],
        json!(true),
        "every element link lands on the element's threat list"
    );
    assert_eq!(v["scripts"], json!(0), "the report runs no script");
    // No network: the only request is the page itself, from the file system.
    assert!(!urls.is_empty(), "the recorder saw the page load");
    let remote: Vec<&String> = urls.iter().filter(|u| !u.starts_with("file://")).collect();
    assert!(remote.is_empty(), "the report fetched {remote:?}");
}

#[test]
fn network_recorder_sees_a_remote_request() {
    // Control for the test above: the same recorder on a page that does fetch something must
    // see it, or "no request seen" would prove nothing.
    if !chromium_available() {
        return;
    }
    let dir = TempDir::new("html-control");
    let page = dir.0.join("control.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><img src=\"http://127.0.0.1:9/probe.png\"></body></html>",
    )
    .unwrap();
    let mut b = Browser::launch();
    let (_, urls) = b.visit(&format!("file://{}", page.display()), "1");
    assert!(
        urls.iter().any(|u| u == "http://127.0.0.1:9/probe.png"),
        "recorded: {urls:?}"
    );
}

/// How wide the page lays out, and what is cut off: a diagram, code block or table cell whose
/// content is wider than its box (on screen a diagram and code scroll in their box; on paper
/// that is content lost).
const LAYOUT_PROBE: &str = r#"JSON.stringify({
  page: document.documentElement.scrollWidth,
  window: window.innerWidth,
  cut: Array.from(document.querySelectorAll('.diagram, pre, td'))
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.tagName + ' ' + e.scrollWidth + '>' + e.clientWidth + ': ' + e.textContent.slice(0, 60)),
})"#;

/// The page's width and what its probe found cut off, in a window of `width` showing `media`.
fn layout(page: &Path, width: u32, media: &str) -> (u64, u64, Vec<String>) {
    let mut b = Browser::launch();
    let url = format!("file://{}", page.display());
    let (v, _) = b.visit_as(&url, LAYOUT_PROBE, Some((width, media)));
    let v: Value = serde_json::from_str(v.as_str().expect("probe returns JSON text")).unwrap();
    let cut = strings(&v, "cut").into_iter().map(String::from).collect();
    (
        v["page"].as_u64().unwrap(),
        v["window"].as_u64().unwrap(),
        cut,
    )
}

/// Long names (a generated container name, an image pinned by digest) wrap: no table makes the
/// page wider than a laptop's window. On paper (an A4 page's width between Chromium's default
/// margins) the whole diagram and every command are on the page, none cut at the margin.
#[test]
fn html_report_fits_the_window_and_the_printed_page() {
    if !chromium_available() {
        return;
    }
    let dir = TempDir::new("html-layout");
    let page = dir.0.join("assessment.html");
    std::fs::write(&page, assessment_html_of(long_names_snapshot())).unwrap();
    let (width, window, _) = layout(&page, 1280, "screen");
    assert!(
        width <= window,
        "on screen the page is {width} px wide in a {window} px window"
    );
    let (width, window, cut) = layout(&page, 718, "print");
    assert!(
        width <= window,
        "printed, the page is {width} px wide on a {window} px page"
    );
    assert!(cut.is_empty(), "printed, cut off at the margin: {cut:#?}");
}

/// The page on a phone (390 CSS pixels): no table makes the page wider than the window (a
/// table of many columns scrolls in its own box, as the diagram does), and the text keeps a
/// margin at the window's edge. Before, the page was 591 px wide in a 390 px window, its
/// headings and text touching the edge.
#[test]
fn html_report_fits_a_phone_and_keeps_a_margin() {
    if !chromium_available() {
        return;
    }
    let dir = TempDir::new("html-phone");
    let page = dir.0.join("assessment.html");
    std::fs::write(&page, assessment_html_of(long_names_snapshot())).unwrap();
    let (width, window, _) = layout(&page, 390, "screen");
    let mut b = Browser::launch();
    let (wider, _) = b.visit_as(
        &format!("file://{}", page.display()),
        "JSON.stringify(Array.from(document.querySelectorAll('body > *')).filter(e => e.getBoundingClientRect().right > window.innerWidth).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40)))",
        Some((390, "screen")),
    );
    assert!(
        width <= window,
        "on a phone the page is {width} px wide in a {window} px window; wider: {wider}"
    );
    let (v, _) = b.visit_as(
        &format!("file://{}", page.display()),
        "JSON.stringify(['h1', 'p', 'table.threats'].map(s => document.querySelector(s).getBoundingClientRect().left))",
        Some((390, "screen")),
    );
    let lefts: Vec<f64> = serde_json::from_str(v.as_str().unwrap()).unwrap();
    assert!(
        lefts.iter().all(|l| *l >= 8.0),
        "heading, text and table start {lefts:?} px from the window's edge"
    );
}

/// `bulkhead threats --format html` of the write-up host with a user `--model` file added.
fn threats_html_with_model(yaml: &str) -> String {
    let s = snapshot();
    let opts = AuditOptions::default();
    let ctx = Context::new(&s, &opts);
    let docker = bulkhead_checks::run(catalog().docker(), "1.2.0", &ctx, &Selection::default());
    let mut ev = EvidenceSet::new();
    ev.add_audit(&docker);
    let user = bulkhead_threats::UserModel::parse(yaml, "model.yaml").unwrap();
    let tm = build(&Input {
        snapshot: &s,
        evidence: &ev,
        evidence_sources: vec!["cis-docker 1.2.0".into()],
        user: Some(&user),
        user_file: "model.yaml",
        acceptances: &[],
        planned_fixes: &BTreeSet::new(),
        as_of: "2026-01-15",
        tool_version: "test",
    })
    .unwrap();
    bulkhead_report::threats_html::render(&tm)
}

/// Element IDs that a user model may hold and that do not survive as they are in a link: a line
/// break (a URL drops it, an id keeps it), blanks, and IDs that a careless encoding of those would
/// turn into (a percent sign, a tilde, the ID with its line break dropped).
const AWKWARD_MODEL: &str = r#"
elements:
  - { id: "app\ndb", name: "Orders DB (line break)", kind: data_store, component: postgres, boundary: dkr.b.host }
  - { id: "app db", name: "Orders DB (blank)", kind: data_store, component: postgres, boundary: dkr.b.host }
  - { id: "appdb", name: "Orders DB (plain)", kind: data_store, component: postgres, boundary: dkr.b.host }
  - { id: "app%20db", name: "Orders DB (percent)", kind: data_store, component: postgres, boundary: dkr.b.host }
  - { id: "app~20db", name: "Orders DB (tilde)", kind: data_store, component: postgres, boundary: dkr.b.host }
threats:
  - id: "APP T01\nx"
    title: Orders tampered with
    stride: [T]
    targets: [{ element: "app\ndb" }, { element: "app db" }, { element: "appdb" }, { element: "app%20db" }, { element: "app~20db" }]
    description: The orders can be changed.
    mitigation: Restrict who can write them.
    likelihood: 2
    impact: 3
    controls: { prevent: [docker.daemon.icc_disabled] }
    refs: { attack: [T1565] }
"#;

/// Every in-page link to an element or a threat, where it lands (found as the browser finds a
/// fragment's target: the URL's fragment, percent-decoded, as an id) and, for the links to the
/// model file's items (IDs starting `app` or `APP`), which element the page shows as its target
/// (`:target`) once a click on the link has navigated. Only those are clicked: Chromium stops
/// following a page's navigations after some hundreds in a few seconds. A link is named by what
/// it stands for: a diagram box by its element ID, a table link by its text.
const LINK_PROBE: &str = r#"(async () => {
  // An element's own row by its first cell; an element named in a row it shares, by its name.
  const label = t => t === null ? null : (t.dataset.threat ?? (t.cells ? t.cells[0].textContent : (t.closest('table.elements') ? t.textContent : t.id)));
  const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id).filter(id => /^(el|threat)-/.test(id));
  const links = Array.from(document.querySelectorAll('a'))
    .filter(a => /^#(el|threat)-/.test(a.getAttribute('href') || ''));
  const out = [];
  for (const a of links) {
    const hash = new URL(a.getAttribute('href'), location.href).hash.slice(1);
    const lands = label(document.getElementById(decodeURIComponent(hash)));
    const box = a.querySelector('g.element');
    const link = {
      href: a.getAttribute('href'),
      names: box ? box.getAttribute('data-element') : a.textContent,
      diagram: box !== null,
      lands,
      // Links that are not clicked are judged by where they land only.
      clicked: lands,
    };
    out.push(link);
    if (!/^#(el-app|threat-APP)/.test(link.href)) continue;
    // From a page with no fragment, so that every click changes it and fires hashchange.
    history.replaceState(null, '', location.pathname);
    const navigated = new Promise(done => {
      window.addEventListener('hashchange', () => done(true), {once: true});
      setTimeout(() => done(false), 2000);
    });
    a.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}));
    // Without a navigation, :target would still be the previous link's.
    link.clicked = (await navigated) ? label(document.querySelector(':target')) : null;
  }
  return JSON.stringify({ids, duplicateIds: ids.length - new Set(ids).size, links: out});
})()"#;

/// A user model's element and threat IDs with line breaks, blanks, `%` and `~` still give links
/// that land on their own element or threat, in the diagram and in the tables, and no two
/// elements or threats share an anchor.
#[test]
fn links_to_elements_with_awkward_ids_land_on_them() {
    if !chromium_available() {
        return;
    }
    let dir = TempDir::new("html-anchors");
    let page = dir.0.join("threats.html");
    std::fs::write(&page, threats_html_with_model(AWKWARD_MODEL)).unwrap();
    let mut b = Browser::launch();
    let (v, _) = b.visit(&format!("file://{}", page.display()), LINK_PROBE);
    let v: Value = serde_json::from_str(v.as_str().expect("probe returns JSON text")).unwrap();
    assert_eq!(v["duplicateIds"], json!(0), "ids: {}", v["ids"]);
    let names: std::collections::BTreeMap<&str, &str> = [
        ("app\ndb", "Orders DB (line break)"),
        ("app db", "Orders DB (blank)"),
        ("appdb", "Orders DB (plain)"),
        ("app%20db", "Orders DB (percent)"),
        ("app~20db", "Orders DB (tilde)"),
    ]
    .into();
    let links = v["links"].as_array().unwrap();
    let mut awkward = BTreeSet::new();
    for l in links {
        let href = l["href"].as_str().unwrap();
        let named = l["names"].as_str().unwrap();
        // What the link should land on, as the probe labels it: an element's row by the
        // element's name, a threat's section by the threat's ID. A diagram box names its element
        // by ID (only the awkward ones' names are known here); a table link shows the element's
        // name, or the threat's ID with perhaps its status after it.
        let want = match (l["diagram"] == json!(true), href.starts_with("#threat-")) {
            (true, _) => names.get(named).copied(),
            (false, false) => Some(named),
            (false, true) => None,
        };
        if let Some(name) = want.filter(|w| names.values().any(|n| n == w)) {
            awkward.insert((l["diagram"] == json!(true), name));
        }
        for how in ["lands", "clicked"] {
            let got = l[how]
                .as_str()
                .unwrap_or_else(|| panic!("{href:?} ({named:?}) leads nowhere ({how})"));
            match want {
                Some(w) => assert_eq!(got, w, "{href:?} ({named:?}) {how}"),
                None if href.starts_with("#threat-") => assert!(
                    named.starts_with(got),
                    "{href:?} ({named:?}) {how} on {got:?}"
                ),
                None => {}
            }
        }
    }
    assert_eq!(
        awkward.len(),
        2 * names.len(),
        "each awkward element is linked from the diagram and from its threat: {awkward:?}"
    );
    assert!(
        links
            .iter()
            .any(|l| l["names"].as_str().unwrap().starts_with("APP T01")),
        "the threat with a line break in its ID is linked"
    );
}

/// Each threat link of the elements tables: its status class, what it says (its text, which a
/// screen reader reads, and its tooltip) and how wide it is with and without those words. Then
/// the contrast on the white page (WCAG 2 relative luminance) of each status colour, taken from a
/// link of each status put in the table (not every status occurs in the fixture).
const STATUS_LINK_PROBE: &str = r##"(() => {
  const channel = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = css => {
    const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map(Number).map(channel);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = e => 1.05 / (luminance(getComputedStyle(e).color) + 0.05);
  const links = Array.from(document.querySelectorAll('table.elements a[href^="#threat-"]')).map(a => ({
    status: a.className,
    text: a.textContent,
    title: a.getAttribute('title'),
    width: a.getBoundingClientRect().width,
    idWidth: (() => { const r = document.createRange(); r.selectNodeContents(a.firstChild); return r.getBoundingClientRect().width; })(),
  }));
  const cell = document.querySelector('table.elements td:last-child');
  const colours = {};
  for (const s of ['exposed', 'partially_mitigated', 'unknown', 'accepted', 'mitigated', 'not_applicable']) {
    const a = document.createElement('a');
    a.href = '#x';
    a.className = s;
    a.textContent = 'X';
    cell.appendChild(a);
    colours[s] = [getComputedStyle(a).color, contrast(a)];
  }
  return JSON.stringify({links, colours});
})()"##;

/// A threat's status in the elements table is not told by colour alone: each link says it in
/// words (to a screen reader, and as a tooltip) without taking room on the page, and each
/// status colour reads on white at WCAG AA contrast for text (4.5:1).
#[test]
fn threat_links_say_their_status_in_words_and_in_readable_colours() {
    if !chromium_available() {
        return;
    }
    let dir = TempDir::new("html-status");
    let page = dir.0.join("assessment.html");
    std::fs::write(&page, assessment_html()).unwrap();
    let mut b = Browser::launch();
    let (v, _) = b.visit(&format!("file://{}", page.display()), STATUS_LINK_PROBE);
    let v: Value = serde_json::from_str(v.as_str().expect("probe returns JSON text")).unwrap();
    let links = v["links"].as_array().unwrap();
    let mut seen = BTreeSet::new();
    for l in links {
        let status = l["status"].as_str().unwrap();
        let words = status.replace('_', " ");
        let text = l["text"].as_str().unwrap();
        let title = l["title"].as_str().unwrap_or_default();
        assert!(
            text.contains(&format!("({words})")),
            "link text {text:?} says {words}"
        );
        assert!(title.contains(&words), "tooltip {title:?} says {words}");
        // The words are for screen readers and tooltips: on the page the link is its ID.
        let (width, id_width) = (l["width"].as_f64().unwrap(), l["idWidth"].as_f64().unwrap());
        assert!(
            width <= id_width + 1.0,
            "{text:?} takes {width} px, its ID {id_width} px"
        );
        seen.insert(status.to_string());
    }
    assert!(
        seen.len() >= 4,
        "links of several statuses were checked: {seen:?}"
    );
    let colours = v["colours"].as_object().unwrap();
    assert_eq!(colours.len(), 6, "{colours:?}");
    for (status, c) in colours {
        let contrast = c[1].as_f64().unwrap();
        assert!(
            contrast >= 4.5,
            "{status} ({}) on white: {contrast:.2}:1",
            c[0]
        );
    }
}

/// A generated container name of 320 characters, one word.
const LONG_NAME: &str = "payments-api_blue-green_canary_2026-01-15_deployment_replica-0001_payments-api_blue-green_canary_2026-01-15_deployment_replica-0002_payments-api_blue-green_canary_2026-01-15_deployment_replica-0003_payments-api_blue-green_canary_2026-01-15_deployment_replica-0004_payments-api_blue-green_canary_2026-01-15_deployment_replica-0005";

/// The write-up host with 500 copies of its container, `web-000` to `web-499`, one of them
/// (`web-250`) with markup in its name and one (the 101st) with a [`LONG_NAME`].
fn snapshot_of_500() -> Snapshot {
    let mut v = serde_json::to_value(snapshot()).unwrap();
    let base = v["docker"]["containers"]["value"][0].clone();
    let many: Vec<Value> = (0..500)
        .map(|i| {
            let mut c = base.clone();
            c["inspect"]["Id"] = format!("{:064x}", 0xabc000 + i).into();
            c["inspect"]["Name"] = if i == 250 {
                "/web-250<b>&amp;</b>".into()
            } else if i == 100 {
                format!("/{LONG_NAME}").into()
            } else {
                format!("/web-{i:03}").into()
            };
            c
        })
        .collect();
    v["docker"]["containers"]["value"] = many.into();
    Snapshot::from_json(&v.to_string()).unwrap()
}

/// What a reader of the 500-container page finds: how long the page took to load and how many
/// elements it has; for a few containers, the element table's row that a find-in-page for the
/// name lands in, the threats that row links to (and whether each link lands on its threat's
/// section) and the threats whose own target list names the container (by a link to it, or to
/// the row that names it with the others), and the analysed findings' items that name it; and
/// whether every container has its anchor in the element table, once. Then whether any link of
/// the page leads nowhere, and the size of the threats' target lists and evidence tables and of
/// the findings' "What bulkhead saw" lists.
const MANY_PROBE: &str = r##"(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const table = document.querySelector('table.elements');
  const anchors = Array.from(table.querySelectorAll('[id^="el-dkr.container:"]')).map(e => e.id);
  const lands = href => document.getElementById(decodeURIComponent(href.slice(1)));
  const containers = {};
  for (const [name, id] of CONTAINERS) {
    const el = document.getElementById(id);
    const row = el === null ? null : el.closest('tr');
    // Find in page from the top, as a reader pressing Enter: which match lands in the row.
    getSelection().removeAllRanges();
    let findHitsItsRow = false;
    for (let i = 0; i < 20 && !findHitsItsRow && window.find(name, true, false, false, false, false, false); i++) {
      findHitsItsRow = row !== null && row.contains(getSelection().anchorNode);
    }
    const links = row === null ? [] : Array.from(row.querySelectorAll('a[href^="#threat-"]'));
    containers[name] = {
      anchorInTable: el !== null && table.contains(el),
      anchorText: el === null ? null : el.textContent,
      findHitsItsRow,
      rowThreats: links.map(a => a.textContent.split(' ')[0]).sort(),
      linksLand: links.every(a => { const t = lands(a.getAttribute('href')); return t !== null && t.matches('section.threat') && t.dataset.threat === a.textContent.split(' ')[0]; }),
      // A target is linked on its own or, with all the other elements of its row, by a link to
      // that row.
      targetedBy: Array.from(document.querySelectorAll('section.threat'))
        .filter(s => Array.from(s.querySelectorAll('p.targets > a')).some(a => a.getAttribute('href') === '#' + id || (row !== null && row.id !== '' && a.getAttribute('href') === '#' + row.id)))
        .map(s => s.dataset.threat).sort(),
      // Where the threat sections name it: in their targets (on its own, or by its row), or in
      // the objects of their evidence.
      targetsByRow: Array.from(document.querySelectorAll('p.targets > a')).filter(a => row !== null && row.id !== '' && a.getAttribute('href') === '#' + row.id).length,
      evidenceByRow: Array.from(document.querySelectorAll('table.evidence a')).filter(a => row !== null && row.id !== '' && a.getAttribute('href') === '#' + row.id).length,
      // The analysed findings' observations on it: each names it, as text, in one item.
      seenIn: Array.from(document.querySelectorAll('section.finding li .names')).filter(d => d.textContent.split(', ').includes(name)).length,
    };
  }
  return JSON.stringify({
    loadMs: nav.loadEventEnd - nav.startTime,
    elements: document.getElementsByTagName('*').length,
    tableElements: table.getElementsByTagName('*').length,
    tableBytes: table.outerHTML.length,
    anchors: anchors.length,
    distinctAnchors: new Set(anchors).size,
    markupInTable: table.querySelectorAll('b').length,
    tableLinksLand: Array.from(table.querySelectorAll('a')).every(a => lands(a.getAttribute('href')) !== null),
    linksNowhere: Array.from(document.querySelectorAll('a[href^="#"]')).map(a => a.getAttribute('href')).filter(h => lands(h) === null),
    pageLinks: document.querySelectorAll('a[href^="#"]').length,
    targetsBytes: Array.from(document.querySelectorAll('p.targets')).reduce((n, p) => n + p.outerHTML.length, 0),
    evidenceBytes: Array.from(document.querySelectorAll('table.evidence')).reduce((n, t) => n + t.outerHTML.length, 0),
    seenBytes: Array.from(document.querySelectorAll('section.finding > p')).filter(p => p.textContent === 'What bulkhead saw.').reduce((n, p) => n + p.nextElementSibling.outerHTML.length, 0),
    containers,
    scripts: document.scripts.length,
  });
})()"##;

/// A host with 500 containers: a find-in-page for a container's name lands in the element
/// table's row that holds it, that row links to exactly the threats whose target list names the
/// container, and each link lands on its threat; every container has its anchor there once, a
/// name's markup stays text, and the page stays small enough to load quickly and print without
/// anything cut off at the margin.
#[test]
fn html_of_500_containers_finds_each_container_and_its_threats() {
    if !chromium_available() {
        return;
    }
    let dir = TempDir::new("html-500");
    let page = dir.0.join("assessment.html");
    let html = assessment_html_of(snapshot_of_500());
    std::fs::write(&page, &html).unwrap();
    let mut b = Browser::launch();
    // Each container looked for, by its name and the anchor of its element.
    let containers: Vec<(&str, String)> = [
        "web-000",
        "web-123",
        "web-250<b>&amp;</b>",
        "web-499",
        LONG_NAME,
    ]
    .into_iter()
    .map(|n| (n, element_anchor(&format!("dkr.container:{n}"))))
    .collect();
    let probe = MANY_PROBE.replace("CONTAINERS", &json!(containers).to_string());
    let (v, urls) = b.visit(&format!("file://{}", page.display()), &probe);
    let v: Value = serde_json::from_str(v.as_str().expect("probe returns JSON text")).unwrap();
    eprintln!(
        "500 containers: {} bytes, loaded in {:.0} ms, {} elements; element table {} characters, {} elements; threat targets {} characters, evidence tables {} characters, what bulkhead saw {} characters",
        html.len(),
        v["loadMs"].as_f64().unwrap(),
        v["elements"],
        v["tableBytes"],
        v["tableElements"],
        v["targetsBytes"],
        v["evidenceBytes"],
        v["seenBytes"]
    );
    // Every link of the page lands somewhere: the targets' and the evidence's links to a row of
    // the element table too.
    assert_eq!(v["linksNowhere"], json!([]), "{}", v["linksNowhere"]);
    assert!(v["pageLinks"].as_u64().unwrap() > 100, "{}", v["pageLinks"]);
    assert_eq!(v["anchors"], json!(500), "{v}");
    assert_eq!(v["distinctAnchors"], json!(500), "{v}");
    assert_eq!(
        v["markupInTable"],
        json!(0),
        "a name's markup became markup"
    );
    assert_eq!(v["tableLinksLand"], json!(true), "{v}");
    for (name, c) in v["containers"].as_object().unwrap() {
        assert_eq!(c["anchorInTable"], json!(true), "{name}: {c}");
        // The anchor is the container's row, or its name in a row it shares.
        assert!(
            c["anchorText"].as_str().unwrap().starts_with(name),
            "{name}: {c}"
        );
        assert_eq!(c["findHitsItsRow"], json!(true), "{name}: {c}");
        assert_eq!(c["linksLand"], json!(true), "{name}: {c}");
        let row = c["rowThreats"].as_array().unwrap();
        assert!(row.len() >= 5, "{name}: {c}");
        assert_eq!(c["rowThreats"], c["targetedBy"], "{name}");
        // The threats and the evidence name the 500 containers by their row, not one by one.
        assert!(c["targetsByRow"].as_u64().unwrap() >= 5, "{name}: {c}");
        assert!(c["evidenceByRow"].as_u64().unwrap() >= 5, "{name}: {c}");
        // 5.12 and 5.25 fail alike on every container: each finding names it in its one item.
        assert_eq!(c["seenIn"], json!(2), "{name}: {c}");
    }
    // Those two lists were 97,911 characters, one item per container; now one item each.
    assert!(
        v["seenBytes"].as_u64().unwrap() < 15_000,
        "{}",
        v["seenBytes"]
    );
    assert!(
        v["elements"].as_u64().unwrap() < 15_000,
        "{} elements",
        v["elements"]
    );
    assert_eq!(v["scripts"], json!(0));
    assert!(urls.iter().all(|u| u.starts_with("file://")), "{urls:?}");
    let (width, window, cut) = layout(&page, 718, "print");
    assert!(
        width <= window,
        "printed, the page is {width} px wide on a {window} px page"
    );
    assert!(cut.is_empty(), "printed, cut off at the margin: {cut:#?}");
}
