//! Builds every plugin (`plugins/*`, but the SDK), every test guest (`tests/guests/*`) and the
//! SDK's plugin template (`plugins/sdk/template`) for `wasm32-wasip2`, so that a plain `cargo test` on a fresh clone has the components its tests
//! load, and writes their paths for `lib.rs`.
//!
//! The build runs a second cargo with its own target folder (`<target>/wasm-components`): the
//! cargo that runs this script holds the lock of the main one. `make plugins` runs this same
//! build and copies the plugins to `dist/plugins`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("tests/components sits two folders below the workspace root")
        .to_owned();
    for watched in [
        "plugins",
        "crates/abi",
        "crates/ottl",
        "crates/sampling",
        "wit",
        "tests/guests",
        "Cargo.lock",
        // The workspace manifest: its profiles and dependency versions.
        "Cargo.toml",
        ".cargo",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    // OUT_DIR is <target>[/<triple>]/<profile>/build/<package>-<hash>/out.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .expect("OUT_DIR is inside the target folder")
        .join("wasm-components");

    // The plugins ship; the test guests and the SDK's plugin template are built to be tested.
    let mut packages = Vec::new();
    for (folder, test_only) in [("plugins", false), ("tests/guests", true)] {
        for (package, dir) in packages_in(&root.join(folder)) {
            if package != "spanwise-sdk" {
                packages.push((package, dir, test_only));
            }
        }
    }
    for (package, dir) in packages_in(&root.join("plugins/sdk")) {
        packages.push((package, dir, true));
    }

    check_target_installed();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    for (package, _, _) in &packages {
        command.args(["-p", package]);
    }
    // The outer cargo's settings for native code must not leak into the guests' build.
    for variable in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
    ] {
        command.env_remove(variable);
    }
    let status = command
        .status()
        .expect("cannot run cargo to build the WebAssembly components");
    if !status.success() {
        panic!("building the WebAssembly components failed ({status}); see the errors above");
    }

    let wasm_dir = target_dir.join("wasm32-wasip2").join("release");
    let mut code = String::from(
        "/// Every component: (name, test-only, path).\npub const COMPONENTS: &[(&str, bool, &str)] = &[\n",
    );
    for (package, _, test_only) in &packages {
        let file = wasm_dir.join(format!("{}.wasm", package.replace('-', "_")));
        assert!(file.exists(), "{} was not built", file.display());
        let name = component_name(package);
        code.push_str(&format!(
            "    ({name:?}, {test_only}, {:?}),\n",
            file.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("components.rs"), code).expect("OUT_DIR is writable");
}

/// `spanwise-url` is `url`, `spanwise-guest-misbehave` is `misbehave`, `spanwise-head-sampler`
/// is `head_sampler`: the file name `make plugins` gives it in `dist/`.
fn component_name(package: &str) -> String {
    let name = package.strip_prefix("spanwise-").unwrap_or(package);
    let name = name.strip_prefix("guest-").unwrap_or(name);
    name.replace('-', "_")
}

/// The package name of every crate directly under `folder`, with its folder.
fn packages_in(folder: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return found;
    };
    for entry in entries.flatten() {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let name = text.lines().find_map(|line| {
            let value = line.trim().strip_prefix("name")?.trim().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_owned())
        });
        if let Some(name) = name {
            found.push((name, entry.path()));
        }
    }
    found.sort();
    found
}

/// Fail at once, with the command to run, when the target is missing.
fn check_target_installed() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot
        .map(|s| s.join("lib/rustlib/wasm32-wasip2").exists())
        .unwrap_or(false);
    if !installed {
        panic!(
            "the wasm32-wasip2 Rust target is not installed: run `rustup target add wasm32-wasip2` (or `make setup`)"
        );
    }
}
