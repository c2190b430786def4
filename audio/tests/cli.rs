//! The `sfa` command as the server's worker and the benchmark drive it.

use std::{
    io::Write,
    os::unix::ffi::OsStrExt,
    process::{Command, Stdio},
};

/// `sfa analyze --stdin` answers every line, good or bad, in order, and a path is taken byte for byte:
/// trailing spaces kept, bytes that are not UTF-8 allowed.
#[test]
fn analyze_stdin_answers_every_path_and_takes_it_as_written() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/wav-s16-stereo-44100.wav");
    let spaced = dir.path().join("ends in a space.wav ");
    let odd = dir.path().join(std::ffi::OsStr::from_bytes(b"odd\xff.wav"));
    for copy in [&spaced, &odd] {
        std::fs::copy(&fixture, copy).expect("copied");
    }
    let mut input = Vec::new();
    for path in [dir.path().join("missing.wav").as_path(), &spaced, &odd, &fixture] {
        input.extend(path.as_os_str().as_bytes());
        input.push(b'\n');
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfa"))
        .args(["analyze", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sfa starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("written");
    let output = child.wait_with_output().expect("sfa ends");
    assert!(output.status.success());
    let answers: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON answer a line"))
        .collect();
    let kinds: Vec<&str> = answers
        .iter()
        .map(|a| {
            if a.get("analysis").is_some() {
                "analysis"
            } else {
                "error"
            }
        })
        .collect();
    assert_eq!(kinds, ["error", "analysis", "analysis", "analysis"]);
    assert_eq!(answers[1]["file"], spaced.to_str().expect("UTF-8"));
}
