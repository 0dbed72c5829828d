//! Puts the built console inside the binary: every file of Trunk's output (`dist/` at the
//! workspace root, or `VSCP_CONSOLE_DIR`) as it is, and the compressible ones also as brotli
//! and gzip, made here once so a starting proxy has nothing to compress. Without a built
//! console the list is empty and the proxy says how to build one.
//!
//! The folder is looked at again when `VSCP_CONSOLE_DIR` changes or, once it exists, when a
//! file in it changes (`./x` sets the variable, so a console built by `./x` is always taken).
//!
//! Also names the build for `--version`: the version, the commit (`VSCP_COMMIT`, else git's
//! HEAD, else `unknown`) and the target.

use std::{
    env, fs,
    io::Write,
    path::{Path, PathBuf},
};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=VSCP_CONSOLE_DIR");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!(
        "cargo:rustc-env=VSCP_VERSION_LINE={} (commit {}, {})",
        env::var("CARGO_PKG_VERSION").expect("set by cargo"),
        commit(&manifest.join("..")),
        env::var("TARGET").expect("set by cargo")
    );
    let dir = env::var_os("VSCP_CONSOLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../dist"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let mut code = String::from("&[\n");
    if dir.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .expect("console folder")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("file name");
            if name.starts_with('.') {
                continue;
            }
            let raw = fs::read(&path).expect("console file");
            let packed = compressible(&path).then(|| {
                let br = out.join(format!("{name}.br"));
                let gz = out.join(format!("{name}.gz"));
                fs::write(&br, brotli(&raw)).expect("write");
                fs::write(&gz, gzip(&raw)).expect("write");
                (br, gz)
            });
            let (br, gz) = match &packed {
                Some((br, gz)) => (
                    format!("Some(include_bytes!({:?}))", br.display().to_string()),
                    format!("Some(include_bytes!({:?}))", gz.display().to_string()),
                ),
                None => ("None".into(), "None".into()),
            };
            code.push_str(&format!(
                "    Asset {{ name: {name:?}, raw: include_bytes!({:?}), br: {br}, gzip: {gz} }},\n",
                path.canonicalize().expect("path").display().to_string()
            ));
        }
    }
    code.push(']');
    fs::write(out.join("console.rs"), code).expect("write console.rs");
}

/// The commit the binary is built from: `VSCP_COMMIT`, else git's HEAD (looked at again
/// when HEAD or the branch it names moves).
fn commit(workspace: &Path) -> String {
    println!("cargo:rerun-if-env-changed=VSCP_COMMIT");
    if let Ok(c) = env::var("VSCP_COMMIT") {
        return c;
    }
    let git = workspace.join(".git");
    if let Ok(head) = fs::read_to_string(git.join("HEAD")) {
        println!("cargo:rerun-if-changed={}", git.join("HEAD").display());
        // a branch's commit is in its own file, or in packed-refs (a missing file would
        // make cargo run this script on every build)
        if let Some(branch) = head.trim().strip_prefix("ref: ") {
            for file in [git.join(branch), git.join("packed-refs")] {
                if file.is_file() {
                    println!("cargo:rerun-if-changed={}", file.display());
                }
            }
        }
    }
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(workspace)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Text and wasm are worth compressing; images and fonts already are.
fn compressible(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("wasm" | "js" | "mjs" | "css" | "json" | "svg" | "txt" | "xml" | "html")
    )
}

fn brotli(raw: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params).expect("brotli");
    out
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(raw).expect("gzip");
    gz.finish().expect("gzip")
}
