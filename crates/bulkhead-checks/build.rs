//! Compiles the control catalog (TOML under `catalog/`, the form people edit and review) into
//! JSON embedded in the binary. Parsing ~300 KB of TOML prose cost about 2 ms of CPU on every
//! run of `bulkhead`, in the middle of a collection that competes with the Docker daemon for the
//! same cores; the same data as JSON reads several times faster. A syntax error fails the build
//! here, naming the file, line and column; the shape is checked when the JSON is read
//! (`catalog::load`, exercised by the catalog tests).

use std::fmt::Write as _;
use std::path::Path;

/// Catalog files in load order: each benchmark's `benchmark.toml`, then its controls in the
/// order `checks list` shows them.
const FILES: &[(&str, &[&str])] = &[
    (
        "cis-docker",
        &[
            "benchmark.toml",
            "section-1.toml",
            "section-2.toml",
            "section-3.toml",
            "section-4.toml",
            "section-5.toml",
            "section-6.toml",
            "section-7.toml",
        ],
    ),
    (
        "cis-kubernetes",
        &[
            "benchmark.toml",
            "master.toml",
            "etcd.toml",
            "controlplane.toml",
            "node.toml",
            "policies.toml",
        ],
    ),
];

fn main() {
    println!("cargo:rerun-if-changed=catalog");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir);
    let mut table = String::from("&[\n");
    for (dir, names) in FILES {
        std::fs::create_dir_all(out.join(dir)).expect("create the output directory");
        for name in *names {
            let source = Path::new("catalog").join(dir).join(name);
            println!("cargo:rerun-if-changed={}", source.display());
            let text = std::fs::read_to_string(&source)
                .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
            let value: toml::Table =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
            let json = serde_json::to_string(&value)
                .unwrap_or_else(|e| panic!("{}: cannot be written as JSON: {e}", source.display()));
            let target = out.join(dir).join(name.replace(".toml", ".json"));
            std::fs::write(&target, json).expect("write the compiled catalog");
            writeln!(
                table,
                "    ({dir:?}, {name:?}, include_str!({:?})),",
                target.display().to_string()
            )
            .unwrap();
        }
    }
    table.push(']');
    std::fs::write(out.join("catalog_files.rs"), table).expect("write the catalog file table");
}
