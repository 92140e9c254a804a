//! `no-ca-certificates` (issue 12) on real Debian bytes: bookworm's `openssl`
//! (links libssl.so.3) without a CA bundle, and its twin with Debian's
//! `ca-certificates` bundle; a static Go TLS client (Go 1.23, imports
//! `crypto/tls`) alone in a scratch-like image, and its twin with the bundle.

use crate::support::snapshot::{run, settings, whole};

#[test]
fn tls_client_without_ca_bundle_warns() {
    let text = run(&["fixtures/no-ca-certificates.tar"]);
    assert_eq!(text.code, 0, "{}", whole(&text));
    let json = run(&["fixtures/no-ca-certificates.tar", "--format", "json"]);
    assert_eq!(json.rules(), vec!["no-ca-certificates".to_string()]);
    settings().bind(|| {
        insta::assert_snapshot!("no_ca_certificates_text", whole(&text));
        insta::assert_snapshot!("no_ca_certificates_json", whole(&json));
    });
    // --fail-on warning makes it a gate.
    let gate = run(&["fixtures/no-ca-certificates.tar", "--fail-on", "warning"]);
    assert_eq!(gate.code, 1, "{}", whole(&gate));
}

#[test]
fn with_the_bundle_it_is_silent() {
    let r = run(&["fixtures/ca-certificates-ok.tar", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.rules().is_empty(), "{}", r.all());
}

#[test]
fn go_tls_client_without_ca_bundle_warns() {
    crate::support::snapshot::text_and_json("go_tls_no_ca", &["fixtures/go-tls-no-ca.tar"], 0);
    // The same verdict when the layer streams (the pclntab's file table is
    // kept while the bytes pass): from stdin.
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/go-tls-no-ca.tar"),
    )
    .unwrap();
    let r = crate::support::run::archscan(["-", "--format", "json"])
        .stdin(&bytes)
        .run();
    assert_eq!(
        r.rules(),
        vec!["no-ca-certificates".to_string()],
        "{}",
        r.all()
    );
}

#[test]
fn go_tls_client_with_the_bundle_is_silent() {
    let r = run(&["fixtures/go-tls-ca-ok.tar", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.rules().is_empty(), "{}", r.all());
    // A Go program that does not link crypto/tls says nothing without a bundle.
    let r = run(&["fixtures/go-arm64-in-amd64.tar", "--format", "json"]);
    assert!(
        !r.rules().contains(&"no-ca-certificates".to_string()),
        "{}",
        r.all()
    );
}
