//! Schema defaulting: which properties of an instance get a schema's `default`, worked out once
//! per embedded schema as a plan (`$ref`s resolved, subtrees without defaults left out), so
//! defaulting an object walks only the parts of it that can change.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

use super::documents::{DOCUMENTS, MAX_DEPTH, views, views_default};

/// Which present values defaulting replaces.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Unset {
    Absent,
    AbsentOrZero,
}

/// Schema nodes a plan may visit while it is built; far above what any embedded schema needs
/// (a test checks that), it bounds a schema whose `$ref`s recurse.
const MAX_PLAN_NODES: usize = 100_000;

/// What defaulting does at one schema node: the properties to default or descend into, in the
/// schema's order (a property may appear once per view of the node), and the plans for list
/// items.
#[derive(Debug, Default)]
pub(super) struct Plan {
    properties: Vec<Property>,
    items: Vec<Plan>,
}

#[derive(Debug)]
struct Property {
    name: String,
    default: Option<Value>,
    nested: Plan,
}

impl Plan {
    /// The plan of `node` in the document `root`.
    pub(super) fn build(root: &Value, node: &Value) -> Plan {
        let mut budget = MAX_PLAN_NODES;
        Plan::at(root, node, 0, &mut budget)
    }

    fn at(root: &Value, node: &Value, depth: usize, budget: &mut usize) -> Plan {
        let mut plan = Plan::default();
        if depth > MAX_DEPTH || *budget == 0 {
            return plan;
        }
        *budget -= 1;
        for (view_root, view) in views(root, node) {
            if let Some(props) = view.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    let default = views_default(view_root, sub).cloned();
                    let nested = Plan::at(view_root, sub, depth + 1, budget);
                    if default.is_some() || !nested.is_empty() {
                        plan.properties.push(Property {
                            name: name.clone(),
                            default,
                            nested,
                        });
                    }
                }
            }
            if let Some(items) = view.get("items") {
                let nested = Plan::at(view_root, items, depth + 1, budget);
                if !nested.is_empty() {
                    plan.items.push(nested);
                }
            }
        }
        plan
    }

    fn is_empty(&self) -> bool {
        self.properties.is_empty() && self.items.is_empty()
    }

    /// Fills `instance`: every planned property it lacks (or, with [`Unset::AbsentOrZero`], holds
    /// as a Go zero value) gets its default, then the properties it has are descended into.
    pub(super) fn apply(&self, instance: &mut Value, unset: Unset) {
        match instance {
            Value::Object(map) => {
                for p in &self.properties {
                    let replace = unset == Unset::AbsentOrZero && map.get(&p.name).is_some_and(is_go_zero);
                    if !map.contains_key(&p.name) || replace {
                        match &p.default {
                            Some(d) => {
                                map.insert(p.name.clone(), d.clone());
                            }
                            None => continue,
                        }
                    }
                    if let Some(child) = map.get_mut(&p.name) {
                        p.nested.apply(child, unset);
                    }
                }
            }
            Value::Array(elements) => {
                for plan in &self.items {
                    for element in elements.iter_mut() {
                        plan.apply(element, unset);
                    }
                }
            }
            _ => {}
        }
    }

    #[cfg(test)]
    fn nodes(&self) -> usize {
        1 + self.properties.iter().map(|p| p.nested.nodes()).sum::<usize>()
            + self.items.iter().map(Plan::nodes).sum::<usize>()
    }
}

fn is_go_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// The plan of every embedded document, by the document's address (they live as long as the
/// process and never move).
static PLANS: LazyLock<HashMap<usize, Plan>> = LazyLock::new(|| {
    DOCUMENTS
        .all()
        .map(|doc| (std::ptr::from_ref(doc) as usize, Plan::build(doc, doc)))
        .collect()
});

/// Fills `instance` from `schema`: with the cached plan when `schema` is an embedded document,
/// else with a plan built for this call.
pub(super) fn fill(schema: &Value, instance: &mut Value, unset: Unset) {
    match PLANS.get(&(std::ptr::from_ref(schema) as usize)) {
        Some(plan) => plan.apply(instance, unset),
        None => Plan::build(schema, schema).apply(instance, unset),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_embedded_schema_plans_within_the_node_budget() {
        for doc in DOCUMENTS.all() {
            let mut budget = MAX_PLAN_NODES;
            let plan = Plan::at(doc, doc, 0, &mut budget);
            assert!(budget > 0, "{:?} used the whole plan budget", doc.get("$id"));
            assert!(plan.nodes() <= MAX_PLAN_NODES);
        }
    }

    #[test]
    fn a_plan_leaves_out_subtrees_without_defaults() {
        let schema = json!({
            "properties": {
                "a": {"type": "string", "default": "x"},
                "plain": {"properties": {"deep": {"type": "string"}}},
                "list": {"items": {"properties": {"n": {"default": 1}}}},
            }
        });
        let plan = Plan::build(&schema, &schema);
        let names: Vec<&str> = plan.properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "list"]);
        let mut instance = json!({"plain": {"deep": ""}, "list": [{}, {"n": 0}]});
        plan.apply(&mut instance, Unset::AbsentOrZero);
        assert_eq!(
            instance,
            json!({"a": "x", "plain": {"deep": ""}, "list": [{"n": 1}, {"n": 1}]})
        );
    }

    #[test]
    fn a_recursive_reference_is_bounded() {
        let schema = json!({
            "$defs": {"node": {"properties": {
                "left": {"$ref": "#/$defs/node"}, "right": {"$ref": "#/$defs/node"},
                "v": {"default": 0}
            }}},
            "$ref": "#/$defs/node"
        });
        let mut budget = 1_000;
        let _ = Plan::at(&schema, &schema, 0, &mut budget);
        assert_eq!(budget, 0, "a tree that doubles per level stops at the budget");
    }
}
