//! Hostile objects of about a given size, one per shape that could make evaluation expensive:
//! huge maps, long lists, deep nesting, long strings, many wrong types. Each is a Cluster or
//! MachineDeployment the apiserver could send (at most its 3 MiB request limit).

use serde_json::{Map, Value, json};

use super::{cluster, machine_deployment};

/// The apiserver's largest request body: the largest object a review can carry (twice on UPDATE).
pub const APISERVER_MAX_OBJECT: usize = 3 * 1024 * 1024;

/// A hostile shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A map of wrong-typed entries (`spec.features` of strings instead of booleans).
    WrongTypedMap,
    /// A map of well-typed entries (annotations).
    HugeMap,
    /// A list of invalid entries the rules check one by one (pod CIDR blocks).
    LongInvalidList,
    /// A list of wrong-typed entries (numbers where CIDR strings go).
    WrongTypedList,
    /// Nested lists as deep as a JSON parser allows, over and over, in a free-form part.
    DeepNesting,
    /// One very long string in a field the rules check (the version).
    LongString,
    /// Many MachineDeployment fields of the wrong type, repeated in a wrong-typed list.
    ManyWrongTypes,
}

impl Shape {
    pub const ALL: [Shape; 7] = [
        Shape::WrongTypedMap,
        Shape::HugeMap,
        Shape::LongInvalidList,
        Shape::WrongTypedList,
        Shape::DeepNesting,
        Shape::LongString,
        Shape::ManyWrongTypes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shape::WrongTypedMap => "wrong-typed map",
            Shape::HugeMap => "huge map",
            Shape::LongInvalidList => "long invalid list",
            Shape::WrongTypedList => "wrong-typed list",
            Shape::DeepNesting => "deep nesting",
            Shape::LongString => "long string",
            Shape::ManyWrongTypes => "many wrong types",
        }
    }
}

/// How many `unit`-sized entries fill `size` bytes.
fn entries(size: usize, unit: usize) -> usize {
    (size / unit).max(1)
}

/// An object of `shape`, its JSON about `size` bytes (a little under).
pub fn object(shape: Shape, size: usize) -> Value {
    let room = size.saturating_sub(1024);
    match shape {
        Shape::WrongTypedMap => {
            let mut c = cluster();
            // `"f1234567":"yes",` is about 17 bytes.
            let features: Map<String, Value> = (0..entries(room, 17))
                .map(|i| (format!("f{i:07}"), json!("yes")))
                .collect();
            c["spec"]["features"] = Value::Object(features);
            c
        }
        Shape::HugeMap => {
            let mut c = cluster();
            let annotations: Map<String, Value> = (0..entries(room, 40))
                .map(|i| (format!("example.com/a{i:07}"), json!(format!("value-{i:07}"))))
                .collect();
            c["metadata"]["annotations"] = Value::Object(annotations);
            c
        }
        Shape::LongInvalidList => {
            let mut c = cluster();
            let blocks: Vec<Value> = (0..entries(room, 13)).map(|i| json!(format!("x{i:08}"))).collect();
            c["spec"]["clusterNetwork"] = json!({"pods": {"cidrBlocks": blocks}});
            c
        }
        Shape::WrongTypedList => {
            let mut c = cluster();
            let blocks: Vec<Value> = (0..entries(room, 9)).map(|i| json!(10_000_000 + i)).collect();
            c["spec"]["clusterNetwork"] = json!({"pods": {"cidrBlocks": blocks}});
            c
        }
        Shape::DeepNesting => {
            let mut md = machine_deployment();
            // 100 levels of `[` ... `]` is 200 bytes; the apiserver's and our parser stop at 128.
            let mut one = json!(1);
            for _ in 0..100 {
                one = Value::Array(vec![one]);
            }
            let copies = entries(room, 202);
            md["spec"]["template"]["spec"]["providerSpec"]["value"]["cloudProviderSpec"]["deep"] =
                Value::Array(vec![one; copies]);
            md
        }
        Shape::LongString => {
            let mut c = cluster();
            c["spec"]["version"] = json!("1".repeat(room));
            c
        }
        Shape::ManyWrongTypes => {
            let mut md = machine_deployment();
            let wrong = json!({"key": 1, "operator": 2, "values": "not-a-list"});
            md["spec"]["selector"]["matchExpressions"] = Value::Array(vec![wrong; entries(room, 48)]);
            md["spec"]["replicas"] = json!("three");
            md["spec"]["paused"] = json!("no");
            md
        }
    }
}
