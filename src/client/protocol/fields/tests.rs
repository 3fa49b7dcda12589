use super::*;
use serde_json::json;

#[test]
fn a_frame_decodes_as_a_value_tree_reads_it() {
    let value = json!({"s": "a\"b", "plain": "x", "n": 7, "neg": -2, "f": 2.5, "z": null,
        "t": true, "blank": "  ", "o": {}, "full": {"k": 1}, "a": [1, "b", [null]]});
    let text = value.to_string();
    let f = Fields::parse(&text).unwrap();
    assert_eq!(f.get("s").and_then(Val::as_str), Some("a\"b"));
    assert!(matches!(f.get("plain"), Some(Val::Str(Cow::Borrowed("x")))));
    assert_eq!(f.get("n").and_then(Val::as_str), None);
    assert_eq!(f.get("n").and_then(Val::as_u64), Some(7));
    assert_eq!(f.get("f").and_then(Val::as_u64), None);
    let present: Vec<bool> = ["s", "n", "z", "blank", "o", "full", "a"]
        .iter()
        .map(|k| f.get(k).unwrap().has_value())
        .collect();
    assert_eq!(present, [true, true, false, false, false, true, true]);
    assert_eq!(f.get("full").unwrap().text(), r#"{"k":1}"#);
    assert_eq!(f.get("s").unwrap().text(), "a\"b");
    assert_eq!(Value::Object(f.to_map()), value);
}

#[test]
fn a_repeated_key_keeps_its_last_value_and_bad_text_is_an_error() {
    let f = Fields::parse(r#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
    assert_eq!(f.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(f.get("a").and_then(Val::as_u64), Some(3));
    // The same in an object too large to compare keys pairwise.
    let mut big: Vec<String> = (0..2000).map(|i| format!(r#""k{i}": {i}"#)).collect();
    big.push(r#""k7": "last""#.into());
    let text = format!("{{{}}}", big.join(","));
    let f = Fields::parse(&text).unwrap();
    assert_eq!(f.iter().count(), 2000);
    assert_eq!(f.get("k7").and_then(Val::as_str), Some("last"));
    assert_eq!(f.iter().nth(7).map(|(k, _)| k), Some("k7"));
    assert_eq!(
        Value::Object(f.to_map()),
        serde_json::from_str::<Value>(&text).unwrap()
    );
    let data = |text| Fields::parse(text).unwrap_err().classify();
    use serde_json::error::Category;
    assert_eq!(data("[1]"), Category::Data);
    assert_eq!(data(r#"{"a": }"#), Category::Syntax);
    assert_eq!(data(r#"{"a": 1} x"#), Category::Syntax);
    assert_eq!(data(r#"{"a": 1"#), Category::Eof);
}

#[test]
fn hashes_ignore_key_order_and_escapes_but_not_content() {
    let hash = |text: &str| hash_fields(&Fields::parse(text).unwrap(), &["timestamp"]);
    let a = hash(r#"{"x": "ab", "o": {"p": 1, "q": [1, 2]}, "timestamp": 1}"#);
    let b = hash(r#"{"o": {"q": [1,2], "p": 1}, "x": "a\u0062", "timestamp": 2}"#);
    assert_eq!(a, b);
    for other in [
        r#"{"x": "ab", "o": {"p": 1, "q": [2, 1]}}"#,
        r#"{"x": "ab", "o": {"p": 2, "q": [1, 2]}}"#,
        r#"{"x": "ab", "o": {"p": "1", "q": [1, 2]}}"#,
        r#"{"x": "ba", "o": {"p": 1, "q": [1, 2]}}"#,
        r#"{"y": "ab", "o": {"p": 1, "q": [1, 2]}}"#,
        r#"{"x": "ab", "o": {"p": 1, "q": [1, 2]}, "extra": null}"#,
    ] {
        assert_ne!(a, hash(other), "{other}");
    }
}
