//! A frame decoded in one pass into a tree that borrows its text: keys and strings point into
//! the frame (copied only when they hold escapes), objects are small vectors. The whole frame is
//! still parsed and validated; what `serde_json::Value` would allocate per key and per string,
//! and its sorted maps, are left out.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;

/// A JSON value borrowing its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Num(Number),
    Str(Cow<'a, str>),
    Arr(Vec<Val<'a>>),
    Obj(Fields<'a>),
}

/// One JSON object's fields in order; a key given twice keeps its last value (as serde_json's
/// `Value` does).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields<'a>(Vec<(Cow<'a, str>, Val<'a>)>);

impl<'a> Fields<'a> {
    /// The object `text` is; `Err` when it is not JSON or not an object.
    pub fn parse(text: &'a str) -> Result<Fields<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn get(&self, key: &str) -> Option<&Val<'a>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Val<'a>> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, replacing its value in place when it is there already.
    pub fn set(&mut self, key: Cow<'a, str>, value: Val<'a>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Whether a key is given twice (no frame of a well-behaved server has one). Small
    /// objects compare keys by length and end bytes first; large ones use a set, so a tool
    /// result with thousands of keys costs a pass, not their square.
    fn has_repeated_key(&self) -> bool {
        let keys = &self.0;
        if keys.len() > 16 {
            let mut seen = std::collections::HashSet::with_capacity(keys.len());
            return !keys.iter().all(|(k, _)| seen.insert(k.as_ref()));
        }
        let sig = |k: &str| {
            let b = k.as_bytes();
            (b.len(), b.first().copied(), b.last().copied())
        };
        (1..keys.len()).any(|i| {
            let (ki, si) = (&keys[i].0, sig(&keys[i].0));
            keys[..i].iter().any(|(kj, _)| sig(kj) == si && kj == ki)
        })
    }

    pub fn remove(&mut self, key: &str) -> Option<Val<'a>> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Val<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Moves every field of `other` over these (later ones winning).
    pub fn extend(&mut self, other: Fields<'a>) {
        for (k, v) in other.0 {
            self.set(k, v);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields as a `serde_json` map (for result checks, which read values as trees).
    pub fn to_map(&self) -> Map<String, Value> {
        self.0
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect()
    }
}

impl<'a> Val<'a> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The string, keeping its borrow of the frame.
    pub fn to_str(&self) -> Option<Cow<'a, str>> {
        match self {
            Val::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Val::Num(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Num(n) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Fields<'a>> {
        match self {
            Val::Obj(o) => Some(o),
            _ => None,
        }
    }

    /// Present and not null, an empty (or blank) string or an empty object.
    pub fn has_value(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Str(s) => !s.trim().is_empty(),
            Val::Obj(o) => !o.is_empty(),
            _ => true,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => Value::Number(n.clone()),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Arr(items) => Value::Array(items.iter().map(Val::to_value).collect()),
            Val::Obj(o) => Value::Object(o.to_map()),
        }
    }

    /// A string as it is, anything else as compact JSON.
    pub fn text(&self) -> String {
        match self {
            Val::Str(s) => s.to_string(),
            other => other.to_value().to_string(),
        }
    }

    /// A hash of what the value says, independent of key order in objects and of how strings
    /// were escaped: two copies of one event hash alike however the sender laid them out.
    pub fn hash_into(&self, h: &mut Hasher) {
        use std::hash::{Hash, Hasher as _};
        match self {
            Val::Null => h.write_u8(0),
            Val::Bool(b) => h.write_u8(1 + u8::from(*b)),
            Val::Num(n) => {
                h.write_u8(3);
                n.hash(h);
            }
            Val::Str(s) => {
                h.write_u8(4);
                h.write(s.as_bytes());
            }
            Val::Arr(items) => {
                h.write_u8(5);
                h.write_u64(items.len() as u64);
                items.iter().for_each(|i| i.hash_into(h));
            }
            Val::Obj(o) => {
                h.write_u8(6);
                h.write_u64(hash_fields(o, &[]));
            }
        }
    }
}

/// The fields' hash, in any order, leaving out `skip`.
pub fn hash_fields(fields: &Fields, skip: &[&str]) -> u64 {
    use std::hash::Hasher as _;
    fields
        .iter()
        .filter(|(k, _)| !skip.contains(k))
        .map(|(k, v)| {
            let mut h = Hasher::default();
            h.write(k.as_bytes());
            h.write_u8(0xff);
            v.hash_into(&mut h);
            h.finish()
        })
        .fold(0u64, u64::wrapping_add)
}

/// A fast 64-bit hash, 8 bytes a step with a multiply-xorshift mix (not for adversaries:
/// it tells one run's events apart).
#[derive(Default)]
pub struct Hasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher {
    fn mix(&mut self, word: u64) {
        let x = (self.0 ^ word).wrapping_mul(K);
        self.0 = x ^ (x >> 29);
    }
}

impl std::hash::Hasher for Hasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(tail) ^ ((bytes.len() as u64) << 56));
    }

    fn write_u8(&mut self, b: u8) {
        self.mix(u64::from(b) | 0x100);
    }

    fn write_u64(&mut self, v: u64) {
        self.mix(v);
        self.mix(0x200);
    }

    fn finish(&self) -> u64 {
        let x = (self.0 ^ (self.0 >> 32)).wrapping_mul(K);
        x ^ (x >> 29)
    }
}

/// A key, borrowed from the text unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(ValVisitor).and_then(|v| match v {
            Val::Str(s) => Ok(Key(s)),
            _ => Err(serde::de::Error::custom("a key that is not a string")),
        })
    }
}

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_map(ValVisitor)? {
            Val::Obj(fields) => Ok(fields),
            _ => Err(serde::de::Error::custom("not an object")),
        }
    }
}

impl<'de> Deserialize<'de> for Val<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_none<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Val<'de>, E> {
        Ok(Val::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val<'de>, E> {
        Ok(Val::Num(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val<'de>, E> {
        Ok(Val::Num(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Val<'de>, E> {
        Ok(Number::from_f64(v).map_or(Val::Null, Val::Num))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Val::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(Key(key)) = map.next_key()? {
            let value: Val<'de> = map.next_value()?;
            entries.push((key, value));
        }
        let fields = Fields(entries);
        match fields.has_repeated_key() {
            true => Ok(Val::Obj(last_wins(fields.0))),
            false => Ok(Val::Obj(fields)),
        }
    }
}

/// One field per key, at its first place, with its last value (as serde_json's `Value`).
fn last_wins<'a>(entries: Vec<(Cow<'a, str>, Val<'a>)>) -> Fields<'a> {
    let mut at: std::collections::HashMap<Cow<'a, str>, usize> =
        std::collections::HashMap::with_capacity(entries.len());
    let mut kept: Vec<(Cow<'a, str>, Val<'a>)> = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        match at.get(&key) {
            Some(&i) => kept[i].1 = value,
            None => {
                at.insert(key.clone(), kept.len());
                kept.push((key, value));
            }
        }
    }
    Fields(kept)
}

#[cfg(test)]
mod tests;
