//! Reading and validating fields of a JSON object body.

use serde_json::{Map, Value};

/// One field of a JSON object, as seed 002 distinguishes them.
#[derive(Debug, PartialEq, Eq)]
pub enum Field<'a> {
    Missing,
    Null,
    Text(&'a str),
    WrongType,
}

pub fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Field<'a> {
    match body.get(name) {
        None => Field::Missing,
        Some(Value::Null) => Field::Null,
        Some(Value::String(s)) => Field::Text(s),
        Some(_) => Field::WrongType,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_tell_missing_null_and_wrong_type_apart() {
        let body = json!({"a": null, "b": "x", "c": 5});
        let map = body.as_object().unwrap();
        assert_eq!(field(map, "a"), Field::Null);
        assert_eq!(field(map, "b"), Field::Text("x"));
        assert_eq!(field(map, "c"), Field::WrongType);
        assert_eq!(field(map, "d"), Field::Missing);
    }
}
