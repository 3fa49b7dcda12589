//! Small value types of the plan: durations, percentages, the `target` shorthand.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// A duration written as `"500ms"`, `"30s"`, `"2m"`, `"1h"`, `"1m30s"` or a bare number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub Duration);

impl Dur {
    pub const fn from_secs(s: u64) -> Dur {
        Dur(Duration::from_secs(s))
    }
    pub const fn from_millis(ms: u64) -> Dur {
        Dur(Duration::from_millis(ms))
    }
}

/// The longest duration a plan may give: a year. Longer ones would overflow the clocks they
/// are added to (an `Instant`, a token's expiry) and panic.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// Parses `"1m30s"`, `"250ms"`, `"2h"`, `"45"` (seconds), up to a year.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let parsed = parse_any_duration(text)?;
    if parsed > MAX_DURATION {
        return Err(format!(
            "`{}` is longer than a year: give a shorter duration",
            text.trim()
        ));
    }
    Ok(parsed)
}

fn parse_any_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad =
        || format!("`{text}` is not a duration: write a number with ms, s, m or h, like \"30s\"");
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        let part = Duration::try_from_secs_f64(number * scale).map_err(|_| bad())?;
        total = total.checked_add(part).ok_or_else(bad)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"30s\", \"500ms\" or \"2m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                let secs =
                    u64::try_from(v).map_err(|_| E::custom("a duration can not be negative"))?;
                parse_duration(&secs.to_string())
                    .map(Dur)
                    .map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                parse_duration(&v.to_string()).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A percentage written as `"5%"`, `"0.5%"` or a bare number (percent).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Percent(pub f64);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a percentage such as \"5%\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Percent, E> {
                let n: f64 = v.trim().trim_end_matches('%').trim().parse().map_err(|_| {
                    E::custom(format!("`{v}` is not a percentage: write it like \"5%\""))
                })?;
                self.visit_f64(n)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
                if (0.0..=100.0).contains(&v) {
                    Ok(Percent(v))
                } else {
                    Err(E::custom(format!("{v}% is outside 0..100")))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A size written as `"10MB"`, `"512KiB"`, `"1.5GB"` or a bare number of bytes.
/// KB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Bytes(pub f64);

pub fn parse_bytes(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let number: f64 = t[..split]
        .parse()
        .map_err(|_| format!("`{text}` is not a size: write it like \"10MB\" or \"512KiB\""))?;
    let scale = match t[split..].trim() {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        unit => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (B, KB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    match (number * scale).is_finite() {
        true => Ok(number * scale),
        false => Err(format!("`{text}` is too large a size")),
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"10MB\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
                parse_bytes(v).map(Bytes).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bytes, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bytes, E> {
                match v.is_finite() && v >= 0.0 {
                    true => Ok(Bytes(v)),
                    false => Err(E::custom(format!("{v} is not a size of bytes"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Replaces each `${NAME}` with the env var's value, `${NAME:-default}` with the default when
/// the variable is unset or empty; `$${` is a literal `${`. An unset variable with no default
/// is an error naming it.
pub fn expand_env(text: &str) -> Result<String, String> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if rest[..start].ends_with('$') {
            // `$${`: the text `${`, no variable.
            out.push_str(&rest[..start - 1]);
            out.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`{text}`: `${{` without a closing `}}`"))?;
        let (name, default) = match after[..end].split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (&after[..end], None),
        };
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`${{{name}}}` is not an env var name (letters, digits, _; write $${{ for a literal ${{)"
            ));
        }
        let value = match (std::env::var(name), default) {
            (Ok(v), Some(d)) if v.is_empty() => d.to_string(),
            (Ok(v), _) => v,
            (Err(_), Some(d)) => d.to_string(),
            (Err(_), None) => {
                return Err(format!(
                    "env var {name} is not set (the plan reads it as ${{{name}}}; \
                     ${{{name}:-default}} gives a default)"
                ))
            }
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A URL of one of `schemes`; the problem with it, for a plan error.
pub fn check_url(url: &str, schemes: &[&str]) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if schemes.contains(&parsed.scheme()) {
        Ok(())
    } else {
        Err(format!(
            "`{url}`: scheme must be one of {}",
            schemes.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_expand() {
        assert_eq!(
            expand_env("https://x.test/ws").unwrap(),
            "https://x.test/ws"
        );
        let path = std::env::var("PATH").unwrap();
        assert_eq!(expand_env("a${PATH}b").unwrap(), format!("a{path}b"));
        let err = expand_env("${AGENTLOAD_SURELY_UNSET_URL}/ws").unwrap_err();
        assert!(
            err.contains("env var AGENTLOAD_SURELY_UNSET_URL is not set"),
            "{err}"
        );
        assert!(expand_env("${OPEN").is_err());
        assert_eq!(
            expand_env("${AGENTLOAD_SURELY_UNSET_URL:-http://x}/ws").unwrap(),
            "http://x/ws"
        );
        assert_eq!(expand_env("a$${PATH}b").unwrap(), "a${PATH}b");
        assert_eq!(expand_env("${PATH:-no}").unwrap(), path);
        assert!(expand_env("${BAD NAME}").is_err());
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_bytes("10MB").unwrap(), 10e6);
        assert_eq!(parse_bytes("512KiB").unwrap(), 524288.0);
        assert_eq!(parse_bytes("2048").unwrap(), 2048.0);
        assert!(parse_bytes("10 parsecs").is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        for bad in [
            "",
            "s",
            "10 parsecs",
            "-1",
            "5x",
            "1e308",
            "nan",
            "inf",
            "-inf",
            "1e300h",
            "400d",
            "9999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} parsed");
        }
    }
}
