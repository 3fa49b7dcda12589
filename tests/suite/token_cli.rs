//! `agentload token mint|inspect`: the token a plan's user gets, and what it says.

use crate::common::*;

#[test]
fn mint_then_inspect_verifies_and_never_prints_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("p.toml");
    std::fs::write(
        &plan,
        "target = \"embedded\"\n[auth]\nsecret_env = \"IT_TOKEN_SECRET\"\nissuer = \"netra-auth-service\"\n\
         [[stages]]\nusers = 1\nduration = \"1s\"\n",
    )
    .unwrap();
    let minted = agentload()
        .args(["token", "mint"])
        .arg(&plan)
        .args(["--user", "7"])
        .env("IT_TOKEN_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(minted.status.success(), "{minted:?}");
    let jwt = String::from_utf8(minted.stdout).unwrap().trim().to_string();
    let claims = String::from_utf8_lossy(&minted.stderr);
    assert!(
        claims.contains("\"iss\": \"netra-auth-service\""),
        "{claims}"
    );
    assert!(claims.contains("\"sub\": \"u7-al"), "{claims}");

    let inspect = |secret: &str| {
        agentload()
            .args(["token", "inspect", &jwt, "--secret-env", "IT_TOKEN_SECRET"])
            .env("IT_TOKEN_SECRET", secret)
            .output()
            .unwrap()
    };
    let good = inspect(SECRET);
    let text = String::from_utf8_lossy(&good.stdout);
    assert_eq!(good.status.code(), Some(0), "{text}");
    assert!(
        text.contains("signature: valid") && text.contains("expires in"),
        "{text}"
    );
    let bad = inspect("a-different-secret-of-enough-length-000");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("INVALID"));
    for out in [&good, &bad] {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(SECRET));
    }
    let not_jwt = agentload()
        .args(["token", "inspect", "nope"])
        .output()
        .unwrap();
    assert_eq!(not_jwt.status.code(), Some(2));
}
